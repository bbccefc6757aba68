"""Shape operations compared with torch: results, view semantics, gradients and errors."""
# ruff: noqa: B023 - check_op calls each lambda at once, inside the loop iteration that made it

import numpy as np
import pytest
from helpers import check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(
    "shape,new",
    [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)), ((6,), (1, 6, 1)), ((), (1,)), ((1,), ())],
)
def test_view_reshape(shape, new):
    x = randn(*shape)
    if new:
        check_op(lambda lib, t: t.view(*new), x)
    check_op(lambda lib, t: t.view(new), x)
    check_op(lambda lib, t: t.reshape(new), x)
    check_op(lambda lib, t: lib.reshape(t, new), x)
    check_op(lambda lib, t: (t * 2).reshape(new), x)


def test_view_shares_memory_and_reshape_copies_when_needed():
    x = ember.arange(6.0).reshape(2, 3)
    v = x.view(3, 2)
    v[0, 0] = 100.0
    assert x[0, 0].item() == 100.0 and v._version is x._version
    r = x.t().reshape(6)
    r[0] = -1.0
    assert x[0, 0].item() == 100.0
    r2 = x.reshape(3, 2)
    r2[2, 1] = 7.0
    assert x[1, 2].item() == 7.0
    check_raises(lambda lib, t: t.t().view(6), np.ones((2, 3)))
    check_op(lambda lib, t: t.t().reshape(6), randn(2, 3))
    check_op(lambda lib, t: t.view_as(lib.ones(3, 2)), randn(2, 3))
    check_op(lambda lib, t: t.reshape_as(lib.ones(6)), randn(2, 3))


def test_view_errors():
    check_raises(lambda lib, t: t.view(4, 2), np.ones((2, 3)))
    check_raises(lambda lib, t: t.view(-1, -1), np.ones((2, 3)))
    check_raises(lambda lib, t: t.reshape(4, -1), np.ones((2, 3)))
    check_raises(lambda lib, t: t.reshape(0, -1), np.ones((2, 3)))
    check_raises(lambda lib, t: t.view(-2, 3), np.ones((2, 3)))


def test_flatten_unflatten():
    x = randn(2, 3, 4, 5)
    check_op(lambda lib, t: t.flatten(), x)
    check_op(lambda lib, t: t.flatten(1), x)
    check_op(lambda lib, t: lib.flatten(t, 1, 2), x)
    check_op(lambda lib, t: t.flatten(-3, -2), x)
    check_op(lambda lib, t: t.flatten(), np.array(3.0))
    check_op(lambda lib, t: t.unflatten(1, (3, 1)), randn(2, 3))
    check_op(lambda lib, t: t.unflatten(-1, (2, -1)), randn(2, 6))
    check_op(lambda lib, t: lib.unflatten(t, 0, (1, 2)), randn(2, 6))
    check_raises(lambda lib, t: t.flatten(2, 1), x)
    check_raises(lambda lib, t: t.unflatten(1, (4, 2)), randn(2, 6))


def test_squeeze_unsqueeze():
    x = randn(1, 3, 1, 2)
    check_op(lambda lib, t: t.squeeze(), x)
    check_op(lambda lib, t: t.squeeze(0), x)
    check_op(lambda lib, t: t.squeeze(1), x)
    check_op(lambda lib, t: t.squeeze(-2), x)
    check_op(lambda lib, t: t.squeeze((0, 2)), x)
    check_op(lambda lib, t: lib.squeeze(t, (0, 1)), x)
    check_op(lambda lib, t: t.squeeze(0), np.array(2.0))
    for d in [0, 2, 4, -1, -5]:
        check_op(lambda lib, t: t.unsqueeze(d), x)
    check_op(lambda lib, t: t.unsqueeze(0), np.array(2.0))
    check_raises(lambda lib, t: t.unsqueeze(5), x)
    check_raises(lambda lib, t: t.squeeze(4), x)


def test_permute_transpose_family():
    x = randn(2, 3, 4)
    check_op(lambda lib, t: t.permute(2, 0, 1), x)
    check_op(lambda lib, t: t.permute((1, 2, 0)), x)
    check_op(lambda lib, t: lib.permute(t, (-1, 0, 1)), x)
    check_op(lambda lib, t: t.transpose(0, 2), x)
    check_op(lambda lib, t: lib.transpose(t, -1, -2), x)
    check_op(lambda lib, t: t.swapaxes(0, 1), x)
    check_op(lambda lib, t: lib.swapdims(t, 2, 1), x)
    check_op(lambda lib, t: t.mT, x)
    check_op(lambda lib, t: t.t(), randn(2, 3))
    check_op(lambda lib, t: lib.t(t), randn(3))
    check_op(lambda lib, t: t.T, randn(2, 3))
    check_raises(lambda lib, t: t.permute(0, 1), x)
    check_raises(lambda lib, t: t.permute(0, 1, 1), x)
    check_raises(lambda lib, t: t.transpose(0, 3), x)
    check_raises(lambda lib, t: t.t(), x)


def test_movedim():
    x = randn(2, 3, 4, 5)
    check_op(lambda lib, t: t.movedim(0, -1), x)
    check_op(lambda lib, t: lib.movedim(t, (0, 1), (2, 0)), x)
    check_op(lambda lib, t: lib.moveaxis(t, -1, 1), x)
    check_op(lambda lib, t: t.moveaxis([1, 3], [0, 1]), x)
    check_raises(lambda lib, t: t.movedim((0, 1), (1,)), x)
    check_raises(lambda lib, t: t.movedim((0, 0), (1, 2)), x)
    check_raises(lambda lib, t: t.movedim(0, 4), x)


def test_expand():
    x = randn(3, 1)
    check_op(lambda lib, t: t.expand(3, 4), x)
    check_op(lambda lib, t: t.expand(2, -1, 4), x)
    check_op(lambda lib, t: t.expand((2, 3, 5)), x)
    check_op(lambda lib, t: t.expand_as(lib.ones(2, 3, 2)), x)
    check_op(lambda lib, t: t.expand(4), np.array(1.5))
    check_raises(lambda lib, t: t.expand(4, 4), x)
    check_raises(lambda lib, t: t.expand(4), x)
    check_raises(lambda lib, t: t.expand(-1, 3, 1), x)


def test_repeat_tile():
    x = randn(2, 3)
    check_op(lambda lib, t: t.repeat(2, 3), x)
    check_op(lambda lib, t: t.repeat(2, 1, 2), x)
    check_op(lambda lib, t: t.repeat((1, 1)), x)
    check_op(lambda lib, t: t.repeat(0, 2), x)
    check_op(lambda lib, t: t.repeat(3), np.array(2.0))
    check_op(lambda lib, t: t.tile((2,)), x)
    check_op(lambda lib, t: lib.tile(t, (2, 1, 2)), x)
    check_raises(lambda lib, t: t.repeat(2), x)
    gradgradcheck(lambda t: t.repeat(2, 2) ** 2, randn(2, 3, dtype=np.float64))


def test_repeat_interleave():
    x = randn(2, 3)
    check_op(lambda lib, t: t.repeat_interleave(2), x)
    check_op(lambda lib, t: lib.repeat_interleave(t, 3, dim=1), x)
    check_op(lambda lib, t: t.repeat_interleave(lib.tensor([1, 2]), dim=0), x)


def test_contiguous_clone():
    x = randn(2, 3)
    check_op(lambda lib, t: t.t().contiguous(), x)
    e = ember.tensor(x)
    assert e.contiguous() is e
    assert e.t().contiguous().is_contiguous()
    check_op(lambda lib, t: t.clone(), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim):
    a, b, c = randn(2, 3), randn(2, 3), randn(2, 3)
    check_op(lambda lib, x, y, z: lib.cat([x, y, z], dim), a, b, c)
    check_op(lambda lib, x, y, z: lib.stack((x, y, z), dim), a, b, c)
    check_op(lambda lib, x, y: lib.stack([x, y], dim=2), a, b)
    check_op(lambda lib, x, y: lib.concat([x, y], dim=dim), a, b)


def test_stack_records_torchs_node_and_promotes_dtypes():
    import torch

    a, b = randn(2, 3), randn(2, 3)
    check_op(lambda lib, x, y: lib.stack([x, y.double()], 1), a, b)  # float32 + float64: float64, both gradients
    check_op(lambda lib, x, y: lib.stack([x, y], 0), np.arange(3), randn(3))
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        assert type(lib.stack([x, x * 2])).__name__ == "Tensor"
        assert lib.stack([x, x * 2]).grad_fn.name() == "StackBackward0"


def test_stack_gradcheck_float64():
    a = ember.tensor(randn(2, 3).astype(np.float64), requires_grad=True)
    b = ember.tensor(randn(2, 3).astype(np.float64), requires_grad=True)
    for dim in (0, 1, -1):
        assert ember.autograd.gradcheck(lambda x, y: ember.stack([x, y * 2, x], dim), (a, b))
        assert ember.autograd.gradgradcheck(lambda x, y: ember.stack([x * y, y], dim), (a, b))


def test_cat_shapes_dtypes_and_errors():
    check_op(lambda lib, x, y: lib.cat([x, y], 1), randn(2, 3), randn(2, 1))
    check_op(lambda lib, x, y: lib.cat([x, y]), randn(2, 3), np.zeros(0, np.float32))
    check_op(lambda lib, x, y: lib.cat([x, y]), np.arange(3), randn(2))
    check_op(lambda lib, x, y: lib.cat([x, y]), np.arange(3, dtype=np.int32), np.array([True]))
    check_raises(lambda lib, x, y: lib.cat([x, y]), randn(2, 3), randn(2, 2))
    check_raises(lambda lib, x, y: lib.cat([x, y]), randn(2, 3), randn(3))
    check_raises(lambda lib, x, y: lib.cat([x, y], 2), randn(2, 3), randn(2, 3))
    check_raises(lambda lib, x: lib.cat([x, x]), np.array(1.0))
    check_raises(lambda lib: lib.cat([]))
    check_raises(lambda lib, x, y: lib.stack([x, y]), randn(2, 3), randn(3, 2))
    check_raises(lambda lib, x, y: lib.stack([x, y], 3), randn(2, 3), randn(2, 3))


def test_hstack_vstack_dstack():
    a1, b1 = randn(3), randn(3)
    a2, b2 = randn(2, 3), randn(2, 3)
    for name in ["hstack", "vstack", "dstack", "column_stack", "row_stack"]:
        check_op(lambda lib, x, y: getattr(lib, name)([x, y]), a1, b1)
        check_op(lambda lib, x, y: getattr(lib, name)((x, y)), a2, b2)
    check_op(lambda lib, x: lib.atleast_2d(x), np.array(1.0))
    check_op(lambda lib, x: lib.atleast_3d(x), randn(2, 3))
    check_op(lambda lib, x: lib.atleast_1d(x), np.array(1.0))


@pytest.mark.parametrize("size", [1, 2, 3, 5, [1, 4], [2, 0, 3]])
def test_split(size):
    x = randn(5, 4)
    check_op(lambda lib, t: t.split(size), x)
    check_op(lambda lib, t: lib.split(t, size, 0), x)
    if isinstance(size, int):
        check_op(lambda lib, t: t.split(size, dim=1), x)


def test_split_chunk_unbind_errors_and_grads():
    x = randn(5, 4)
    for n in [1, 2, 3, 4, 6]:
        check_op(lambda lib, t: t.chunk(n), x)
        check_op(lambda lib, t: lib.chunk(t, n, dim=-1), x)
    check_op(lambda lib, t: t.unbind(), x)
    check_op(lambda lib, t: lib.unbind(t, 1), x)
    check_op(lambda lib, t: t.split_with_sizes([2, 3]), x)
    check_op(lambda lib, t: lib.tensor_split(t, 3), x)
    check_op(lambda lib, t: t.tensor_split([1, 3], dim=1), x)
    check_op(lambda lib, t: t.unbind(0)[1] * 2 + t.split(2)[2].sum(), x)
    check_raises(lambda lib, t: t.split([2, 2]), x)
    check_raises(lambda lib, t: t.chunk(0), x)
    check_raises(lambda lib, t: t.unbind(2), x)
    check_raises(lambda lib, t: t.unbind(), np.array(1.0))


def test_narrow_select():
    x = randn(4, 5)
    check_op(lambda lib, t: t.narrow(1, 1, 3), x)
    check_op(lambda lib, t: lib.narrow(t, 0, -2, 2), x)
    check_op(lambda lib, t: t.select(1, -1), x)
    check_op(lambda lib, t: lib.select(t, 0, 2), x)
    check_raises(lambda lib, t: t.narrow(1, 3, 3), x)
    check_raises(lambda lib, t: t.narrow(1, 6, 0), x)
    check_raises(lambda lib, t: t.narrow(1, 0, -1), x)
    check_raises(lambda lib, t: t.select(0, 4), x)
    gradgradcheck(lambda t: t.narrow(1, 1, 2) ** 2, randn(3, 4, dtype=np.float64))
    gradgradcheck(lambda t: t.select(0, 1) ** 2, randn(3, 4, dtype=np.float64))


def test_flip_roll():
    x = randn(3, 4, 2)
    check_op(lambda lib, t: t.flip(0), x)
    check_op(lambda lib, t: t.flip(0, 2), x)
    check_op(lambda lib, t: lib.flip(t, (-1, 1)), x)
    check_op(lambda lib, t: lib.flip(t, [0]), x)
    check_op(lambda lib, t: lib.fliplr(t), x)
    check_op(lambda lib, t: t.flipud(), x)
    check_op(lambda lib, t: t.roll(1), x)
    check_op(lambda lib, t: t.roll(-2, 1), x)
    check_op(lambda lib, t: lib.roll(t, (1, 5), (0, 2)), x)
    check_op(lambda lib, t: lib.roll(t, shifts=3, dims=-1), x)
    check_raises(lambda lib, t: t.flip(0, 0), x)
    check_raises(lambda lib, t: t.flip(3), x)
    check_raises(lambda lib, t: lib.fliplr(t), randn(3))
    check_raises(lambda lib, t: t.roll((1, 2), 0), x)
    gradgradcheck(lambda t: t.roll(1, 0).flip(1) ** 2, randn(3, 4, dtype=np.float64))


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_hypothesis_permute_and_reshape(shape, data):
    x = randn(*shape)
    perm = data.draw(st.permutations(range(len(shape))))
    check_op(lambda lib, t: t.permute(*perm).reshape(-1), x)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda lib, t: lib.cat([t, t * 2], d).flip(d), x)
    check_op(lambda lib, t: t.unsqueeze(d).movedim(d, 0).squeeze(), x)


def test_gradcheck_shapes():
    x = randn(2, 3, dtype=np.float64)
    gradcheck(lambda t: ember.stack([t, t * t], 1), x)
    gradcheck(lambda t: ember.cat([t, t.flip(0)], 1).roll(1, 1), x)
    gradcheck(lambda t: t.repeat(2, 2).tile((1, 2)), x)
    gradcheck(lambda t: t.expand(4, 2, 3).permute(2, 0, 1), x)
    gradgradcheck(lambda t: ember.stack(t.unbind(1), 0) ** 2, x)
    gradgradcheck(lambda t: t.expand(2, 2, 3) ** 2, x)

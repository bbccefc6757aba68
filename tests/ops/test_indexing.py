"""Indexing, assignment and the index/gather/scatter family compared with torch."""

import re

import numpy as np
import pytest
import torch
from helpers import check_op, check_raises, gradcheck, gradgradcheck, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def idx(lib, *values):
    return lib.tensor(list(values))


# Each key is built per library so tensors in it are that library's tensors.
GETITEM_KEYS = [
    lambda lib: 1,
    lambda lib: -1,
    lambda lib: slice(1, 3),
    lambda lib: slice(None, None, 2),
    lambda lib: (Ellipsis, 0),
    lambda lib: (None, 1),
    lambda lib: (slice(None), None, 2),
    lambda lib: (0, slice(1, None), -1),
    lambda lib: Ellipsis,
    lambda lib: (Ellipsis, None),
    lambda lib: [0, 2, 2],
    lambda lib: lib.tensor([0, 2, 0, 1]),
    lambda lib: lib.tensor([[0, 1], [2, 2]]),
    lambda lib: (lib.tensor([0, 1]), lib.tensor([2, 2])),
    lambda lib: (slice(None), lib.tensor([1, 1, 0])),
    lambda lib: (lib.tensor([0, 2]), slice(None), lib.tensor([1, 0])),
    lambda lib: (lib.tensor([0, 2]), 1),
    lambda lib: (Ellipsis, lib.tensor([1, 1])),
    lambda lib: (None, lib.tensor([0, 0]), None),
    lambda lib: lib.tensor([True, False, True]),
    lambda lib: (slice(None), lib.tensor([True, False, True, True])),
    lambda lib: lib.tensor(1),
    lambda lib: (lib.tensor(2), lib.tensor([0, 3])),
    lambda lib: lib.tensor([0, 1], dtype=lib.int32),
    lambda lib: (lib.tensor([[0], [2]]), lib.tensor([[1, 2, 3]])),
]


@pytest.mark.parametrize("k", range(len(GETITEM_KEYS)))
def test_getitem_against_torch(k):
    x = randn(3, 4, 2)
    check_op(lambda lib, t: t[GETITEM_KEYS[k](lib)], x)
    check_op(lambda lib, t: (t * 1)[GETITEM_KEYS[k](lib)], x)


def test_list_of_lists_is_a_tuple_like_torch():
    x = randn(3, 4)
    with pytest.warns(UserWarning):
        check_op(lambda lib, t: t[[[0, 1], [1, 0]]], x)


def test_getitem_bool_masks():
    x = randn(3, 4)
    check_op(lambda lib, t: t[t > 0], x)
    check_op(lambda lib, t: t[(t > 0)[:, 0]], x)
    check_op(lambda lib, t: t[lib.tensor(True)], x)
    check_op(lambda lib, t: t[lib.tensor(False)], x)
    check_op(lambda lib, t: t[..., t[0] > 0], x)


def test_getitem_repeated_indices_grad_accumulates():
    x = randn(4, 3)
    check_op(lambda lib, t: t[[0, 0, 0, 2]], x)
    check_op(lambda lib, t: t[lib.tensor([1, 1]), lib.tensor([2, 2])], x)
    check_op(lambda lib, t: t[:, [0, 0]] * t[[3, 3, 3]].sum(), x)
    gradcheck(lambda t: t[ember.tensor([0, 0, 2]), 1:] ** 2, randn(4, 3, dtype=np.float64))
    gradgradcheck(lambda t: t[ember.tensor([0, 0, 2])] ** 3, randn(4, 3, dtype=np.float64))


def test_getitem_basic_is_view():
    e = ember.arange(12.0).reshape(3, 4)
    v = e[1:, ::2]
    v[0, 0] = 100.0
    assert e[1, 0].item() == 100.0
    a = e[[0, 1]]
    a[0, 0] = -5.0
    assert e[0, 0].item() != -5.0


def test_getitem_errors():
    x = randn(3, 4)
    check_raises(lambda lib, t: t[3], x)
    check_raises(lambda lib, t: t[-4], x)
    check_raises(lambda lib, t: t[:, 4], x)
    check_raises(lambda lib, t: t[lib.tensor([0, 3])], x)
    check_raises(lambda lib, t: t[[0, 1], [0, 5]], x)
    check_raises(lambda lib, t: t[0, 0, 0], x)
    check_raises(lambda lib, t: t[lib.tensor([0.0])], x)
    check_raises(lambda lib, t: t[1.5], x)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 4"):
        ember.ones(3, 4)[:, 5]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        ember.ones(3, 4)[ember.tensor([0, 3])]


# torch records basic indexing as view nodes (select, slice, unsqueeze, alias), one per step, and an
# IndexBackward0 for tensors and bools, after the view steps of the ints, None and slices beside them.
NODE_KEYS = [
    lambda lib, t: t[:2],
    lambda lib, t: t[0],
    lambda lib, t: t[:, 1],
    lambda lib, t: t[..., None],
    lambda lib, t: t[[0, 1]],
    lambda lib, t: t[t > 0],
    lambda lib, t: t[0, :1],
    lambda lib, t: t[:1, 0],
    lambda lib, t: t[0, 1],
    lambda lib, t: t[0][1],
    lambda lib, t: t[:],
    lambda lib, t: t[...],
    lambda lib, t: t[:, :],
    lambda lib, t: t[(slice(None),)],
    lambda lib, t: t[:10, 0],
    lambda lib, t: t[-3:, 0],
    lambda lib, t: t[::2, 1:],
    lambda lib, t: t[None, 0],
    lambda lib, t: t[:, None, 1],
    lambda lib, t: t[-1, ..., None],
    lambda lib, t: t[True],
    lambda lib, t: t[0, [0, 1]],
    lambda lib, t: t[:2, [0, 1]],
    lambda lib, t: t[:, [0, 1]],
    lambda lib, t: t[lib.tensor(1)],
    lambda lib, t: t[2:1],
]


def _node_chain(out) -> list:
    names, fn = [], out.grad_fn
    while fn is not None and "AccumulateGrad" not in fn.name():
        names.append(fn.name())
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


@pytest.mark.parametrize("k", range(len(NODE_KEYS)))
def test_getitem_records_torchs_nodes(k):
    x = randn(3, 4)
    e_out, t_out = check_op(NODE_KEYS[k], x)
    assert _node_chain(e_out) == _node_chain(t_out)
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    gradgradcheck(lambda t: NODE_KEYS[k](ember, t) ** 2, randn(3, 4, dtype=np.float64))


def test_getitem_ints_beside_tensors_index_as_torch():
    # torch selects for the ints first and then indexes what is left: x[0, :, [0, 1]] has shape (3, 2)
    x = randn(2, 3, 4)
    check_op(lambda lib, t: t[0, :, [0, 1]], x)
    check_op(lambda lib, t: t[[1, 0], :, 2], x)
    check_op(lambda lib, t: t[1, None, [0, 2], 1:], x)


def _version(t) -> int:
    return t._version if isinstance(t, torch.Tensor) else t._version.value


# In-place changes through an element (a 0-d view) or a row write into the base, as in torch.
ELEMENT_WRITES = [
    lambda lib: _write(lib.zeros(5), lambda v: v.__setitem__(2, v[2] + 1)),
    lambda lib: _write(lib.ones(5), lambda v: v[2].add_(1)),
    lambda lib: _write(lib.tensor([1.0, 2.0, 3.0]), lambda v: (v[-1].mul_(2), v[0].sub_(1))),
    lambda lib: _write(lib.zeros(2, 3), lambda v: v[0, 1].add_(1)),
    lambda lib: _write(lib.zeros(2, 3), lambda v: v[0][1].fill_(5)),
    lambda lib: _write(lib.ones(2, 3), lambda v: (v[1].zero_(), v[0].mul_(2), v[1, :].fill_(3))),
    lambda lib: _write(lib.arange(6).reshape(2, 3), lambda v: v[1, 2].add_(10)),
    lambda lib: _write(lib.zeros(4), lambda v: (lib.select(v, 0, 1).add_(1), v.unbind()[2].fill_(7))),
]


def _write(t, change):
    change(t)
    return t


@pytest.mark.parametrize("k", range(len(ELEMENT_WRITES)))
def test_inplace_through_an_element_writes_the_base(k):
    e, t = ELEMENT_WRITES[k](ember), ELEMENT_WRITES[k](torch)
    np.testing.assert_array_equal(to_np(e), to_np(t))
    assert _version(e) == _version(t)


def test_augmented_assignment_to_an_element():
    for lib in (ember, torch):
        v = lib.zeros(5)
        v[2] += 1
        x = lib.zeros(2, 3)
        x[0, 1] += 1
        x[0][2] = 5
        assert v.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
        assert x.tolist() == [[0.0, 1.0, 5.0], [0.0, 0.0, 0.0]]
        assert _version(v) == 2
        element = v[3]
        assert element.shape == () and element._base is v and element.data_ptr() == v.data_ptr() + 12


def test_inplace_through_an_element_of_a_leaf_that_requires_grad():
    for lib in (ember, torch):
        w = lib.zeros(5, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            w[2] += 1
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            w[2].add_(1)
        with lib.no_grad():
            w[2] += 1
            w[1].mul_(3)
            w[0].fill_(4)
        assert w.tolist() == [4.0, 0.0, 1.0, 0.0, 0.0]
        assert w.requires_grad and w.is_leaf and w.grad_fn is None
        (w[2] * 3).backward()
        assert w.grad.tolist() == [0.0, 0.0, 3.0, 0.0, 0.0]


SETITEM_CASES = [
    (lambda lib: 1, lambda lib: 5.0),
    (lambda lib: (slice(None), 0), lambda lib: lib.tensor([1.0, 2.0, 3.0])),
    (lambda lib: (Ellipsis, slice(1, 3)), lambda lib: lib.tensor([7.0, 8.0])),
    (lambda lib: lib.tensor([0, 2]), lambda lib: lib.ones(4) * 3),
    (lambda lib: (lib.tensor([0, 2]), lib.tensor([1, 3])), lambda lib: lib.tensor([-1.0, -2.0])),
    (lambda lib: lib.tensor([True, False, True]), lambda lib: 0.5),
    (lambda lib: (slice(None), lib.tensor([True, False, True, False])), lambda lib: lib.zeros(3, 2)),
    (lambda lib: (None, 0), lambda lib: lib.tensor([4.0, 4.0, 4.0, 4.0])),
]


@pytest.mark.parametrize("k", range(len(SETITEM_CASES)))
def test_setitem_no_grad(k):
    key, val = SETITEM_CASES[k]

    def fn(lib, t):
        t = t.clone()
        t[key(lib)] = val(lib)
        return t

    check_op(fn, randn(3, 4), grad=False)


@pytest.mark.parametrize("k", range(len(SETITEM_CASES)))
def test_setitem_on_nonleaf_requiring_grad(k):
    key, val = SETITEM_CASES[k]

    def fn(lib, t, v):
        y = t * 2
        value = val(lib)
        if isinstance(value, (lib.Tensor)):
            value = value * v.sum()  # the assigned value depends on a second input too
        y[key(lib)] = value
        return y * t

    check_op(fn, randn(3, 4), randn(2))


def test_setitem_value_grads_with_broadcast_and_repeats():
    def fn(lib, t, v):
        y = t.clone()
        y[lib.tensor([0, 0, 2])] = v
        return y

    check_op(fn, randn(3, 4), randn(4))

    def fn2(lib, t, v):
        y = t * 1
        y[1:, ::2] = v
        return y.exp()

    check_op(fn2, randn(3, 4), randn(1, 2))


def test_setitem_leaf_requiring_grad_raises():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 2.0
    t = torch.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation"
    ):
        t[0] = 2.0
    with ember.no_grad():
        x[0] = 2.0
    assert x[0].item() == 2.0


def test_setitem_errors_and_version():
    check_raises(lambda lib, t: t.__setitem__(3, 1.0), randn(3, 4))
    check_raises(lambda lib, t: t.__setitem__((slice(None), 0), lib.ones(4)), randn(3, 4))
    e = ember.zeros(3)
    v0 = e._version.value
    e[1] = 1.0
    assert e._version.value == v0 + 1


def test_setitem_saved_tensor_version_check():
    x = ember.ones(3, requires_grad=True)
    y = x.exp()
    z = y * 1
    w = z.exp()
    z[0] = 0.0  # w's backward saved its output, not z, so this is fine...
    w.sum().backward()
    u = ember.ones(3, requires_grad=True).exp()
    s = u.sigmoid()
    u2 = u * 1
    p = u2 * u2
    u2[0] = 5.0  # ...but p saved u2, so backward must fail
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        p.sum().backward()
    del s


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hypothesis_advanced_indexing(data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    x = randn(*shape)
    n = data.draw(st.integers(1, 5))
    rows = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=n, max_size=n))
    check_op(lambda lib, t: t[lib.tensor(rows)], x)
    if len(shape) > 1:
        cols = data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=n, max_size=n))
        check_op(lambda lib, t: t[lib.tensor(rows), lib.tensor(cols)], x)
        check_op(lambda lib, t: t[..., lib.tensor(cols), :], x) if len(shape) == 3 else None


# ---------------------------------------------------------------------------- gather / scatter
def test_gather():
    x = randn(3, 4)
    check_op(lambda lib, t: t.gather(1, lib.tensor([[0, 0], [3, 1], [2, 2]])), x)
    check_op(lambda lib, t: lib.gather(t, 0, lib.tensor([[2, 1, 0, 0]])), x)
    check_op(lambda lib, t: t.gather(-1, lib.tensor([[1], [1]])), x)  # index smaller than input
    check_op(lambda lib, t: t.gather(1, lib.tensor([[0, 1, 2, 3, 0, 1]] * 3)), x)
    check_op(lambda lib, t: t.gather(0, lib.tensor([[0, 1]], dtype=lib.int32)), x)
    check_op(lambda lib, t: t.gather(1, lib.zeros(3, 0, dtype=lib.int64)), x)
    gradcheck(lambda t: t.gather(1, ember.tensor([[0, 0], [3, 1], [2, 2]])), randn(3, 4, dtype=np.float64))
    gradgradcheck(lambda t: t.gather(1, ember.tensor([[0, 0], [3, 1], [2, 2]])) ** 2, randn(3, 4, dtype=np.float64))


def test_gather_errors():
    x = randn(2, 3)
    check_raises(lambda lib, t: t.gather(0, lib.tensor([[5, 0, 0]])), x)
    check_raises(lambda lib, t: t.gather(0, lib.tensor([[-1, 0, 0]])), x)
    check_raises(lambda lib, t: t.gather(0, lib.tensor([1, 0, 0])), x)
    check_raises(lambda lib, t: t.gather(0, lib.tensor([[1, 0, 0, 0]])), x)
    check_raises(lambda lib, t: t.gather(2, lib.tensor([[1, 0, 0]])), x)
    check_raises(lambda lib, t: t.gather(0, lib.tensor([[1.0]])), x)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 2"):
        ember.ones(2, 3).gather(0, ember.tensor([[5, 0, 0]]))


def test_scatter_and_scatter_add():
    x = randn(3, 4)
    index = [[0, 1, 2, 0], [2, 0, 1, 1]]
    check_op(lambda lib, t, s: t.scatter(0, lib.tensor(index), s), x, randn(2, 4))
    check_op(lambda lib, t, s: lib.scatter(t, 1, lib.tensor([[3, 1], [0, 2], [1, 0]]), s), x, randn(3, 2))
    check_op(lambda lib, t, s: lib.scatter(t, 1, lib.tensor([[3, 1], [0, 2], [1, 0]]), s), x, randn(3, 3), grad=False)
    check_op(lambda lib, t: t.scatter(0, lib.tensor(index), 2.5), x)
    check_op(lambda lib, t: t.scatter(1, lib.tensor([[0], [3], [1]]), value=-1.0), x)
    check_op(lambda lib, t, s: t.scatter_add(0, lib.tensor(index), s), x, randn(2, 4))
    check_op(lambda lib, t, s: lib.scatter_add(t, 1, lib.tensor([[3, 3], [0, 0], [1, 1]]), s), x, randn(3, 2))
    check_op(lambda lib, t, s: t.scatter_add(1, lib.tensor([[3, 3], [0, 0], [1, 1]]), s), x, randn(3, 5), grad=False)
    check_op(lambda lib, t, s: t.scatter(0, lib.tensor(index), s, reduce="add"), x, randn(2, 4), grad=False)
    gradcheck(lambda t, s: t.scatter_add(1, ember.tensor([[3, 3], [0, 0], [1, 1]]), s), randn(3, 4), randn(3, 2))
    gradgradcheck(lambda t, s: t.scatter(1, ember.tensor([[3, 1], [0, 2], [1, 0]]), s) ** 2, randn(3, 4), randn(3, 2))
    gradgradcheck(lambda t, s: t.scatter_add(0, ember.tensor(index), s) ** 2, randn(3, 4), randn(2, 4))


def test_scatter_inplace_and_errors():
    def fn(lib, t, s):
        y = t * 1
        y.scatter_(0, lib.tensor([[0, 1, 2, 0]]), s)
        y.scatter_add_(1, lib.tensor([[0], [0], [3]]), s.t()[:3, :1])
        return y

    check_op(fn, randn(3, 4), randn(1, 4))
    x = randn(2, 3)
    check_raises(lambda lib, t: t.scatter(0, lib.tensor([[5, 0, 0]]), 1.0), x)
    check_raises(lambda lib, t: t.scatter(0, lib.tensor([[1, 0, 0]]), lib.ones(1, 2)), x)
    check_raises(lambda lib, t: t.scatter(0, lib.tensor([[1, 0, 0]]), lib.ones(1, 3, dtype=lib.float64)), x)
    check_raises(lambda lib, t: t.scatter_add(0, lib.tensor([[1, 0, 0]]), lib.ones(1, 3, dtype=lib.float64)), x)
    with pytest.raises(NotImplementedError, match="multiply"):
        ember.ones(2, 3).scatter(0, ember.tensor([[1, 0, 0]]), ember.ones(1, 3), reduce="multiply")


# torch treats a 0-d index, input or src of gather and scatter as 1-D with one element
ZERO_D_GATHER_SCATTER = [
    lambda lib, t, s: t.scatter(0, lib.tensor(3), value=1.0),
    lambda lib, t, s: t.scatter(0, lib.tensor(3), 2.5),
    lambda lib, t, s: t.scatter(-1, lib.tensor(3), s[0]),
    lambda lib, t, s: t.scatter(0, lib.tensor(3), s.detach()),  # torch's backward fails for this src
    lambda lib, t, s: t.scatter(0, lib.tensor([3]), s[1]),
    lambda lib, t, s: t.scatter_add(0, lib.tensor(3), s[0]),
    lambda lib, t, s: t.scatter_add(0, lib.tensor(3), s.detach()),
    lambda lib, t, s: t.scatter_add(0, lib.tensor([3]), s[1]),
    lambda lib, t, s: t.gather(0, lib.tensor(3)),
    lambda lib, t, s: t.gather(0, lib.tensor(4, dtype=lib.int32)),
    lambda lib, t, s: s[0].gather(0, lib.tensor(0)),
    lambda lib, t, s: s[0].gather(0, lib.tensor([0, 0])),
    lambda lib, t, s: s[0].scatter(0, lib.tensor([0]), t[:1]),
    lambda lib, t, s: s[0].scatter(0, lib.tensor(0), value=2.0),
    lambda lib, t, s: s[0].scatter_add(0, lib.tensor([0]), t[3]),
    lambda lib, t, s: t.gather(0, lib.tensor([], dtype=lib.int64)),
]


@pytest.mark.parametrize("k", range(len(ZERO_D_GATHER_SCATTER)))
def test_gather_scatter_with_0d_operands(k):
    check_op(ZERO_D_GATHER_SCATTER[k], randn(10), randn(2))


def test_scatter_0d_index_one_hot_in_place():
    for lib in (ember, torch):
        v = lib.zeros(10).scatter_(0, lib.tensor(3), value=1)
        assert v.tolist() == [0.0, 0.0, 0.0, 1.0] + [0.0] * 6
        u = lib.zeros(4)
        u.scatter_add_(0, lib.tensor(1), lib.tensor(2.0))
        assert u.tolist() == [0.0, 2.0, 0.0, 0.0]


def test_gather_scatter_0d_errors_as_torch():
    cases = [
        (lambda lib, t: t.scatter(0, lib.tensor(1), value=1.0), "same number of dimensions as self tensor"),
        (lambda lib, t: t.scatter_add(0, lib.tensor(1), lib.tensor(5.0)), "same number of dimensions as self tensor"),
        (lambda lib, t: t.gather(0, lib.tensor(1)), "same number of dimensions as input tensor"),
        (lambda lib, t: t[0].scatter(0, lib.tensor([3]), lib.ones(1, 1)), "same number of dimensions as src tensor"),
        (lambda lib, t: t[0].scatter_add(0, lib.tensor(3), lib.ones(1, 1)), "same number of dimensions as src tensor"),
        (lambda lib, t: t[0].scatter(0, lib.tensor([3, 2]), lib.tensor(5.0)), "no larger size than src"),
        (lambda lib, t: t[0].scatter_(0, lib.tensor(4), value=1.0), "index 4 is out of bounds for dimension 0"),
        (lambda lib, t: t[0].gather(0, lib.tensor(-1)), "index -1 is out of bounds for dimension 0"),
        (lambda lib, t: t[0, 0].gather(0, lib.tensor([1])), "index 1 is out of bounds for dimension 0 with size 1"),
        (lambda lib, t: t[0].scatter_(1, lib.tensor(3), value=1.0), "Dimension out of range"),
        (lambda lib, t: t.scatter(0, lib.tensor([[1]]), lib.ones(4)), "Dimension out of range"),
        (lambda lib, t: t.gather(0, lib.tensor([[1.0]])), "Expected dtype int32/int64 for index"),
    ]
    for fn, message in cases:
        exc = check_raises(fn, randn(3, 4))
        assert message in str(exc)
        with pytest.raises(Exception, match=re.escape(message)):
            fn(torch, torch.ones(3, 4))


# ---------------------------------------------------------------------------- index_* family
def test_index_select():
    x = randn(4, 3)
    check_op(lambda lib, t: t.index_select(0, lib.tensor([3, 0, 0])), x)
    check_op(lambda lib, t: lib.index_select(t, 1, lib.tensor([2])), x)
    check_op(lambda lib, t: t.index_select(-1, lib.tensor(1)), x)
    check_op(lambda lib, t: t.index_select(0, lib.tensor([1, 1], dtype=lib.int32)), x)
    check_op(lambda lib, t: t.index_select(0, lib.tensor([0])), np.array(2.0))
    check_raises(lambda lib, t: t.index_select(0, lib.tensor([0, 0])), np.array(2.0))
    gradgradcheck(lambda t: t.index_select(0, ember.tensor([3, 0, 0])) ** 2, randn(4, 3, dtype=np.float64))
    check_raises(lambda lib, t: t.index_select(0, lib.tensor([4])), x)
    check_raises(lambda lib, t: t.index_select(0, lib.tensor([-1])), x)
    check_raises(lambda lib, t: t.index_select(0, lib.tensor([[0]])), x)
    check_raises(lambda lib, t: t.index_select(0, lib.tensor([0.0])), x)


def test_index_add_copy_fill():
    x = randn(4, 3)
    check_op(lambda lib, t, s: t.index_add(0, lib.tensor([0, 0, 3]), s), x, randn(3, 3))
    check_op(lambda lib, t, s: lib.index_add(t, 1, lib.tensor([2, 0]), s, alpha=2.0), x, randn(4, 2))
    check_op(lambda lib, t, s: t.index_copy(0, lib.tensor([3, 1]), s), x, randn(2, 3))
    check_op(lambda lib, t, s: lib.index_copy(t, 1, lib.tensor([0]), s), x, randn(4, 1))
    check_op(lambda lib, t: t.index_fill(1, lib.tensor([0, 2]), -1.0), x)
    check_op(lambda lib, t: lib.index_fill(t, 0, lib.tensor([1]), 3), x)
    check_op(lambda lib, t, v: t.index_fill(0, lib.tensor([1, 2]), v.sum()), x, randn(2))
    gradgradcheck(lambda t, s: t.index_add(0, ember.tensor([0, 0, 3]), s) ** 2, randn(4, 3), randn(3, 3))
    check_raises(lambda lib, t: t.index_add(0, lib.tensor([4]), lib.ones(1, 3)), x)
    check_raises(lambda lib, t: t.index_add(0, lib.tensor([1]), lib.ones(2, 3)), x)
    check_raises(lambda lib, t: t.index_fill(0, lib.tensor([4]), 1.0), x)
    check_raises(lambda lib, t: t.index_copy(0, lib.tensor([4]), lib.ones(1, 3)), x)


def test_index_inplace_forms():
    def fn(lib, t, s):
        y = t * 1
        y.index_add_(0, lib.tensor([1, 1]), s)
        y.index_fill_(1, lib.tensor([0]), 0.5)
        y.index_copy_(0, lib.tensor([0]), s[:1] * 2)
        return y

    check_op(fn, randn(3, 4), randn(2, 4))
    e = ember.zeros(3)
    e.index_add_(0, ember.tensor([0, 0]), ember.ones(2))
    assert e.tolist() == [2.0, 0.0, 0.0]


def test_index_put():
    x = randn(3, 4)
    check_op(lambda lib, t, v: t.index_put((lib.tensor([0, 0, 2]), lib.tensor([1, 1, 3])), v), x, randn(3))
    check_op(lambda lib, t, v: t.index_put((lib.tensor([0, 0, 2]),), v, accumulate=True), x, randn(4))
    check_op(lambda lib, t, v: lib.index_put(t, (lib.tensor([1, 1]), lib.tensor([2, 2])), v, True), x, randn(1))

    def fn(lib, t, v):
        y = t * 1
        y.index_put_((lib.tensor([0, 1]),), v, accumulate=True)
        return y

    check_op(fn, x, randn(2, 4))


# ---------------------------------------------------------------------------- masks, nonzero, take
def test_masked_fill_masked_select_masked_scatter():
    x = randn(3, 4)
    m = rng.random((3, 4)) > 0.5
    check_op(lambda lib, t, mm: t.masked_fill(mm, 2.0), x, m)
    check_op(lambda lib, t, mm: t.masked_fill(mm[0], -1.0), x, m)
    check_op(lambda lib, t, mm: t.masked_select(mm), x, m)
    check_op(lambda lib, t, mm: lib.masked_select(t, mm[:, :1]), x, m)
    check_op(lambda lib, t, mm: t[0].masked_select(mm), x, m)  # input broadcasts up to the mask
    check_op(lambda lib, t, mm, s: t.masked_scatter(mm, s), x, m, randn(12))
    check_op(lambda lib, t, mm, s: t.masked_scatter(mm[1], s), x, m, randn(4, 5))

    def fn(lib, t, mm):
        y = t * 1
        y.masked_fill_(mm, 0.0)
        y.masked_scatter_(~mm, t * 3)
        return y

    check_op(fn, x, m)
    gradgradcheck(lambda t: t.masked_select(ember.tensor(m)) ** 2, randn(3, 4, dtype=np.float64))
    check_raises(lambda lib, t: t.masked_select(lib.tensor([1, 0, 1, 1])), x)
    check_raises(lambda lib, t: t.masked_select(lib.tensor([True, False])), x)
    check_raises(lambda lib, t: t.masked_scatter(lib.tensor([True, False, True, True]), lib.ones(1)), x)


def test_nonzero_where_argwhere():
    z = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    check_op(lambda lib, t: t.nonzero(), z)
    check_op(lambda lib, t: lib.nonzero(t, as_tuple=True), z)
    check_op(lambda lib, t: lib.where(t != 0), z)
    check_op(lambda lib, t: lib.argwhere(t), z)
    check_op(lambda lib, t: t.nonzero(), np.array(0.0))
    check_op(lambda lib, t: t.nonzero(), np.array(3))
    check_op(lambda lib, t: t.nonzero(as_tuple=True), np.array(3.0))
    check_op(lambda lib, t: t.nonzero(), np.zeros((0, 2)))


def test_take():
    x = randn(3, 4)
    check_op(lambda lib, t: t.take(lib.tensor([0, 11, -1, 5, 5])), x)
    check_op(lambda lib, t: lib.take(t, lib.tensor([[1, 2], [2, 1]])), x)
    gradgradcheck(lambda t: t.take(ember.tensor([[1, 1], [0, 5]])) ** 2, randn(2, 3, dtype=np.float64))
    check_raises(lambda lib, t: t.take(lib.tensor([12])), x)
    check_raises(lambda lib, t: t.take(lib.tensor([-13])), x)


def test_where_three_arg_grad():
    x, y = randn(3, 4), randn(4)
    check_op(lambda lib, a, b: lib.where(a > 0, a, b), x, y)
    check_op(lambda lib, a: lib.where(a > 0, a, 0.0), x)


def test_indices_have_no_grad():
    e = ember.ones(3, 4, requires_grad=True)
    r = e.nonzero()
    assert not r.requires_grad and r.dtype is ember.int64
    assert to_np(e[ember.tensor([0, 1])]).shape == (2, 4)

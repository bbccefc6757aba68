"""Reductions compared with torch: values, dtypes, dims/keepdim, gradients, errors."""
# ruff: noqa: B023 - check_op calls each lambda at once, inside the loop iteration that made it

import contextlib
import math
import pickle

import numpy as np
import pytest
import torch
from helpers import check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


SHAPES_DIMS = [
    ((), None),
    ((5,), 0),
    ((3, 4), 1),
    ((3, 4), -1),
    ((3, 4), (0, 1)),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)),
    ((2, 1, 4), 1),
]


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "nansum"])
def test_dim_reductions(name, shape, dim, keepdim):
    x = randn(*shape)
    if dim is None and name == "logsumexp":
        check_op(lambda lib, t: t.logsumexp(0, keepdim), x)
    elif dim is None:
        check_op(lambda lib, t: getattr(lib, name)(t), x)
    else:
        check_op(lambda lib, t: getattr(t, name)(dim, keepdim=keepdim), x)


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std(name, shape, dim, keepdim, correction):
    x = randn(*shape, dtype=np.float64)
    count = x.size if dim is None else np.prod([x.shape[d] for d in np.atleast_1d(dim)])
    with _dof_warning(correction >= count):
        check_op(lambda lib, t: getattr(t, name)(dim, keepdim=keepdim, correction=correction), x)


def _dof_warning(expected: bool):
    """Expect ember's (and torch's) warning about no degrees of freedom, or nothing."""
    return pytest.warns(UserWarning, match="degrees of freedom is <= 0") if expected else contextlib.nullcontext()


def test_var_std_signatures():
    x = randn(3, 4, dtype=np.float64)
    check_op(lambda lib, t: t.var(), x)
    check_op(lambda lib, t: t.std(False), x)
    check_op(lambda lib, t: lib.var(t, 1, True, True), x)
    check_op(lambda lib, t: lib.std(t, dim=0, unbiased=False), x)
    check_op(lambda lib, t: lib.var_mean(t, 1), x)
    check_op(lambda lib, t: lib.std_mean(t, (0, 1), correction=0, keepdim=True), x)
    with _dof_warning(True):
        check_op(lambda lib, t: t.var(1), randn(3, 1))  # N - 1 == 0 gives nan


def test_var_std_constant_input_grad():
    check_op(lambda lib, t: t.std(1), np.ones((2, 3)))


def test_sum_dtypes():
    for dtype in [np.int32, np.int8, np.uint8, np.bool_, np.int64, np.float16, np.float64]:
        x = (rng.integers(0, 3, (3, 4))).astype(dtype)
        check_op(lambda lib, t: t.sum(), x)
        check_op(lambda lib, t: t.sum(0), x)
        check_op(lambda lib, t: t.prod(1), x)
        check_op(lambda lib, t: t.cumsum(0), x)
        check_op(lambda lib, t: t.cumprod(1), x)
    check_op(lambda lib, t: t.sum(dtype=lib.float64), randn(3, 4))
    check_op(lambda lib, t: t.sum(1, dtype=lib.float32), np.arange(6).reshape(2, 3))
    check_op(lambda lib, t: t.mean(dtype=lib.float64), np.arange(6).reshape(2, 3))
    check_op(lambda lib, t: t.cumsum(1, dtype=lib.float64), randn(2, 3))


def test_sum_empty_and_keepdim_all():
    check_op(lambda lib, t: t.sum(), np.zeros((0, 3), np.float32))
    check_op(lambda lib, t: t.sum(0), np.zeros((0, 3), np.float32))
    check_op(lambda lib, t: t.prod(), np.zeros((0,), np.float32))
    check_op(lambda lib, t: t.sum((), keepdim=True), randn(2, 3))
    check_op(lambda lib, t: t.mean((), keepdim=True), randn(2, 3))
    check_op(lambda lib, t: lib.sum(t, dim=[0, 1]), randn(2, 3))


@pytest.mark.parametrize("shape,dim", [((4,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2), ((), 0)])
def test_prod(shape, dim):
    x = randn(*shape)
    check_op(lambda lib, t: t.prod(), x)
    check_op(lambda lib, t: t.prod(dim), x)
    check_op(lambda lib, t: t.prod(dim, keepdim=True), x)


def test_prod_with_zeros_grad():
    x = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0]])
    check_op(lambda lib, t: t.prod(1), x)
    check_op(lambda lib, t: t.prod(), x[0])
    check_op(lambda lib, t: t.prod(), x[1])
    gradcheck(lambda t: t.prod(1), x)
    gradgradcheck(lambda t: t.prod(1), x)


def test_max_min_with_dim_named_tuple():
    x = randn(3, 4)
    for name in ["max", "min", "median"]:
        for dim in [0, 1, -1]:
            for keepdim in [False, True]:
                check_op(lambda lib, t: getattr(t, name)(dim, keepdim), x)
                check_op(lambda lib, t: getattr(lib, name)(t, dim=dim, keepdim=keepdim), x)
    r = ember.tensor(x).max(1)
    values, indices = r
    assert values is r.values and indices is r.indices and r[0] is values
    assert isinstance(r, tuple) and len(r) == 2
    assert repr(r).startswith("torch.return_types.max(\nvalues=tensor(")
    assert "\nindices=tensor(" in repr(r) and repr(r).endswith(")")
    t = torch.tensor(x).max(1)
    assert type(r).__name__ == type(t).__name__
    back = pickle.loads(pickle.dumps(r))
    assert type(back).__name__ == "max" and np.array_equal(back.indices.numpy(), r.indices.numpy())


def test_max_min_full_and_binary():
    x = randn(3, 4)
    y = randn(4)
    check_op(lambda lib, t: t.max(), x)
    check_op(lambda lib, t: lib.min(t), x)
    check_op(lambda lib, t, u: lib.max(t, u), x, y)
    check_op(lambda lib, t, u: t.min(u), x, y)
    check_op(lambda lib, t, u: lib.max(t, other=u), x, y)
    check_op(lambda lib, t: t.max(0), np.array(5.0))
    check_op(lambda lib, t: t.max(), np.array([[1, 5], [7, 2]], dtype=np.int32))
    check_op(lambda lib, t: t.max(1), np.array([[True, False], [False, False]]))


def test_max_min_tie_gradients():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for name in ["max", "min", "amax", "amin", "median"]:
        check_op(lambda lib, t: getattr(t, name)(), x)
    check_op(lambda lib, t: t.amax(1), x)
    check_op(lambda lib, t: t.amin(0), np.array([[1.0, 1.0], [1.0, 2.0]]))
    check_op(lambda lib, t: t.amax((0, 1), keepdim=True), x)
    # with a dim, the whole gradient goes to the returned index
    check_op(lambda lib, t: t.max(1).values, x)
    check_op(lambda lib, t: t.min(1), x)


def test_max_nan_propagates():
    x = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 0.0]])
    check_op(lambda lib, t: t.max(1), x)
    check_op(lambda lib, t: t.amax(1), x)
    check_op(lambda lib, t: t.max(), x)
    check_op(lambda lib, t: t.argmax(), x)
    check_op(lambda lib, t: t.median(), x)
    check_op(lambda lib, t: t.median(1), x)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name):
    x = randn(3, 4, 5)
    check_op(lambda lib, t: getattr(t, name)(), x)
    check_op(lambda lib, t: getattr(lib, name)(t, keepdim=True), x)
    for dim in [0, 1, -1]:
        check_op(lambda lib, t: getattr(t, name)(dim), x)
        check_op(lambda lib, t: getattr(t, name)(dim, keepdim=True), x)
    check_op(lambda lib, t: getattr(t, name)(0), np.array(2.0))
    check_op(lambda lib, t: getattr(t, name)(1), np.array([[3, 1, 3], [0, 2, 2]]))


def test_median_lower_and_grad():
    check_op(lambda lib, t: t.median(), np.array([4.0, 1.0, 3.0, 2.0]))
    check_op(lambda lib, t: t.median(0), np.array([4.0, 1.0, 3.0, 2.0]))
    check_op(lambda lib, t: t.median(1, keepdim=True), randn(3, 6))
    check_op(lambda lib, t: t.median(), np.array([[1, 5], [7, 2]], dtype=np.int64))


def test_aminmax_and_count_nonzero():
    x = randn(3, 4)
    check_op(lambda lib, t: lib.aminmax(t), x)
    check_op(lambda lib, t: lib.aminmax(t, dim=1, keepdim=True), x)
    z = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    check_op(lambda lib, t: lib.count_nonzero(t), z)
    check_op(lambda lib, t: lib.count_nonzero(t, dim=0), z)
    check_op(lambda lib, t: t.count_nonzero((0, 1)), z)


@pytest.mark.parametrize("dtype", [np.bool_, np.float32, np.int64, np.uint8])
def test_all_any(dtype):
    x = (rng.integers(0, 2, (3, 4))).astype(dtype)
    for name in ["all", "any"]:
        check_op(lambda lib, t: getattr(t, name)(), x)
        check_op(lambda lib, t: getattr(lib, name)(t, 1), x)
        check_op(lambda lib, t: getattr(t, name)(0, keepdim=True), x)
        check_op(lambda lib, t: getattr(t, name)((0, 1)), x)
    check_op(lambda lib, t: t.all(), np.ones((0,), dtype))
    check_op(lambda lib, t: t.any(), np.ones((0,), dtype))


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf, -math.inf, "fro", 0])
def test_norm(p):
    x = randn(3, 4, dtype=np.float64)
    check_op(lambda lib, t: t.norm(p), x)
    check_op(lambda lib, t: lib.norm(t, p, dim=1), x)
    check_op(lambda lib, t: t.norm(p, dim=(0, 1), keepdim=True), x)
    if p not in (0, 0.5):
        gradcheck(lambda t: t.norm(p, dim=0), x)


def test_norm_default_and_zero_grad():
    check_op(lambda lib, t: t.norm(), randn(5))
    check_op(lambda lib, t: t.norm(), np.zeros(3))
    check_op(lambda lib, t: t.norm(dim=1), np.array([[0.0, 0.0], [3.0, 4.0]]))
    check_op(lambda lib, t: t.norm(math.inf), np.array([1.0, -3.0, 3.0]))
    check_op(lambda lib, t: t.norm(dtype=lib.float64), randn(4))


def test_logsumexp_stable_and_int():
    check_op(lambda lib, t: t.logsumexp(0), np.array([1000.0, 1000.0, -1000.0]))
    check_op(lambda lib, t: lib.logsumexp(t, 1, keepdim=True), np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    check_op(lambda lib, t: t.logsumexp(0), np.array([1, 2, 3]))
    check_op(lambda lib, t: t.logsumexp((0, 1)), randn(2, 3))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((), 0), ((2, 3, 4), 1)])
def test_cumulative(name, shape, dim):
    check_op(lambda lib, t: getattr(t, name)(dim), randn(*shape))
    check_op(lambda lib, t: getattr(lib, name)(t, dim=dim), randn(*shape))


def test_cumprod_with_zeros_grad():
    x = np.array([[2.0, 0.0, 3.0, 0.0], [1.0, 2.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    check_op(lambda lib, t: t.cumprod(1), x)
    check_op(lambda lib, t: t.cumprod(0), x)
    gradcheck(lambda t: t.cumprod(1), x)
    gradgradcheck(lambda t: t.cumprod(1), x)


def test_cummax_cummin():
    x = np.array([[1.0, 3.0, 2.0, 3.0, 5.0], [4.0, 1.0, 0.0, 2.0, -1.0]])
    check_op(lambda lib, t: lib.cummax(t, 1), x)
    check_op(lambda lib, t: t.cummin(1), x)
    check_op(lambda lib, t: t.cummax(0), randn(4, 3))


def test_mean_nanmean_and_empty():
    check_op(lambda lib, t: lib.nanmean(t), np.array([1.0, np.nan, 3.0]))
    check_op(lambda lib, t: t.nanmean(1), np.array([[1.0, np.nan, 3.0], [np.nan, 2.0, 2.0]]))
    check_op(lambda lib, t: t.mean(), np.zeros((0,), np.float32))


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
    keepdim=st.booleans(),
)
def test_hypothesis_reductions(shape, data, keepdim):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim))
    x = randn(*shape, dtype=np.float64)
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var", "std", "norm"]))
    if name == "norm":
        check_op(lambda lib, t: t.norm(2, dim=tuple(dims), keepdim=keepdim), x)
    else:
        check_op(lambda lib, t: getattr(t, name)(tuple(dims), keepdim=keepdim), x)
    d = dims[0]
    check_op(lambda lib, t: t.max(d, keepdim), x)
    check_op(lambda lib, t: t.cumsum(d), x)


def test_gradcheck_reductions():
    x = randn(3, 4, dtype=np.float64)
    gradcheck(lambda t: t.sum((0, 1)), x)
    gradcheck(lambda t: t.mean(1, keepdim=True), x)
    gradcheck(lambda t: t.var(1), x)
    gradcheck(lambda t: t.std(0, correction=0), x)
    gradcheck(lambda t: t.logsumexp(1), x)
    gradcheck(lambda t: t.amax(1), x)
    gradcheck(lambda t: t.max(0).values, x)
    gradcheck(lambda t: t.median(1).values, x)
    gradcheck(lambda t: t.prod(0), x)
    gradcheck(lambda t: t.cumsum(1), x)
    gradcheck(lambda t: t.cumprod(0), x)
    gradcheck(lambda t: ember.cummax(t, 1).values, x)


def test_second_order_reductions():
    x = randn(3, 4, dtype=np.float64)
    gradgradcheck(lambda t: t.var(1), x)
    gradgradcheck(lambda t: t.std(0), x)
    gradgradcheck(lambda t: t.logsumexp(1), x)
    gradgradcheck(lambda t: t.norm(dim=1), x)
    gradgradcheck(lambda t: t.norm(3, dim=1), x)
    gradgradcheck(lambda t: t.max(1).values * t.sum(), x)
    gradgradcheck(lambda t: t.cumprod(1), x + 2)


def test_errors():
    ints = np.arange(6).reshape(2, 3)
    check_raises(lambda lib, t: t.var(), ints)
    check_raises(lambda lib, t: t.std(0), ints)
    check_raises(lambda lib, t: t.mean(), ints)
    check_raises(lambda lib, t: t.norm(), ints)
    check_raises(lambda lib, t: t.sum(2), randn(2, 3))
    check_raises(lambda lib, t: t.sum((0, 0)), randn(2, 3))
    check_raises(lambda lib, t: t.sum(-3), randn(2, 3))
    check_raises(lambda lib, t: t.max(2), randn(2, 3))
    check_raises(lambda lib, t: t.max(), np.zeros((0,), np.float32))
    check_raises(lambda lib, t: t.amax(), np.zeros((0,), np.float32))
    check_raises(lambda lib, t: t.max(0), np.zeros((0, 3), np.float32))
    check_raises(lambda lib, t: t.argmax(), np.zeros((0,), np.float32))
    check_raises(lambda lib, t: t.cumsum(2), randn(2, 3))
    check_raises(lambda lib, t: t.var(0, correction=1, unbiased=True), randn(2, 3))
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 5"):
        ember.ones(2, 3).sum(5)
    check_raises(lambda lib, t: t.norm(dim=(0, 1, 2)), randn(2, 3, 4))
    with pytest.raises(NotImplementedError, match="nuc"):
        ember.ones(2, 3).norm("nuc")
    with pytest.raises(TypeError, match=r"max\(\): a tensor second argument \(the elementwise form\) takes no keepdim"):
        ember.ones(2, 3).max(ember.ones(3), 1)


def test_cumsum_inplace_and_out():
    x = randn(2, 3)
    e, t = ember.tensor(x), torch.tensor(x)
    e.cumsum_(1)
    t.cumsum_(1)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    out = ember.empty(2, 3)
    ember.cumsum(ember.tensor(x), 0, out=out)
    np.testing.assert_allclose(out.numpy(), np.cumsum(x, 0), rtol=1e-6)
    out2 = ember.empty(3)
    ember.sum(ember.tensor(x), 0, out=out2)
    np.testing.assert_allclose(out2.numpy(), x.sum(0), rtol=1e-6)


def test_grad_fn_names():
    x = ember.ones(2, 3, requires_grad=True)
    assert type(x.sum().grad_fn).__name__ == "SumBackward0"
    assert type(x.sum(0).grad_fn).__name__ == "SumBackward1"
    assert type(x.max(0).values.grad_fn).__name__ == "MaxBackward0"
    assert type(x.max().grad_fn).__name__ == "MaxBackward1"
    assert x.max(0).indices.grad_fn is None and not x.max(0).indices.requires_grad

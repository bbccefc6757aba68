"""Gradients where an op has a choice to make: ties between equal inputs, and inputs exactly at a kink.

Every op here picks a subgradient at such points (split a tie evenly, give it all to one input, pass it
through at a clamp bound or not). Values, indices and gradients are compared with torch bit for bit, in
float32 and float64, with an upstream gradient that is not all ones so that a share of 1/2 or 1/3 shows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import assert_same_bits, to_np

import ember
import ember.nn.functional as EF

DTYPES = [np.float32, np.float64]

# Rows full of ties: equal pairs, a triple, a whole row of one value, and negative ties.
TIES = np.array(
    [
        [1.0, 3.0, 3.0, 2.0, -1.0, 0.0],
        [5.0, 5.0, 5.0, 1.0, 0.0, 5.0],
        [-2.0, -2.0, -2.0, -2.0, -2.0, -2.0],
        [0.0, 4.0, -3.0, 4.0, -3.0, 1.0],
    ]
)


def _run(fn, lib, arrays, dtype):
    ins = [lib.tensor(np.array(a, dtype=dtype), requires_grad=True) for a in arrays]
    out = fn(lib, *ins)
    return ins, out if isinstance(out, tuple) else (out,)


def _upstream(shape, dtype, k):
    """A fixed upstream gradient: small integers times powers of two, so products and shares are exact
    and a wrong share (or a missing one) changes the result."""
    rng = np.random.default_rng(100 + k)
    return (rng.integers(1, 9, size=shape) * 0.75).astype(dtype)


def assert_same_values(e, t, context):
    """Same shape, dtype and values (NaN equal to NaN; the sign of a zero result is not compared, see
    test_relu_edges.py)."""
    a, b = to_np(e), to_np(t)
    assert a.shape == b.shape and a.dtype == b.dtype, (context, a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_array_equal(a, b, err_msg=context, strict=True)


def check_ties(fn, *arrays, dtype):
    """fn(lib, *tensors) on ember and torch: every output (values and integer indices) and every input's
    gradient are identical, bit for bit."""
    e_in, e_out = _run(fn, ember, arrays, dtype)
    t_in, t_out = _run(fn, torch, arrays, dtype)
    assert len(e_out) == len(t_out)
    e_diff, t_diff, grads = [], [], []
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        assert_same_values(e, t, f"output {k}")
        if t.requires_grad:
            assert e.requires_grad, f"output {k} does not require grad"
            e_diff.append(e)
            t_diff.append(t)
            grads.append(_upstream(tuple(t.shape), dtype, k))
    assert t_diff, "the case has nothing to differentiate"
    t_grads = torch.autograd.grad(t_diff, t_in, [torch.tensor(g) for g in grads], allow_unused=True)
    e_grads = ember.autograd.grad(e_diff, e_in, [ember.tensor(g) for g in grads], allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or not np.any(eg.numpy()), f"input {i}: torch has no gradient"
            continue
        assert eg is not None, f"input {i}: ember has no gradient"
        assert_same_bits(eg, tg, f"gradient of input {i}")


def _pair(dtype):
    a = np.array([[1.0, 2.0, 3.0, -0.5], [0.0, 7.0, -1.0, 2.0]])
    b = np.array([[1.0, 5.0, 3.0, -0.5], [0.0, 7.0, -2.0, 2.0]])
    return a, b


# ----------------------------------------------------------------------------------- binary max/min


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_binary_max_min_split_ties_as_torch(name, dtype):
    a, b = _pair(dtype)
    check_ties(lambda lib, x, y: getattr(lib, name)(x, y), a, b, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_binary_max_min_ties_under_broadcasting(name, dtype):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([[2.0], [2.0]])
    check_ties(lambda lib, x, y: getattr(lib, name)(x, y), a, b, dtype=dtype)
    check_ties(lambda lib, x, y: getattr(lib, name)(y, x), a, b, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_other_split_ties(name, dtype):
    a, b = _pair(dtype)
    check_ties(lambda lib, x, y: getattr(lib, name)(x, y), a, b, dtype=dtype)


# ---------------------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "median"])
def test_full_reductions_distribute_over_ties(name, dtype):
    for arr in (TIES, TIES[2], TIES[1], np.array([[4.0, 4.0], [4.0, 1.0]]), np.array(2.0)):
        check_ties(lambda lib, x: getattr(lib, name)(x), arr, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min", "median"])
def test_reductions_with_dim_pick_the_index_torch_picks(name, dim, keepdim, dtype):
    check_ties(lambda lib, x: getattr(lib, name)(x, dim, keepdim=keepdim), TIES, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, (0, 1), -1])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_dim_distribute_over_ties(name, dim, keepdim, dtype):
    check_ties(lambda lib, x: getattr(lib, name)(x, dim, keepdim=keepdim), TIES, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cumulative_max_min_with_ties(name, dtype):
    for dim in (0, 1):
        check_ties(lambda lib, x, d=dim: getattr(lib, name)(x, d), TIES, dtype=dtype)


# ------------------------------------------------------------------------------------------- sorting


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_sort_with_ties(dim, descending, dtype):
    check_ties(lambda lib, x: lib.sort(x, dim=dim, descending=descending, stable=True), TIES, dtype=dtype)
    check_ties(lambda lib, x: lib.sort(x, dim=dim, descending=descending), TIES, dtype=dtype)


def check_selection(fn, arr, dim, keepdim, dtype):
    """For a selection along dim (topk, kthvalue): values as torch's; the indices point at those values, and
    where the row has no ties they are torch's. (Among equal values torch's pick comes from its selection
    algorithm, which ember does not reproduce.) The gradient is the upstream gradient put at ember's indices."""
    x = np.array(arr, dtype=dtype)
    xe = ember.tensor(x, requires_grad=True)
    e_vals, e_idx = fn(ember, xe)
    t_vals, t_idx = fn(torch, torch.tensor(x))
    assert_same_values(e_vals, t_vals, "values")
    idx = e_idx.numpy()
    assert idx.dtype == np.int64 and idx.shape == tuple(t_idx.shape)
    if not keepdim:
        idx = np.expand_dims(idx, dim)
    np.testing.assert_array_equal(np.take_along_axis(x, idx, dim), to_np(e_vals).reshape(idx.shape))
    if len(np.unique(x)) == x.size:
        np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
    g = _upstream(tuple(t_vals.shape), dtype, 0)
    (grad,) = ember.autograd.grad(e_vals, xe, ember.tensor(g))
    expected = np.zeros_like(x)
    np.put_along_axis(expected, idx, g.reshape(idx.shape), dim)
    assert_same_bits(grad, expected, "gradient")


DISTINCT = np.array([[3.0, -1.0, 4.0, 1.5, 5.0, -9.0], [2.0, 6.0, -5.0, 3.5, 0.0, 8.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [False, True])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_topk_with_ties(k, largest, dtype):
    for arr in (TIES, DISTINCT):
        check_selection(lambda lib, x: lib.topk(x, k, dim=1, largest=largest), arr, 1, True, dtype)
        check_selection(lambda lib, x: lib.topk(x, min(k, 2), dim=0, largest=largest), arr, 0, True, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_kthvalue_with_ties(k, keepdim, dtype):
    for arr in (TIES, DISTINCT):
        check_selection(lambda lib, x: lib.kthvalue(x, k, dim=1, keepdim=keepdim), arr, 1, keepdim, dtype)
        check_selection(lambda lib, x: lib.kthvalue(x, min(k, 2), dim=0, keepdim=keepdim), arr, 0, keepdim, dtype)


# ------------------------------------------------------------------------------------------- pooling

POOL_1D = np.array([[[1.0, 3.0, 3.0, 2.0, 2.0, 2.0, 0.0, 5.0, 5.0]]])
POOL_2D = np.array(
    [
        [
            [
                [1.0, 1.0, 2.0, 2.0, 0.0],
                [1.0, 1.0, 2.0, 2.0, 0.0],
                [3.0, 0.0, 3.0, 0.0, 3.0],
                [-1.0, -1.0, -1.0, -1.0, -1.0],
                [4.0, 4.0, 4.0, 4.0, 4.0],
            ]
        ]
    ]
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 1)])
def test_max_pool1d_ties_inside_a_window(kernel, stride, padding, dtype):
    def fn(lib, x):
        F = EF if lib is ember else torch.nn.functional
        return F.max_pool1d(x, kernel, stride, padding, return_indices=True)

    check_ties(fn, POOL_1D, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 1)])
def test_max_pool2d_ties_inside_a_window(kernel, stride, padding, dtype):
    def fn(lib, x):
        F = EF if lib is ember else torch.nn.functional
        return F.max_pool2d(x, kernel, stride, padding, return_indices=True)

    check_ties(fn, POOL_2D, dtype=dtype)
    check_ties(fn, -POOL_2D, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_without_indices_and_adaptive_pooling_with_ties(dtype):
    def pooled(lib, x):
        F = EF if lib is ember else torch.nn.functional
        return F.max_pool2d(x, 2, 1)

    def adaptive(lib, x):
        F = EF if lib is ember else torch.nn.functional
        return F.adaptive_max_pool2d(x, (2, 3), return_indices=True)

    check_ties(pooled, POOL_2D, dtype=dtype)
    check_ties(adaptive, POOL_2D, dtype=dtype)


# ---------------------------------------------------------------------------------- clamp and kinks

KINKS = np.array([-7.0, -6.0, -3.0, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (0.0, 0.0), (2.0, 2.0), (-1.0, None), (None, 1.0), (3.0, 1.0)])
def test_clamp_at_its_bounds(lo, hi, dtype):
    check_ties(lambda lib, x: lib.clamp(x, lo, hi), KINKS, dtype=dtype)
    if lo is not None:
        check_ties(lambda lib, x: lib.clamp_min(x, lo), KINKS, dtype=dtype)
    if hi is not None:
        check_ties(lambda lib, x: lib.clamp_max(x, hi), KINKS, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_with_tensor_bounds_at_and_across_them(dtype):
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0])
    lo = np.array([-1.0, 0.5, 1.0, 2.0, 3.0, 3.0, 0.0])
    hi = np.array([-1.0, 0.0, 2.0, 2.0, 3.0, 1.0, 1.0])
    check_ties(lambda lib, a, b, c: lib.clamp(a, b, c), x, lo, hi, dtype=dtype)
    check_ties(lambda lib, a, b: lib.clamp(a, min=b), x, lo, dtype=dtype)
    check_ties(lambda lib, a, c: lib.clamp(a, max=c), x, hi, dtype=dtype)


def _functional(name, *args, **kwargs):
    def fn(lib, x):
        F = EF if lib is ember else torch.nn.functional
        return getattr(F, name)(x, *args, **kwargs)

    return fn


KINKED = [
    ("relu", (), {}),
    ("relu6", (), {}),
    ("hardtanh", (), {}),
    ("hardtanh", (-3.0, 2.0), {}),
    ("hardtanh", (0.5, 0.5), {}),
    ("leaky_relu", (0.1,), {}),
    ("elu", (2.0,), {}),
    ("celu", (2.0,), {}),
    ("selu", (), {}),
    ("threshold", (1.0, -4.0), {}),
    ("hardshrink", (0.5,), {}),
    ("softshrink", (0.5,), {}),
    ("hardsigmoid", (), {}),
    ("hardswish", (), {}),
]


# The exponential branch of these is compared elsewhere; only its kink at zero is the subject here.
EXP_KINKS = np.array([-0.0, 0.0, 0.5, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kwargs", KINKED, ids=[f"{n}{a}" for n, a, _ in KINKED])
def test_activations_exactly_at_their_kinks(name, args, kwargs, dtype):
    inputs = EXP_KINKS if name in ("elu", "celu", "selu") else KINKS
    check_ties(_functional(name, *args, **kwargs), inputs, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "abs", "sign", "sgn"])
def test_relu_and_abs_at_zero(name, dtype):
    check_ties(lambda lib, x: getattr(lib, name)(x), KINKS, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norms_at_zero(dtype):
    zero = np.zeros((2, 3))
    check_ties(lambda lib, x: lib.norm(x), zero, dtype=dtype)
    check_ties(lambda lib, x: lib.norm(x, 1), zero, dtype=dtype)
    check_ties(lambda lib, x: lib.norm(x, float("inf")), np.array([1.0, -3.0, 3.0, 2.0]), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("l1_loss", {}),
        ("mse_loss", {}),
        ("smooth_l1_loss", {"beta": 1.0}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
    ],
)
def test_losses_at_zero_difference_and_at_their_kink(name, kwargs, dtype):
    x = np.array([0.0, 1.0, 2.0, -1.0, 3.0])
    y = np.array([0.0, 0.0, 3.0, 0.0, 3.0])

    def fn(lib, a, b):
        F = EF if lib is ember else torch.nn.functional
        return getattr(F, name)(a, b, reduction="none", **kwargs)

    check_ties(fn, x, y, dtype=dtype)

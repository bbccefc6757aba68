"""Small reductions take cached plans (few NumPy calls); they must add in torch's order all the same."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import ember
from ember.ops import _cascade_sum as cs

SHAPES = [(2, 3), (3, 2), (7, 3), (3, 7), (5, 9), (9, 5), (6, 4, 3), (2, 7, 5), (4, 1, 6), (1, 7, 2), (8, 3), (3, 33)]


def _data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * rng.choice(np.array([1e-3, 1.0, 1e3]), shape) + 0.25).astype(dtype)


def _dim_sets(ndim):
    for k in range(1, ndim):
        yield from itertools.combinations(range(ndim), k)


def _general(a: np.ndarray, dims: tuple) -> np.ndarray | None:
    """The general algorithm (no plan shortcut), for comparison."""
    kept = [(s, i in dims) for i, s in enumerate(a.shape) if s != 1]
    flags = [r for _, r in kept]
    out_shape = tuple(s for i, s in enumerate(a.shape) if i not in dims)
    if not any(flags):
        return (a + a.dtype.type(0)).reshape(out_shape)
    first, last = flags.index(True), len(flags) - 1 - flags[::-1].index(True)
    if not all(flags[first : last + 1]):
        return None
    sizes = [s for s, _ in kept]
    p, r, q = math.prod(sizes[:first]), math.prod(sizes[first : last + 1]), math.prod(sizes[last + 1 :])
    res = cs._inner(a.reshape(p, r)) if q == 1 else cs._outer(a.reshape(p, r, q))
    return (res + a.dtype.type(0)).reshape(out_shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plans_match_the_general_algorithm_bit_for_bit(dtype):
    for i, shape in enumerate(SHAPES):
        a = _data(shape, dtype, i)
        for dims in _dim_sets(len(shape)):
            ours, ref = cs.torch_order_sum(a, dims), _general(a, dims)
            assert (ours is None) == (ref is None), (shape, dims)
            if ref is not None:
                assert ours.shape == ref.shape and ours.tobytes() == ref.tobytes(), (shape, dims)


@pytest.mark.parametrize("keepdim", [False, True])
def test_small_sums_and_means_match_torch_bit_for_bit(keepdim):
    for i, shape in enumerate(SHAPES):
        a = _data(shape, np.float32, 100 + i)
        for dims in _dim_sets(len(shape)):
            if cs.torch_order_sum(a, dims) is None:
                continue  # reduced dims that are not adjacent: NumPy's order, not torch's (documented)
            for op in ("sum", "mean"):
                e = getattr(ember.tensor(a), op)(dims, keepdim=keepdim)
                t = getattr(torch.tensor(a), op)(dims, keepdim=keepdim)
                assert tuple(e.shape) == tuple(t.shape)
                assert np.asarray(e._data).tobytes() == t.numpy().tobytes(), (shape, dims, op)


def test_all_negative_zero_rows_sum_to_positive_zero():
    a = np.full((7, 3), -0.0, np.float32)
    for dims in ((0,), (1,)):
        e, t = ember.tensor(a).sum(dims), torch.tensor(a).sum(dims)
        assert np.asarray(e._data).tobytes() == t.numpy().tobytes()


def test_bias_gradient_of_a_small_batch_matches_torch():
    x = _data((7, 4), np.float32, 7)
    w, b = _data((3, 4), np.float32, 8), _data((3,), np.float32, 9)
    grads = []
    for lib in (ember, torch):
        bias = lib.tensor(b, requires_grad=True)
        lib.nn.functional.linear(lib.tensor(x), lib.tensor(w), bias).softmax(1).sum(0).pow(2).sum().backward()
        grads.append(np.asarray(bias.grad.numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)

"""The maximum over a short last axis (softmax and cross-entropy shifts) equals NumPy's reduce exactly."""

from __future__ import annotations

import numpy as np
import pytest

from ember.ops.nn_ops import _max_keepdims, _max_reduce


@pytest.mark.parametrize("shape", [(200, 10), (50, 3), (40, 2), (100, 64), (7, 5, 9), (300, 33), (4, 3), (3, 100)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_max_over_last_axis_equals_the_reduce(shape, dtype, layout):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[rng.integers(0, a.size, 3)] = np.nan
    a.flat[rng.integers(0, a.size, 3)] = np.inf
    a.flat[rng.integers(0, a.size, 3)] = -np.inf
    if layout == "transposed":
        a = np.swapaxes(np.swapaxes(a, 0, -1).copy(), 0, -1)
    expected = _max_reduce(a, axis=a.ndim - 1, keepdims=True)
    got = _max_keepdims(a, a.ndim - 1)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_cross_entropy_with_a_huge_target_names_it_instead_of_allocating():
    import torch

    import ember

    logits = np.zeros((2, 3), dtype=np.float32)
    for lib in (ember, torch):
        with pytest.raises(IndexError, match="out of bounds"):
            lib.nn.functional.cross_entropy(lib.tensor(logits), lib.tensor([0, 10**12]))

"""relu at the edges: signed zeros, NaN and infinity, forward and backward, bit for bit against torch.

torch's backward passes the gradient where the output is not <= 0 (so through NaN outputs) and gives
+0 elsewhere, even for a NaN or infinite incoming gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import assert_same_bits

import ember
from ember.ops import pointwise

NAN, INF = float("nan"), float("inf")
INPUTS = [-0.0, 0.0, NAN, -NAN, -1.0, 2.0, INF, -INF, 3.0, -5.0, 1e-30]
GRADS = [-1.0, -1.0, 5.0, 5.0, NAN, -3.0, NAN, NAN, INF, -INF, -2.0]


def _ember_grad(x: np.ndarray, g: np.ndarray, create_graph: bool) -> np.ndarray:
    xe = ember.tensor(x, requires_grad=True)
    (grad,) = ember.autograd.grad(ember.relu(xe), [xe], ember.tensor(g), create_graph=create_graph)
    return grad.detach().numpy()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("shape", [(11,), (1, 11), (11, 1)])
def test_relu_backward_matches_torch_bit_for_bit(dtype, create_graph, shape):
    x = np.array(INPUTS, dtype=dtype).reshape(shape)
    g = np.array(GRADS, dtype=dtype).reshape(shape)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(g))
    got = _ember_grad(x, g, create_graph)
    assert_same_bits(got, xt.grad)


def test_relu_backward_of_a_scalar():
    got = _ember_grad(np.array(2.5, np.float32), np.array(-4.0, np.float32), False)
    assert got.shape == () and got == -4.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_values_match_torch_with_and_without_the_zeros_buffer(dtype, monkeypatch):
    x = np.array(INPUTS * 50, dtype=dtype)
    expected = torch.relu(torch.tensor(x)).numpy()
    for limit in (pointwise._ZEROS_MAX_SIZE, 0):  # 0: the scalar comparison every large array takes
        monkeypatch.setattr(pointwise, "_ZEROS_MAX_SIZE", limit)
        pointwise._zeros_by_dtype.clear()
        got = ember.relu(ember.tensor(x)).numpy()
        np.testing.assert_array_equal(got, expected)  # equal values; the sign of zero may differ
    pointwise._zeros_by_dtype.clear()


def test_the_zeros_buffer_cannot_be_written_through_relu():
    x = ember.tensor([[-1.0, 2.0]])
    y = ember.relu(x)
    y.add_(1.0)
    assert ember.relu(ember.tensor([[-3.0, -4.0]])).tolist() == [[0.0, 0.0]]


def test_the_zeros_buffer_is_one_per_dtype_and_serves_every_shape():
    pointwise._zeros_by_dtype.clear()
    for shape in [(3, 4), (50, 20), (7,), (2, 3, 4)]:
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(ember.relu(ember.tensor(x)).numpy(), np.maximum(x, 0))
    assert list(pointwise._zeros_by_dtype) == [np.dtype(np.float32)]
    assert pointwise._zeros_by_dtype[np.dtype(np.float32)].size == 1000  # the largest seen, not one per shape

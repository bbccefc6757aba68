"""float32/float64 sums and means reproduce torch's CPU results bit for bit (same addition order)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import assert_same_bits

import ember
from ember.ops._cascade_sum import SERIAL_LIMIT, torch_order_sum

SIZES = [*range(1, 70), 127, 128, 129, 255, 256, 257, 1000, 1023, 4097, 9999, 16384, 20001, 32767, SERIAL_LIMIT]


def _data(n, dtype, seed):
    rng = np.random.default_rng(seed)
    scale = rng.choice(np.array([1e-3, 1.0, 1e3]), n)
    return (rng.standard_normal(n) * scale + 0.25).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_full_reduction_bitwise(op, dtype):
    for i, n in enumerate(SIZES):
        a = _data(n, dtype, i)
        assert_same_bits(getattr(ember.tensor(a), op)(), getattr(torch.tensor(a), op)())


def test_linspace_examples():
    t = torch.nn.functional.elu(torch.linspace(-40, 40, 1000))
    e = ember.nn.functional.elu(ember.linspace(-40, 40, 1000))
    assert_same_bits(e.sum(), t.sum())
    # the same values as torch's tanh output: the sum must come out -4.7684e-06 as torch prints
    vals = torch.tanh(torch.linspace(-20, 20, 1000))
    assert_same_bits(ember.tensor(vals.numpy()).sum(), vals.sum())
    assert str(ember.tensor(vals.numpy()).sum()) == str(vals.sum())


@pytest.mark.parametrize(
    "shape,dim",
    [
        ((64, 10), 0),
        ((64, 10), 1),
        ((10, 64), 0),
        ((10, 64), 1),
        ((33, 7), 0),
        ((5, 70, 9), 1),
        ((4, 300, 17), (1, 2)),
        ((9, 200, 16), (0, 1)),
        ((2, 3, 4, 5), (1, 2)),
        ((17, 1, 23), 2),
        ((17, 1, 23), 1),
        ((128, 128), 0),
    ],
)
@pytest.mark.parametrize("keepdim", [False, True])
def test_dim_reduction_bitwise(shape, dim, keepdim):
    a = (np.random.default_rng(7).standard_normal(shape) * 10 + 0.1).astype(np.float32)
    for op in ("sum", "mean"):
        assert_same_bits(
            getattr(ember.tensor(a), op)(dim, keepdim=keepdim), getattr(torch.tensor(a), op)(dim, keepdim=keepdim)
        )


def test_memory_order_for_transposed_input():
    a = _data(777, np.float32, 3).reshape(21, 37)
    assert_same_bits(ember.tensor(a).t().sum(), torch.tensor(a).t().sum())


def test_negative_zero_sums_to_positive_zero():
    a = np.full(5, -0.0, np.float32)
    assert_same_bits(ember.tensor(a).sum(), torch.tensor(a).sum())


def test_threaded_sizes_emulated_when_thread_count_known():
    a = _data(3 * SERIAL_LIMIT + 5, np.float32, 11)
    threads = torch.get_num_threads()
    ours = torch_order_sum(a, (0,), threads=threads)
    assert ours.tobytes() == torch.tensor(a).sum().numpy().tobytes()
    # without a thread count the order is unknown: ember falls back to NumPy and stays close
    assert torch_order_sum(a, (0,)) is None
    np.testing.assert_allclose(ember.tensor(a).sum().item(), torch.tensor(a).sum().item(), rtol=1e-5)


def test_non_adjacent_dims_fall_back_close():
    a = np.random.default_rng(1).standard_normal((6, 5, 4)).astype(np.float32)
    assert torch_order_sum(a, (0, 2)) is None
    np.testing.assert_allclose(ember.tensor(a).sum((0, 2))._data, torch.tensor(a).sum((0, 2)).numpy(), rtol=1e-5)

"""Optimizer updates round as torch's kernels do: add_(x, alpha=a) and lerp_ are fused multiply-adds.

Two separate NumPy ufuncs round twice and differ from torch by one ulp in a few per cent of elements,
so these tests compare bit patterns, not values within a tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import assert_same_bits

import ember
from ember import _blas
from ember.optim import _kernels as K


def _pair(n: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    # mixed magnitudes, so that a twice-rounded result differs from a once-rounded one often
    x = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(dtype)
    y = rng.standard_normal(n).astype(dtype)
    return x, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 16, 33, 1000, 40_001])
@pytest.mark.parametrize("alpha", [-0.01, 0.9, -3.0])
def test_axpy_matches_torch_add_with_alpha_bit_for_bit(dtype, n, alpha):
    x, y = _pair(n, dtype)
    expected = torch.from_numpy(y.copy()).add_(torch.from_numpy(x), alpha=alpha).numpy()
    got = y.copy()
    _blas.axpy(alpha, x, got)
    assert_same_bits(got, expected)
    assert (y + x * dtype(alpha)).tobytes() != expected.tobytes() or n < 100  # two roundings would differ


def test_axpy_without_the_blas_still_rounds_once_for_float32(monkeypatch):
    x, y = _pair(10_000, np.float32, seed=3)
    expected = torch.from_numpy(y.copy()).add_(torch.from_numpy(x), alpha=-0.37).numpy()
    monkeypatch.setattr(_blas, "_fused_axpy", {})  # as if the BLAS rounded twice (or were absent)
    got = y.copy()
    _blas.axpy(-0.37, x, got)
    assert_same_bits(got, expected)


def test_axpy_on_non_contiguous_arrays_takes_the_fallback_with_the_same_result():
    x, y = _pair(2000, np.float32, seed=5)
    xs, ys = x.reshape(40, 50)[:, ::2], y.reshape(40, 50)[:, ::2].copy()
    expected = torch.from_numpy(ys.copy()).add_(torch.from_numpy(np.ascontiguousarray(xs)), alpha=0.25).numpy()
    _blas.axpy(0.25, xs, ys)
    assert_same_bits(ys, expected)


def test_a_blas_axpy_that_rounds_twice_is_not_used(monkeypatch):
    if _blas._library() is None:
        pytest.skip("NumPy is not linked to OpenBLAS here")

    def rounds_twice(n, alpha, x_ptr, incx, y_ptr, incy):
        x = np.ctypeslib.as_array((np.ctypeslib.ctypes.c_float * n).from_address(x_ptr))
        y = np.ctypeslib.as_array((np.ctypeslib.ctypes.c_float * n).from_address(y_ptr))
        y += x * np.float32(alpha)

    monkeypatch.setattr(_blas._blas, "axpy", {np.dtype(np.float32): rounds_twice})
    monkeypatch.setattr(_blas, "_fused_axpy", _blas._UNSET)
    assert np.dtype(np.float32) not in _blas._checked_axpy()
    monkeypatch.setattr(_blas, "_fused_axpy", _blas._UNSET)  # let the next test check the real one


@pytest.mark.parametrize("weight", [0.1, 0.45, 0.5, 0.9, 0.999])
def test_lerp_kernel_matches_torch_lerp_bit_for_bit(weight):
    end, start = _pair(30_001, np.float32, seed=1)
    expected = torch.from_numpy(start.copy()).lerp_(torch.from_numpy(end), weight).numpy()
    got = start.copy()
    K.lerp(got, end, weight, np.empty_like(got))
    assert_same_bits(got, expected)


SGD_CASES = [
    {"lr": 0.01},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "maximize": True},
]


@pytest.mark.parametrize("options", SGD_CASES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_parameters_equal_torch_bit_for_bit_after_many_steps(options):
    rng = np.random.default_rng(2)
    shapes = [(200, 784), (200,), (10, 3), (1,)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [
        [(rng.standard_normal(s) * 10.0 ** rng.integers(-2, 2)).astype(np.float32) for s in shapes] for _ in range(6)
    ]

    def run(lib):
        params = [lib.nn.Parameter(lib.from_numpy(a.copy())) for a in start]
        opt = lib.optim.SGD(params, **options)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = lib.from_numpy(g.copy())
            opt.step()
        return [p.detach().numpy() for p in params]

    for mine, theirs in zip(run(ember), run(torch)):
        assert_same_bits(mine, theirs)


def test_axpy_in_float16_rounds_once_from_float32_as_torch():
    x, y = _pair(4000, np.float16, seed=8)  # whole vectors: torch's scalar tail for float16 is not fused
    expected = torch.from_numpy(y.copy()).add_(torch.from_numpy(x), alpha=-0.37).numpy()
    got = y.copy()
    _blas.axpy(-0.37, x, got)
    np.testing.assert_array_equal(got.view(np.uint16), expected.view(np.uint16))

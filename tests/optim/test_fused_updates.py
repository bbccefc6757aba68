"""Optimizer updates round as torch's kernels do where the machine allows: add_(x, alpha=a) and lerp_ are fused
multiply-adds in torch, and ember's axpy rounds once through a BLAS axpy that was checked to, else twice.

Two NumPy ufuncs round twice and differ from torch by one ulp in a few per cent of elements, so these tests
compare bit patterns: against torch where `_blas.rounds_once` says the machine allows it, and against the
twice-rounded NumPy expression everywhere else (EMBER_FALLBACKS=axpy forces that outcome)."""

from __future__ import annotations

import ctypes

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


def _torch_add(y, x, alpha):
    return torch.from_numpy(y.copy()).add_(torch.from_numpy(np.ascontiguousarray(x)), alpha=alpha).numpy()


def _torch_rounds_once(dtype) -> bool:
    """Whether torch's own add_(x, alpha=a) rounds once on this CPU (its kernels without FMA round twice)."""
    e = dtype(2.0 ** -(np.finfo(dtype).nmant // 2 + 2))
    for n in (1, 7, 33, 77, 1000, 40_001):
        if not np.all(_torch_add(np.full(n, -1, dtype), np.full(n, 1 + e, dtype), 1 - e) == -e * e):
            return False
    return True


TORCH_ROUNDS_ONCE = {dtype: _torch_rounds_once(dtype) for dtype in (np.float32, np.float64)}


def _within_one_rounding_of_the_product(got, expected, product) -> bool:
    """Each element of got is expected, up to one more rounding of alpha * x (the weaker guarantee): at most
    one unit in the last place of the result plus half of one of the product, in their own precision."""
    ulp = lambda v: np.spacing(np.abs(v)).astype(np.longdouble)  # noqa: E731
    diff = np.abs(got.astype(np.longdouble) - expected.astype(np.longdouble))
    return bool(np.all(diff <= ulp(expected) + ulp(product) / 2))


def _check_add(got, y, x, alpha) -> None:
    """got is y + alpha * x as this machine allows: torch's bits where both ember and torch round once here,
    two NumPy roundings where ember's check found no fused axpy, and within one rounding of torch otherwise."""
    dtype = y.dtype.type
    if not _blas.rounds_once(dtype):
        assert_same_bits(got, y + x * dtype(alpha))
    elif TORCH_ROUNDS_ONCE[dtype]:
        assert_same_bits(got, _torch_add(y, x, alpha))
    else:
        assert _within_one_rounding_of_the_product(_torch_add(y, x, alpha), got, x * dtype(alpha))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 16, 33, 1000, 40_001])
@pytest.mark.parametrize("alpha", [-0.01, 0.9, -3.0])
def test_axpy_rounds_as_torch_where_the_machine_allows_else_as_two_ufuncs(dtype, n, alpha):
    x, y = _pair(n, dtype)
    got = y.copy()
    _blas.axpy(alpha, x, got)
    _check_add(got, y, x, alpha)
    if n >= 1000:  # the two roundings differ on these inputs, so the comparison above tells them apart
        fused = y.copy()
        _fused_reference(x, fused, alpha)
        assert fused.tobytes() != (y + x * dtype(alpha)).tobytes()


def _fused_reference(x, y, alpha):
    """y += alpha * x rounded once, for float32 (exact product and sum in float64, one rounding to float32 but
    for rare double roundings) or float64 (the same through np.longdouble where it is wider)."""
    wide = np.longdouble if y.dtype == np.float64 else np.float64
    y[:] = (y.astype(wide) + wide(y.dtype.type(alpha)) * x.astype(wide)).astype(y.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_twice_rounded_updates_differ_from_once_rounded_ones_by_at_most_one_rounding_of_the_product(dtype):
    x, y = _pair(100_000, dtype, seed=11)
    alpha = dtype(-0.37)
    fused = y.copy()
    _fused_reference(x, fused, alpha)
    twice = y + x * alpha
    assert _within_one_rounding_of_the_product(twice, fused, x * alpha)
    assert np.any(twice != fused)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_without_a_checked_blas_axpy_updates_round_twice_as_two_ufuncs(monkeypatch, dtype):
    monkeypatch.setattr(_blas, "_fused_axpy", {})  # as EMBER_FALLBACKS=axpy, or a BLAS that is not OpenBLAS
    assert not _blas.rounds_once(dtype)
    x, y = _pair(10_000, dtype, seed=3)
    got = y.copy()
    _blas.axpy(-0.37, x, got)
    assert_same_bits(got, y + x * dtype(-0.37))


def test_axpy_on_non_contiguous_arrays_gives_the_contiguous_result():
    x, y = _pair(2000, np.float32, seed=5)
    xs, ys = x.reshape(40, 50)[:, ::2], y.reshape(40, 50)[:, ::2].copy()
    before = ys.copy()
    _blas.axpy(0.25, xs, ys)
    _check_add(ys, before, np.ascontiguousarray(xs), 0.25)


# ---- the check on first use, and the blocked path, with stand-in BLAS kernels (any machine) ----


def _arrays(n, x_ptr, y_ptr, dtype):
    ctype = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    return (
        np.ctypeslib.as_array((ctype * n).from_address(x_ptr)),
        np.ctypeslib.as_array((ctype * n).from_address(y_ptr)),
    )


def _fused_f32(x, y, alpha):
    # exact product in float64 and one rounding to float32: fused for the check's inputs (and nearly always)
    y[:] = (y.astype(np.float64) + np.float64(np.float32(alpha)) * x.astype(np.float64)).astype(np.float32)


def _twice_f32(x, y, alpha):
    y += x * np.float32(alpha)


def _stand_in(block: int, calls: list | None = None, threads_split: bool = False, split_above: int = 10_000):
    """A float32 axpy whose vector loop (whole blocks of `block`) rounds once and whose scalar tail rounds twice;
    with threads_split, calls longer than split_above are cut in two pieces (each with its own tail) unless
    OpenBLAS is on one thread."""

    def kernel(n, alpha, x_ptr, incx, y_ptr, incy):
        x, y = _arrays(n, x_ptr, y_ptr, np.float32)
        if calls is not None:
            calls.append((n, _blas._current))
        pieces = [(0, n)]
        if threads_split and n > split_above and _blas._current > 1:
            pieces = [(0, n // 2 + 1), (n // 2 + 1, n)]
        for start, stop in pieces:
            body = start + (stop - start) // block * block
            _fused_f32(x[start:body], y[start:body], alpha)
            _twice_f32(x[body:stop], y[body:stop], alpha)

    return kernel


@pytest.fixture
def two_threads(monkeypatch):
    """OpenBLAS on two threads as far as _blas can tell, without touching the real library."""
    monkeypatch.setattr(_blas, "_configured", 2)
    monkeypatch.setattr(_blas, "_current", 2)
    monkeypatch.setattr(_blas, "_use", lambda n: setattr(_blas, "_current", n))


def test_the_check_finds_the_block_length_of_a_kernel_fused_only_in_its_vector_loop(two_threads):
    f32 = np.dtype(np.float32)
    assert _blas._granule(_stand_in(1), f32) == 1
    assert _blas._granule(_stand_in(32), f32) == 32
    assert _blas._granule(_stand_in(8, threads_split=True), f32) == 8  # threaded pieces have tails: one thread
    assert _blas._granule(lambda n, a, xp, ix, yp, iy: _twice_f32(*_arrays(n, xp, yp, f32), a), f32) == 0
    assert _blas._granule(_stand_in(128), f32) == 0  # longer blocks than any granule tried


def test_short_blocked_calls_stay_on_the_configured_count_only_where_the_check_saw_them_unsplit(two_threads):
    f32 = np.dtype(np.float32)
    assert _blas._unsplit_length(_stand_in(32, threads_split=True), f32, 32) == _blas._UNSPLIT_LENGTH
    assert _blas._unsplit_length(_stand_in(32, threads_split=True, split_above=4000), f32, 32) == 0
    calls = []
    kernel = _blas._Axpy(_stand_in(32, calls, threads_split=True), 32, f32, unsplit=_blas._UNSPLIT_LENGTH)
    for n in (1000, 40_007):
        x, y = _pair(n, np.float32, seed=n)
        got = y.copy()
        kernel.run(n, 0.3, x.ctypes.data, got.ctypes.data)
        expected = y.copy()
        _fused_f32(x, expected, 0.3)
        assert_same_bits(got, expected)
    assert [(length, threads) for length, threads in calls if length > 32] == [(992, 2), (40_000, 1)]


@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000, 40_007])
def test_a_blocked_kernel_runs_whole_blocks_on_one_thread_and_pads_the_tail(two_threads, n):
    calls = []
    kernel = _blas._Axpy(_stand_in(32, calls, threads_split=True), 32, np.dtype(np.float32))
    x, y = _pair(n, np.float32, seed=n)
    got = y.copy()
    kernel.run(n, 0.3, x.ctypes.data, got.ctypes.data)
    expected = y.copy()
    _fused_f32(x, expected, 0.3)  # every element rounded once
    assert_same_bits(got, expected)
    assert all(length % 32 == 0 for length, _ in calls)
    assert all(threads == 1 for length, threads in calls if length > 32)
    assert _blas._current == 2  # the configured count again afterwards
    assert len(calls) == (n >= 32) + (n % 32 != 0)


def test_the_real_blas_axpy_in_blocks_still_rounds_once(monkeypatch):
    """On a machine whose BLAS axpy rounds once, forcing the blocked path (as a CPU fused only in its vector
    loop takes) must still round once: whole blocks on one thread, the tail through a scratch block."""
    fused = _blas._checked_axpy()
    if not fused:
        assert not _blas.rounds_once(np.float32) and not _blas.rounds_once(np.float64)
        return  # this machine's outcome is the twice-rounded one, covered above
    for dtype, kernel in list(fused.items()):
        if 64 % kernel.granule:
            continue
        for unsplit in (0, _blas._UNSPLIT_LENGTH):  # long bodies on one thread; short ones on the configured count
            monkeypatch.setitem(fused, dtype, _blas._Axpy(kernel.fn, 64, dtype, unsplit=unsplit))
            for n in (5, 64, 100, 8_191, 40_001):
                x, y = _pair(n, dtype, seed=n)
                got = y.copy()
                _blas.axpy(0.9, x, got)
                _check_add(got, y, x, 0.9)


# ---- the optimizers ----


@pytest.mark.parametrize("weight", [0.1, 0.45, 0.5, 0.9, 0.999])
def test_lerp_kernel_matches_torch_lerp_where_the_machine_allows(weight):
    end, start = _pair(30_001, np.float32, seed=1)
    expected = torch.from_numpy(start.copy()).lerp_(torch.from_numpy(end), weight).numpy()
    got = start.copy()
    K.lerp(got, end, weight, np.empty_like(got))
    if _blas.rounds_once(np.float32) and TORCH_ROUNDS_ONCE[np.float32]:
        assert_same_bits(got, expected)
    else:  # one rounding of the product w * (end - start) more than torch
        product = np.abs(np.float32(weight if weight < 0.5 else weight - 1) * (end - start))
        assert np.all(np.abs(got - expected) <= np.spacing(np.abs(expected)) + np.spacing(product) / 2)


SGD_CASES = [
    {"lr": 0.01},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "maximize": True},
]


@pytest.mark.parametrize("options", SGD_CASES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_parameters_equal_torch_after_many_steps(options):
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
        if _blas.rounds_once(np.float32) and TORCH_ROUNDS_ONCE[np.float32]:
            assert_same_bits(mine, theirs)
        else:  # one rounding more per update, six updates
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_axpy_in_float16_rounds_once_from_float32_as_torch():
    x, y = _pair(4000, np.float16, seed=8)  # whole vectors: torch's scalar tail for float16 is not fused
    expected = torch.from_numpy(y.copy()).add_(torch.from_numpy(x), alpha=-0.37).numpy()
    got = y.copy()
    _blas.axpy(-0.37, x, got)  # float16 never reads the machine: computed in float64, as torch's float32 FMA
    if TORCH_ROUNDS_ONCE[np.float32]:
        np.testing.assert_array_equal(got.view(np.uint16), expected.view(np.uint16))
    else:  # torch's kernel without FMA rounds the product first (to half precision, in its scalar loop)
        assert _within_one_rounding_of_the_product(got, expected, x * np.float16(-0.37))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_zero_alpha_still_turns_infinities_into_nan_as_torch(dtype):
    """OpenBLAS's axpy returns early for alpha == 0; torch computes y + 0 * x, which is NaN where x is inf."""
    x = np.array([np.inf, -np.inf, np.nan, 1.0] * 20, dtype)
    y = np.arange(80, dtype=dtype)
    for alpha in (0.0, -0.0):  # (inside an optimizer step, where NumPy's float warnings are off as in torch)
        got = y.copy()
        _blas.axpy(alpha, x, got)
        assert_same_bits(got, _torch_add(y, x, alpha))
    p = ember.nn.Parameter(ember.from_numpy(y.copy()))
    p.grad = ember.from_numpy(x.copy())
    ember.optim.SGD([p], lr=0.0).step()
    assert np.isnan(p.detach().numpy()[:3]).all() and np.isnan(p.detach().numpy()[4:7]).all()


def test_arrays_longer_than_the_blas_index_take_the_ufuncs(monkeypatch):
    """A BLAS built with 32-bit lengths cannot take 2**31 elements; such updates go through NumPy instead."""
    calls = []
    fused = _blas._checked_axpy()
    kernel = _blas._Axpy(lambda *a: calls.append(a), 1, np.dtype(np.float32), max_length=10)
    monkeypatch.setitem(fused, np.dtype(np.float32), kernel)
    x, y = _pair(11, np.float32)
    got = y.copy()
    _blas.axpy(0.5, x, got)
    assert calls == [] and got.tobytes() == (y + x * np.float32(0.5)).tobytes()
    _blas.axpy(0.5, x[:10], got[:10].copy())
    assert len(calls) == 1

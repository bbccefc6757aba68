"""The BLAS under NumPy: its thread count, a per-shape choice between one thread and all of them, and axpy.

A multithreaded matrix product is only faster when every BLAS thread gets a core. On a machine that is
busy with other work (a second training run, a browser, CI neighbours) the threads wait for each other
and a product can take ten times longer than on one thread. So for each matrix shape that is big
enough for OpenBLAS to split, ember times a few calls with one thread and with the configured count,
keeps the faster, and looks again every few seconds, since the machine's load changes.

torch's `add_(other, alpha=a)` rounds `self + a * other` once per element (a fused multiply-add).
NumPy has no fused multiply-add, and two ufuncs round twice. OpenBLAS's axpy is fused on CPUs with
FMA, wholly or only in its vector loop, so the optimizers update through it in the way a check on
first use showed to round once; where no such way exists they use two ufuncs.

Each of these choices has a fallback that EMBER_FALLBACKS forces (see ember/_machine.py).
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
from typing import Any, Callable

import numpy as np

from ._machine import forced
from ._quiet_floats import quiet

# OpenBLAS runs products with fewer multiply-adds than this on one thread whatever it is told.
SPLIT_MACS = 1 << 18
PROBE_CALLS = 5  # timed calls per thread count before choosing
REPROBE_SECONDS = 5.0  # how long a choice stands before it is measured again
MAX_SHAPES = 256  # product shapes remembered at once
_FIXED_THREADS = forced("threads")  # no per-shape choice: every product runs on the configured count


class _OpenBLAS:
    """The thread-count entry points of the OpenBLAS library NumPy loaded, found through ctypes."""

    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str) -> None:
        self.set_threads = getattr(lib, f"{prefix}_set_num_threads{suffix}")
        self.set_threads.argtypes = [ctypes.c_int]
        self.set_threads.restype = None
        self.get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
        self.get_threads.restype = ctypes.c_int
        self.corename = getattr(lib, f"{prefix}_get_corename{suffix}", None)
        if self.corename is not None:
            self.corename.restype = ctypes.c_char_p
        # cblas_?axpy(n, alpha, x, incx, y, incy), with 64-bit integers in the "64_" builds.
        index = ctypes.c_int64 if suffix == "64_" else ctypes.c_int
        self.max_length = 2**63 - 1 if suffix == "64_" else 2**31 - 1  # ctypes would wrap a longer one silently
        cblas = "scipy_cblas" if prefix == "scipy_openblas" else "cblas"
        self.axpy = {}
        for char, scalar in (("s", ctypes.c_float), ("d", ctypes.c_double)):
            fn = getattr(lib, f"{cblas}_{char}axpy{suffix}", None)
            if fn is not None:
                fn.argtypes = [index, scalar, ctypes.c_void_p, index, ctypes.c_void_p, index]
                fn.restype = None
                self.axpy[np.dtype(char.replace("s", "f"))] = fn


def _find_openblas() -> _OpenBLAS | None:
    """The loaded OpenBLAS, or None (another BLAS, or a system without /proc)."""
    import numpy  # noqa: F401  (NumPy loads its BLAS on import)

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                if hasattr(lib, f"{prefix}_set_num_threads{suffix}"):
                    return _OpenBLAS(lib, prefix, suffix)
    return None


_UNSET: Any = object()
_blas: Any = _UNSET
_configured = 0  # the thread count asked for (set_num_threads or the library's start-up value)
_current = 0  # the count OpenBLAS is set to right now


def _library() -> _OpenBLAS | None:
    global _blas, _configured, _current
    if _blas is _UNSET:
        _blas = None if forced("openblas") else _find_openblas()
        if _blas is not None:
            _configured = _current = max(1, int(_blas.get_threads()))
    return _blas


def num_threads() -> int:
    """Threads the BLAS may use for one product (the CPU count when the BLAS cannot be asked)."""
    return _configured if _library() is not None else (os.cpu_count() or 1)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity set where the system tells, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _load() -> float | None:
    """The system's one-minute load average (runnable threads), or None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def threads_for_load(limit: int) -> tuple[int, str]:
    """How many BLAS threads (at most limit) to give a new training run, and why, in words.

    On a machine whose CPUs other work keeps busy, BLAS threads wait for each other and spin: a product
    split over two threads can take ten times as long as on one. So the count is the CPUs left free by
    the load average (at least one). EMBER_FALLBACKS=load skips the check and uses limit."""
    if forced("load"):
        return limit, "the load check is off (EMBER_FALLBACKS=load)"
    load, cpus = _load(), usable_cpus()
    if load is None:
        return limit, "this system reports no load average"
    free = int(cpus - load + 0.5)
    count = max(1, min(limit, free))
    return count, f"load {load:.1f} on {cpus} CPU{'s' if cpus != 1 else ''}"


def load_outcome() -> str:
    """What the load check would give a training run now, in words (for the machine report)."""
    count, why = threads_for_load(num_threads())
    return f"{count} thread(s) for a new training run ({why})"


def set_num_threads(n: int) -> None:
    """Let the BLAS use up to n threads per product; raises for n < 1."""
    global _configured, _fused_axpy
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    if _library() is None:
        return  # another BLAS: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before start-up is the way
    _configured = n
    _use(n)
    _choices.clear()
    _fused_axpy = _UNSET  # checked again at the next update: how calls are split depends on the count


def _use(n: int) -> None:
    global _current
    if n != _current:
        _blas.set_threads(n)
        _current = n


class _Choice:
    """Timings of one product shape on one thread and on all, and the count chosen from them."""

    __slots__ = ("one", "many", "threads", "until")

    def __init__(self) -> None:
        self.one: list[float] = []
        self.many: list[float] = []
        self.threads = 0  # 0 while measuring
        self.until = 0.0


_choices: dict[tuple, _Choice] = {}
# OpenBLAS's thread count is one setting for the process: a call that changes it for a while (a per-shape
# choice, a blocked axpy) holds this lock, so two Python threads running ember never undo each other's.
_count_lock = threading.Lock()


def run_product(key: tuple, macs: int, product: Callable[[], Any]) -> Any:
    """Call product() (a BLAS matrix product of `macs` multiply-adds) on the thread count that is faster now.

    OpenBLAS's thread count is process-wide, so it is back at the configured count when this returns:
    NumPy products elsewhere (the user's, or ember's batched matmul) never inherit a choice made here."""
    if macs < SPLIT_MACS or _library() is None or _configured <= 1 or _FIXED_THREADS:  # _library() sets _configured
        return product()
    with _count_lock:
        try:
            return _chosen_product(key, product)
        finally:
            _use(_configured)


def _chosen_product(key: tuple, product: Callable[[], Any]) -> Any:
    choice = _choices.get(key)
    if choice is None:
        if len(_choices) >= MAX_SHAPES:  # many shapes (varying batch or sequence sizes): start over
            _choices.clear()
        choice = _choices[key] = _Choice()
        # OpenBLAS blocks some shapes differently on one thread and on several (K = 784, for one), which
        # changes the last bits. A choice driven by timing must not change results, so such shapes keep
        # the configured count for good; the others are measured.
        _use(1)
        alone = product()
        _use(_configured)
        result = product()
        if not _same_bits(alone, result):
            choice.threads, choice.until = _configured, math.inf
        return result
    if choice.threads:
        if time.monotonic() < choice.until:
            _use(choice.threads)
            return product()
        choice.one.clear()
        choice.many.clear()
        choice.threads = 0
    samples = choice.one if len(choice.one) <= len(choice.many) else choice.many
    _use(1 if samples is choice.one else _configured)
    start = time.perf_counter()
    result = product()
    samples.append(time.perf_counter() - start)
    if len(choice.many) >= PROBE_CALLS or _clear_winner(choice):
        faster_alone = _median(choice.one) < _median(choice.many)
        choice.threads = 1 if faster_alone else _configured
        choice.until = time.monotonic() + REPROBE_SECONDS
    return result


def _median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count); statistics costs 3 ms to import."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _same_bits(a: Any, b: Any) -> bool:
    """Whether two products are identical bit for bit (NaNs included)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _clear_winner(choice: _Choice) -> bool:
    """Two calls each and one count over twice as slow: more calls would only cost (a busy machine's are slow)."""
    if len(choice.one) < 2 or len(choice.many) < 2:
        return False
    one, many = _median(choice.one), _median(choice.many)
    return one > 2 * many or many > 2 * one


def matrix_product(a, b):
    """a @ b for 2-D arrays, on the thread count that is faster now for products of this shape and layout."""
    m, k = a.shape
    macs = m * k * b.shape[1]
    if macs < SPLIT_MACS:
        return a @ b
    key = (a.shape, b.shape, a.flags.c_contiguous, b.flags.c_contiguous, a.dtype.char)
    return run_product(key, macs, lambda: a @ b)


# ------------------------------------------------------------------ fused y += alpha * x

_LEVEL1_THREADED = 100_003  # longer than any length OpenBLAS keeps on one thread for axpy
# Blocked calls up to this length are left on the configured thread count when the check shows that OpenBLAS
# runs them in one piece there (it keeps short axpy calls on one thread); switching the count costs ~10 µs.
_UNSPLIT_LENGTH = 8192
_GRANULES = (1, 2, 4, 8, 16, 32, 64)


class _Axpy:
    """One dtype's BLAS axpy and the block length on which it was checked to round every element once.

    OpenBLAS kernels run whole blocks of elements in a vector loop and the rest in a scalar loop; on
    some CPUs the vector loop uses fused multiply-adds and the scalar loop does not. With a granule of
    1 every element rounds once, however the call is split. With a longer granule the call runs on
    one thread (a threaded call is cut into pieces whose tails would round twice; short calls that the
    check saw OpenBLAS keep in one piece stay on the configured count), over the whole blocks only, and the
    last few elements go through the same kernel as one whole block of scratch arrays (what lies beyond
    the tail there is left from earlier calls: each element is computed alone)."""

    __slots__ = (
        "fn",
        "granule",
        "unsplit",
        "max_length",
        "itemsize",
        "tail_x",
        "tail_y",
        "tail_x_at",
        "tail_y_at",
        "lock",
    )

    def __init__(self, fn: Any, granule: int, dtype: np.dtype, max_length: int = 2**31 - 1, unsplit: int = 0) -> None:
        self.fn = fn
        self.granule = granule
        self.unsplit = unsplit  # bodies up to this length were checked to run unsplit on the configured count
        self.max_length = max_length
        self.itemsize = dtype.itemsize
        self.tail_x = np.zeros(granule, dtype)
        self.tail_y = np.zeros(granule, dtype)
        self.tail_x_at = self.tail_x.ctypes.data
        self.tail_y_at = self.tail_y.ctypes.data
        self.lock = threading.Lock()  # the tail blocks are shared; ctypes releases the GIL during a call

    def run(self, n: int, alpha: float, x_at: int, y_at: int) -> None:
        """y[:n] += alpha * x[:n] for contiguous arrays at these addresses, every element rounded once."""
        g = self.granule
        if g == 1:
            self.fn(n, alpha, x_at, 1, y_at, 1)
            return
        tail = n % g
        body = n - tail
        if body:
            if _configured > 1 and body > self.unsplit:
                with _count_lock:
                    _use(1)
                    try:
                        self.fn(body, alpha, x_at, 1, y_at, 1)
                    finally:
                        _use(_configured)
            else:
                self.fn(body, alpha, x_at, 1, y_at, 1)
        if tail:
            offset, size = body * self.itemsize, tail * self.itemsize
            with self.lock:
                ctypes.memmove(self.tail_x_at, x_at + offset, size)
                ctypes.memmove(self.tail_y_at, y_at + offset, size)
                self.fn(g, alpha, self.tail_x_at, 1, self.tail_y_at, 1)
                ctypes.memmove(y_at + offset, self.tail_y_at, size)


_OFFSETS = ((0, 0), (1, 1), (1, 0), (0, 3))  # where x and y start, in elements past an aligned allocation


def _rounds_once(fn: Any, dtype: np.dtype, n: int, offsets: tuple[int, int]) -> bool:
    """Whether fn rounds each of n elements once, on arrays starting `offsets` elements into their allocations."""
    # (1 + e) * (1 - e) - 1 is -e*e exactly, while rounding the product first gives 0.
    e = dtype.type(2.0 ** -(np.finfo(dtype).nmant // 2 + 2))
    x = np.full(n + offsets[0], 1 + e, dtype=dtype)[offsets[0] :]
    y = np.full(n + offsets[1], -1, dtype=dtype)[offsets[1] :]
    fn(n, dtype.type(1 - e), x.ctypes.data, 1, y.ctypes.data, 1)
    return bool(np.all(y == -e * e))


def _granule(fn: Any, dtype: np.dtype) -> int:
    """The shortest block length on whose multiples fn rounds every element once (0 when none up to 64)."""
    for g in _GRANULES:
        if g == 1:  # any length, on the configured thread count (threaded calls are cut at arbitrary points)
            lengths = (1, 2, 3, 5, 7, 13, 31, 33, 77, 10_001, 40_007, _LEVEL1_THREADED)
        else:  # multiples of g, on one thread, as _Axpy.run calls it
            lengths = (g, 2 * g, 3 * g, 5 * g, 17 * g, g * (10_000 // g + 1), g * (_LEVEL1_THREADED // g))
        with _count_lock:
            if g > 1 and _configured > 1:
                _use(1)
            try:
                if all(_rounds_once(fn, dtype, n, offsets) for n in lengths for offsets in _OFFSETS):
                    return g
            finally:
                _use(_configured)
    return 0


def _unsplit_length(fn: Any, dtype: np.dtype, g: int) -> int:
    """_UNSPLIT_LENGTH when fn rounds every element once on multiples of g up to it at the configured thread
    count (so OpenBLAS did not cut them into threaded pieces with tails of their own), else 0."""
    if _configured <= 1:
        return 0
    top = _UNSPLIT_LENGTH - _UNSPLIT_LENGTH % g
    lengths = sorted({g * k for k in (1, 3, 7, 63, 129) if g * k <= top} | {top - g, top})
    with _count_lock:
        _use(_configured)
        ok = all(_rounds_once(fn, dtype, n, offsets) for n in lengths for offsets in _OFFSETS)
    return _UNSPLIT_LENGTH if ok else 0


_fused_axpy: Any = _UNSET  # dtype -> _Axpy, for the dtypes whose BLAS axpy was checked; filled on first use


def _checked_axpy() -> dict:
    """The BLAS axpy of each dtype whose rounding could be made once per element (checked, not assumed)."""
    global _fused_axpy
    if _fused_axpy is _UNSET:
        found = {}
        blas = _library()
        if blas is not None and not forced("axpy"):
            for dtype, fn in blas.axpy.items():
                g = _granule(fn, dtype)
                if g:
                    unsplit = _unsplit_length(fn, dtype, g) if g > 1 else 0
                    found[dtype] = _Axpy(fn, g, dtype, blas.max_length, unsplit)
        _fused_axpy = found
    return _fused_axpy


def outcomes() -> dict[str, str]:
    """What each machine-dependent choice of this module found here, in words (for benchmarks and bug reports)."""
    blas = _library()
    if blas is None:
        found = "not reached (" + ("forced off" if forced("openblas") else "NumPy's BLAS is not OpenBLAS") + ")"
    else:
        kernel = blas.corename().decode() if blas.corename is not None else "unknown"
        found = f"OpenBLAS, {kernel} kernels, {_configured} thread(s)"
    fused = _checked_axpy()
    axpy = []
    for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        k = fused.get(dtype)
        if k is None:
            axpy.append(f"{dtype.name} rounds twice (two NumPy ufuncs)")
        elif k.granule == 1:
            axpy.append(f"{dtype.name} rounds once (BLAS axpy)")
        else:
            where = f"on one thread above {k.unsplit} elements" if k.unsplit else "on one thread"
            axpy.append(
                f"{dtype.name} rounds once (BLAS axpy in blocks of {k.granule} {where}, tail in a scratch block)"
            )
    threads = "fixed at the configured count" if _FIXED_THREADS or blas is None else "chosen per shape by timing"
    return {"openblas": found, "axpy": "; ".join(axpy), "threads": threads}


def rounds_once(dtype: Any) -> bool:
    """Whether axpy on contiguous arrays of this dtype rounds each element once on this machine, as torch does."""
    return np.dtype(dtype) in _checked_axpy()


def _address(a: np.ndarray) -> int:
    """Where a's data starts (a must be contiguous); cheaper than a.ctypes.data for writable arrays."""
    if a.flags.writeable:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    return a.ctypes.data


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """y += alpha * x in place: rounded once per element (torch's add_ with alpha) where the BLAS allows.

    Where no checked BLAS axpy exists (forced, or not found) float32 and float64 round twice, as two
    NumPy ufuncs do: each element then differs from torch's by at most one rounding of alpha * x."""
    dtype = y.dtype
    fused = _fused_axpy if _fused_axpy is not _UNSET else _checked_axpy()
    kernel = fused.get(dtype)
    # alpha == 0: OpenBLAS returns without touching y, where y + 0 * x must turn into NaN wherever x is inf
    # or NaN; the two ufuncs below compute that, and round exactly as a fused multiply-add would.
    if (
        kernel is not None
        and alpha != 0
        and x.dtype == dtype
        and x.shape == y.shape
        and 0 < y.size <= kernel.max_length
        and y.flags.writeable
    ):
        # ctypes rounds alpha to the array's precision, as torch converts it to the tensor's type.
        if x.flags.c_contiguous and y.flags.c_contiguous:
            if kernel.granule == 1:  # the common case, without run()'s frame
                kernel.fn(y.size, alpha, _address(x), 1, _address(y), 1)
            else:
                kernel.run(y.size, alpha, _address(x), _address(y))
        else:  # strided: through contiguous copies (rare: optimizer state is allocated contiguous)
            work, source = np.ascontiguousarray(y), np.ascontiguousarray(x)
            kernel.run(work.size, alpha, _address(source), _address(work))
            if work is not y:
                np.copyto(y, work)
        return
    with quiet():  # 0 * inf is NaN, and overflow inf, without a word, as in torch
        if dtype == np.float16:
            # As torch's kernel: alpha in half precision, the multiply-add in float32 (exact in float64), then half.
            wide_alpha = np.float64(dtype.type(alpha))
            wide = y.astype(np.float64) + wide_alpha * x.astype(np.float64)
            np.copyto(y, wide.astype(np.float32), casting="unsafe")
        else:
            np.add(y, np.multiply(x, dtype.type(alpha)), out=y, casting="unsafe")

"""How PyTorch's CPU kernels turn its generator's 32-bit words into samples, reproduced exactly.

Each function takes an ember Generator (``random.py``) and returns a NumPy array holding the values
torch 2.13's CPU kernels produce from the same generator state, consuming the same number of words.
What each one does (checked against torch itself in tests/test_random_streams.py):

- uniform: float32 keeps 24 bits of one word, float64 53 bits of two (first word high); float16
  rounds a float32 draw; ``low + x * (high - low)`` is one fused multiply-add, rounded once.
- normal: fewer than 16 values, or a non-contiguous target, take one Box-Muller pair per two values
  in double precision (the second value is cached in the generator); 16 or more fill uniforms first,
  then transform blocks of 16, redrawing the last 16 when the count is not a multiple of 16. float32
  blocks use torch's vectorised single-precision log and sincos (cephes polynomials evaluated with
  fused multiply-adds), which ``_log_ps``/``_sincos_ps`` evaluate step by step in software; float16
  goes through float32 blocks, drawing only 16 more values for a partial last block.
- integers: ``word % range`` for ranges below 2**28, a 64-bit value modulo the range above.
- bernoulli with a scalar probability, dropout and exponential draw a double (two words) per value.
- randperm(n) draws n-1 words for a forward Fisher-Yates shuffle (``_shuffle`` replays it without a
  Python loop).

Double-precision log, sin, cos and log1p go through Python's ``math`` module, the C library torch also
calls (NumPy's own vectorised versions round differently in the last bit).

These match torch where it dispatches to its AVX2 or AVX-512 kernels (checked on an AMD CPU); torch's own
results differ on CPUs without AVX2, where it runs unvectorised code without fused multiply-adds, and its
MKL build may draw scalar-p bernoulli through MKL's generator on Intel CPUs (not reproduced here).
"""

from __future__ import annotations

import math

import numpy as np

from ._fma import fma32, fma64
from ._fma import fma32_normal_range as _fma32_normal

_F32 = np.float32
_F64 = np.float64
_MASK53 = np.uint64((1 << 53) - 1)


# ---------------------------------------------------------------- memory order
def memory_axes(arr: np.ndarray) -> list[int]:
    """arr's axes from the largest stride to the smallest: the order torch's kernels walk a tensor in."""
    return sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]))


def write_in_memory_order(arr: np.ndarray, values: np.ndarray) -> None:
    """Store values (one per element, in drawing order) into arr in memory order, as torch's kernels fill it."""
    if arr.flags.c_contiguous:
        np.copyto(arr.reshape(-1), np.asarray(values).reshape(-1), casting="unsafe")
        return
    view = arr.transpose(memory_axes(arr))
    np.copyto(view, np.asarray(values).reshape(view.shape), casting="unsafe")


def in_memory_order(arr: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The elements of arr (broadcast to like's shape) listed in like's memory order."""
    full = np.broadcast_to(arr, like.shape)
    return np.ascontiguousarray(full.transpose(memory_axes(like))).reshape(-1)


# ---------------------------------------------------------------- uniform
def _half_open(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values that rounded up to high become low, as in torch, so samples stay in [low, high)."""
    top = x == x.dtype.type(high)
    if top.any():
        x[top] = low
    return x


def uniform(g, n: int, dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """n uniform samples in [low, high) of a floating dtype."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        x = (g._u64(n) & _MASK53).astype(_F64) * 2.0**-53
        if low == 0.0 and high == 1.0:
            return x
        return _half_open(fma64(x, _F64(high) - _F64(low), _F64(low)), low, high)
    if dtype in (np.float32, np.float16):  # half precision draws a float and rounds it
        w = g._u32(n)
        w &= np.uint32(0xFFFFFF)
        x = w.astype(_F32)
        x *= _F32(2.0**-24)
        if low != 0.0 or high != 1.0:
            lo, hi = _F32(low), _F32(high)
            x = fma32(x, hi - lo, lo)
        elif dtype == np.float32:
            return x  # at most 1 - 2**-24: always below 1
        return _half_open(x.astype(dtype, copy=False), low, high)
    raise TypeError(f"uniform is not implemented for {dtype}")


def unit_double(g, n: int) -> np.ndarray:
    """n doubles in [0, 1), two words each."""
    return uniform(g, n, _F64)


# ---------------------------------------------------------------- normal
def _libm(fn, x: np.ndarray) -> np.ndarray:
    """fn (a math-module function) applied to each element, in double precision."""
    return np.fromiter(map(fn, x.tolist()), dtype=_F64, count=x.size)


def _normal_pairs(g, n: int, mean: float, std: float) -> np.ndarray:
    """torch's scalar normal path: one value at a time, in double, with the cached second value."""
    out = np.empty(n, dtype=_F64)
    i = 0
    if n and g._normal is not None:
        out[0], g._normal, i = g._normal, None, 1
    pairs = (n - i + 1) // 2
    if pairs:
        u = unit_double(g, 2 * pairs).reshape(pairs, 2)
        radius = np.sqrt(-2.0 * _libm(math.log1p, -u[:, 1]))
        theta = 2.0 * math.pi * u[:, 0]
        first = radius * _libm(math.cos, theta)
        second = radius * _libm(math.sin, theta)
        both = np.stack([first, second], axis=1).reshape(-1)
        out[i:] = both[: n - i]
        if (n - i) % 2:
            g._normal = float(second[-1])
    if mean != 0.0 or std != 1.0:
        out = fma64(out, std, mean)
    return out


# torch's single-precision log: cephes' polynomial for log(1 + x) on [sqrt(1/2) - 1, sqrt(2) - 1]
_LOG_POLY = (
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
)
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4


def _log_ps(x: np.ndarray) -> np.ndarray:
    """Natural log of positive float32 values, rounded step for step as torch's vector kernel rounds."""
    bits = np.maximum(x, _F32(1.17549435e-38)).view(np.int32)
    e = ((bits >> 23) - 126).astype(_F32)  # exponent for a mantissa in [0.5, 1)
    m = ((bits & 0x007FFFFF) | 0x3F000000).view(_F32)
    small = m < _F32(0.707106781186547524)
    m = (m - _F32(1)) + np.where(small, m, _F32(0))  # mantissa below sqrt(1/2): use 2m - 1, one less exponent
    e = e - small.astype(_F32)
    z = m * m
    m64 = m.astype(_F64)
    y = np.full_like(m, _F32(_LOG_POLY[0]))
    for coef in _LOG_POLY[1:]:
        y = _fma32_normal(y, m64, _F64(_F32(coef)))
    y = y * m
    y = _fma32_normal(y, z.astype(_F64), (e * _F32(_LN2_LO)).astype(_F64))
    y = y - z * _F32(0.5)  # z / 2 is exact, so the fused form rounds once like this one
    return (m + y) + e * _F32(_LN2_HI)  # e times this short constant is exact too


_SIN_POLY = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_COS_POLY = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
_PIO4_PARTS = (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)


def _sincos_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of float32 values in [0, 2 pi), rounded step for step as torch's vector kernel rounds."""
    sign = x.view(np.int32) & np.int32(-0x80000000)
    x = np.abs(x)
    octant = (x * _F32(1.27323954473516)).astype(np.int32)  # x / (pi / 4), truncated
    octant = (octant + 1) & ~1
    y = octant.astype(_F32)
    # x - octant * pi / 4 in three pieces; the first two products are exact for the octants of [0, 2 pi)
    x = (x + y * _F32(_PIO4_PARTS[0])) + y * _F32(_PIO4_PARTS[1])
    x = _fma32_normal(y, _F64(_F32(_PIO4_PARTS[2])), x.astype(_F64))
    sin_sign = sign ^ ((octant & 4) << 29)
    cos_sign = (~(octant - 2) & 4) << 29
    use_sin_poly = (octant & 2) == 0
    z = x * x
    z64 = z.astype(_F64)
    c = np.full_like(x, _F32(_COS_POLY[0]))
    for coef in _COS_POLY[1:]:
        c = _fma32_normal(c, z64, _F64(_F32(coef)))
    c = _fma32_normal(c * z, z64, -(z * _F32(0.5)).astype(_F64)) + _F32(1)
    s = np.full_like(x, _F32(_SIN_POLY[0]))
    for coef in _SIN_POLY[1:]:
        s = _fma32_normal(s, z64, _F64(_F32(coef)))
    s = _fma32_normal(s * z, x.astype(_F64), x.astype(_F64))
    sin = np.where(use_sin_poly, s, c).view(np.int32) ^ sin_sign
    cos = np.where(use_sin_poly, c, s).view(np.int32) ^ cos_sign
    return sin.view(_F32), cos.view(_F32)


_BLOCKS_PER_PIECE = 4096  # 64 K values per piece keeps the temporaries in cache


def _box_muller_blocks_f32(u: np.ndarray, mean: float, std: float) -> None:
    """Transform (blocks, 16) float32 uniforms in place: the first 8 of a block give radii, the last 8 angles."""
    mean32, std32 = _F32(mean), _F32(std)
    for start in range(0, len(u), _BLOCKS_PER_PIECE):
        piece = u[start : start + _BLOCKS_PER_PIECE]
        radius = np.sqrt(_F32(-2) * _log_ps(_F32(1) - piece[:, :8]))
        sin, cos = _sincos_ps(_F32(2 * math.pi) * piece[:, 8:])
        a, b = radius * cos, radius * sin
        if mean != 0.0 or std != 1.0:
            a, b = fma32(a, std32, mean32), fma32(b, std32, mean32)
        piece[:, :8] = a
        piece[:, 8:] = b


def _box_muller_blocks_f64(u: np.ndarray, mean: float, std: float) -> None:
    """Transform (blocks, 16) float64 uniforms in place, as torch's unvectorised double kernel does."""
    radius = np.sqrt(-2.0 * _libm(math.log, (1.0 - u[:, :8]).reshape(-1))).reshape(-1, 8)
    theta = (2.0 * math.pi) * u[:, 8:].reshape(-1)
    a = radius * _libm(math.cos, theta).reshape(-1, 8)
    b = radius * _libm(math.sin, theta).reshape(-1, 8)
    if mean != 0.0 or std != 1.0:
        a, b = fma64(a, std, mean), fma64(b, std, mean)
    u[:, :8] = a
    u[:, 8:] = b


def normal(g, n: int, dtype, mean: float = 0.0, std: float = 1.0, contiguous: bool = True) -> np.ndarray:
    """n normal samples, drawn as torch draws them into a tensor of n elements (see the module notes)."""
    dtype = np.dtype(dtype)
    if n < 16 or not contiguous or dtype not in (np.float16, np.float32, np.float64):
        return _normal_pairs(g, n, mean, std).astype(dtype)
    if dtype == np.float16:
        # half precision goes through float32 blocks, drawing only the tail block's 16 extra values
        whole = n // 16 * 16
        buf = uniform(g, whole + (16 if n != whole else 0), np.float32).reshape(-1, 16)
        _box_muller_blocks_f32(buf, mean, std)
        out = np.empty(n, dtype=np.float32)
        out[:whole] = buf[: whole // 16].reshape(-1)
        if n != whole:
            out[n - 16 :] = buf[-1]
        return out.astype(np.float16)
    out = uniform(g, n, dtype)
    blocks = _box_muller_blocks_f32 if dtype == np.float32 else _box_muller_blocks_f64
    whole = n // 16 * 16
    blocks(out[:whole].reshape(-1, 16), mean, std)
    if n != whole:  # the last block is redrawn whole and overwrites the tail
        last = uniform(g, 16, dtype).reshape(1, 16)
        blocks(last, mean, std)
        out[n - 16 :] = last.reshape(-1)
    return out


# ---------------------------------------------------------------- integers
def integers(g, n: int, low: int, high: int) -> np.ndarray:
    """n integers in [low, high) as int64 (Python ints beyond int64 are not produced)."""
    span = high - low
    if span < 2**28:
        draws = g._u32(n) % np.uint32(span)
    else:
        draws = g._u64(n) % np.uint64(span)
    return (draws.astype(np.uint64) + np.uint64(low % 2**64)).view(np.int64)  # modulo 2**64, as torch adds


def full_range(g, n: int, dtype) -> np.ndarray:
    """random_() without bounds: integers in [0, 2**digits] for floats, [0, max] for integer dtypes."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return (g._u32(n) % np.uint32(2)).astype(np.bool_)
    if dtype.kind == "f":
        digits = {2: 11, 4: 24, 8: 53}[dtype.itemsize]
        if dtype.itemsize == 8:
            return (g._u64(n) % np.uint64(2**digits + 1)).astype(dtype)
        return (g._u32(n) % np.uint32(2**digits + 1)).astype(dtype)
    top = int(np.iinfo(dtype).max) + 1
    if dtype.itemsize == 8:
        return (g._u64(n) % np.uint64(top)).astype(dtype)
    return (g._u32(n) % np.uint32(top) if top < 2**32 else g._u32(n)).astype(dtype)


# ---------------------------------------------------------------- permutations
def _shuffle(offsets: np.ndarray) -> np.ndarray:
    """The permutation a forward Fisher-Yates shuffle of 0..n-1 makes, given step i's offset offsets[i].

    Step i swaps positions i and t_i = i + offsets[i]. Position i ends holding what stood at t_i then:
    what the previous step aimed at t_i put there, else t_i's own value. What step m puts there is what
    stood at m when step m ran, which is again what the last earlier step aimed at m left. Those
    "came from" links always point to earlier steps, so they resolve by pointer doubling in a few
    vectorised passes instead of n Python steps."""
    n = len(offsets) + 1
    steps = np.arange(n - 1, dtype=np.int64)
    target = steps + offsets
    order = np.argsort(target, kind="stable")  # steps grouped by target, in step order within a group
    sorted_target = target[order]
    prev = np.full(n - 1, -1, dtype=np.int64)  # the previous step with the same target
    same = sorted_target[1:] == sorted_target[:-1]
    prev[order[1:][same]] = order[:-1][same]
    last = np.full(n, -1, dtype=np.int64)  # the last step aiming at each position
    last[sorted_target] = order
    # link[p]: the step whose "value at its position" position p held when step p ran (or -1: p's own)
    link = last.copy()
    link[: n - 1] = np.where(offsets == 0, prev, last[: n - 1])
    value = np.arange(n, dtype=np.int64)
    pending = np.flatnonzero(link >= 0)
    while pending.size:
        via = link[pending]
        value[pending] = value[via]
        link[pending] = link[via]
        pending = pending[link[pending] >= 0]
    out = np.empty(n, dtype=np.int64)
    out[: n - 1] = np.where(prev >= 0, value[np.maximum(prev, 0)], target)
    out[n - 1] = value[n - 1]
    return out


def randperm(g, n: int) -> np.ndarray:
    """A permutation of 0..n-1 as int64, shuffled as torch shuffles it."""
    if n < 2:
        return np.arange(n, dtype=np.int64)
    remaining = np.arange(n, 1, -1, dtype=np.int64)  # n - i for steps i = 0 .. n-2
    if n < 2**32:
        offsets = (g._u32(n - 1) % remaining.astype(np.uint32)).astype(np.int64)
    else:
        offsets = (g._u64(n - 1) % remaining.astype(np.uint64)).astype(np.int64)
    return _shuffle(offsets)


# ---------------------------------------------------------------- other distributions
def bernoulli_scalar(g, n: int, p: float) -> np.ndarray:
    """n draws of (double uniform < p), as bool."""
    return unit_double(g, n) < p


def bernoulli_tensor(g, p: np.ndarray, target: np.ndarray) -> np.ndarray:
    """One draw per element of target, in target's memory order: a uniform of p's precision below the matching
    element of p (broadcast to target's shape); returned as bools in drawing order."""
    flat = in_memory_order(p, target)
    dtype = np.float64 if flat.dtype == np.float64 else np.float32
    return uniform(g, flat.size, dtype) < flat.astype(dtype)


def exponential(g, n: int, lambd: float) -> np.ndarray:
    """n exponential samples with rate lambd, in double."""
    u = unit_double(g, n)
    return (-1.0 / lambd) * _libm(math.log1p, -u)


def geometric(g, n: int, p: float) -> np.ndarray:
    """n geometric samples (trials up to the first success), in double."""
    u = unit_double(g, n)
    return np.ceil(_libm(math.log, u) / math.log1p(-p))


def cauchy(g, n: int, median: float, sigma: float) -> np.ndarray:
    """n Cauchy samples, in double."""
    u = unit_double(g, n)
    return fma64(_libm(math.tan, math.pi * (u - 0.5)), sigma, median)


def log_normal(g, n: int, mean: float, std: float) -> np.ndarray:
    """n log-normal samples (exp of normal ones drawn one pair at a time), in double."""
    return _libm(math.exp, _normal_pairs(g, n, mean, std))


# ---------------------------------------------------------------- multinomial and poisson
def _check_rows(rows: np.ndarray, sequential: bool) -> None:
    """torch's checks of multinomial's probabilities: the kernel that draws with replacement (sequential)
    checks row by row, element by element; the other path checks the whole input first."""
    if sequential:
        for row in rows:
            bad = np.flatnonzero(~(row >= 0) | ~np.isfinite(row))
            if bad.size:
                what = "< 0" if not row[bad[0]] >= 0 else "= infinity or NaN"
                raise RuntimeError(f"invalid multinomial distribution (encountering probability entry {what})")
            if not row.sum() > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        return
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(g, probs: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """Category indices drawn from the rows of probs (1-D or 2-D), as torch's CPU kernel draws them."""
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if probs.dtype.kind != "f":
        names = {"b": "Char", "B": "Byte", "h": "Short", "i": "Int", "l": "Long", "q": "Long", "?": "Bool"}
        got = names.get(probs.dtype.char, str(probs.dtype))
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {got}")
    rows = probs.reshape(-1, probs.shape[-1])
    categories = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    _check_rows(rows.astype(_F64), sequential=replacement and num_samples > 1)
    if not replacement or num_samples == 1:
        # one exponential per probability; the largest p / q win (the Gumbel-max trick)
        q = np.empty_like(probs)  # keeps probs' layout, as torch's empty_like does
        write_in_memory_order(q, exponential(g, probs.size, 1.0))
        q = q.reshape(rows.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = rows / q
        if num_samples == 1:
            out = np.argmax(keys, axis=1)[:, None]
        else:
            out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    else:
        out = np.empty((len(rows), num_samples), dtype=np.int64)
        for r, row in enumerate(rows):
            cum = np.cumsum(row, dtype=row.dtype)  # a running sum in the input's precision
            total = cum[-1]
            if total > 0:
                cum = cum / total
            cum[-1] = 1
            u = unit_double(g, num_samples)
            out[r] = np.searchsorted(cum.astype(_F64), u, side="left")
    return out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))


def _poisson_one(g, lam: float) -> float:
    """One Poisson sample: multiplied uniforms below rate 10, Hormann's transformed rejection above."""
    if lam == 0:
        return 0.0
    if lam < 10:
        limit, count, prod = math.exp(-lam), 0, 1.0
        while True:
            prod *= float(unit_double(g, 1)[0])
            if prod <= limit:
                return float(count)
            count += 1
    root, log_lam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    while True:
        uu, v = unit_double(g, 2).tolist()
        u = uu - 0.5
        us = 0.5 - abs(u)
        x = (2 * a / us + b) * u + lam + 0.43
        k = math.floor(x) if math.isfinite(x) else -(2**63)  # an infinite rate: the C cast gives INT64_MIN
        if us >= 0.07 and v <= v_r:
            return float(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= -lam + k * log_lam - math.lgamma(k + 1):
            return float(k)


def poisson(g, rates: np.ndarray) -> np.ndarray:
    """One Poisson sample per rate, in double, drawn in the rates' memory order."""
    flat = np.ascontiguousarray(rates).reshape(-1).tolist()
    return np.array([_poisson_one(g, float(lam)) for lam in flat], dtype=_F64).reshape(rates.shape)

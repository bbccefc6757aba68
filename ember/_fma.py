"""Fused multiply-add (a * b + c rounded once), emulated exactly with float64 arithmetic.

torch's CPU kernels compile many ``a * b + c`` into one fused instruction, which rounds once; NumPy has no
fused multiply-add, and rounding the product and then the sum can differ in the last bit. These functions
recover what the fused instruction gives: the product's rounding error comes back exactly by splitting
both factors into halves (Veltkamp), the sum's by two-sum (Knuth), and the leftover is rounded "to odd"
(a nearest-above-or-below whose last bit records that something was lost), which Boldo and Melquiond
showed makes the final rounding correct. Inputs and outputs far from overflow and underflow are exact;
results that overflow take the plain product and sum.
"""

from __future__ import annotations

import numpy as np

_F32 = np.float32
_F64 = np.float64
_SPLIT = 134217729.0  # 2**27 + 1: splits a double into two halves of 26 bits


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, e) with s = a + b rounded and s + e == a + b exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = a * b rounded and p + e == a * b exactly."""
    p = a * b
    ta, tb = _SPLIT * a, _SPLIT * b
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def round_to_odd(s: np.ndarray, err: np.ndarray) -> np.ndarray:
    """s nudged one step towards s + err where the sum was inexact and s's last bit is even."""
    s = np.asarray(s, dtype=_F64)
    fix = (err != 0) & ((s.view(np.int64) & 1) == 0) & np.isfinite(s)
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return s


def _fused(a, b, c, to_odd: bool) -> np.ndarray:
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=_F64) for v in (a, b, c)))
    with np.errstate(over="ignore", invalid="ignore"):
        ph, pl = _two_product(a, b)
        th, tl = two_sum(c, ph)
        v, ve = two_sum(tl, pl)
        v = round_to_odd(v, ve)
        if to_odd:
            s, se = two_sum(th, v)
            out = round_to_odd(s, se)
        else:
            out = th + v
        plain = a * b + c
    return np.where(np.isfinite(out) & np.isfinite(plain), out, plain)


def fma64(a, b, c) -> np.ndarray:
    """a * b + c for doubles, rounded once to double."""
    return _fused(a, b, c, to_odd=False)


def fma_odd(a, b, c) -> np.ndarray:
    """a * b + c for doubles, rounded to odd: a later cast to float32 then rounds the exact value once."""
    return _fused(a, b, c, to_odd=True)


def fma32(a, b, c) -> np.ndarray:
    """a * b + c for float32 operands, rounded once to float32."""
    p = np.asarray(a, _F32).astype(_F64) * np.asarray(b, _F32).astype(_F64)  # exact: 24 + 24 bits
    cc = np.asarray(c, _F32).astype(_F64)
    s = p + cc
    # s casts correctly to float32 unless rounding to double left it exactly halfway between two floats
    # (or in float32's subnormal range, where the halfway point lies elsewhere): redo those to odd
    risky = ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0**-125)
    if risky.any():
        s = np.where(risky, fma_odd(p, 1.0, cc), s)
    return s.astype(_F32)


def fma32_normal_range(a: np.ndarray, b, c) -> np.ndarray:
    """fma32 for a float32 array a and float64 b, c holding float32 values, when every result is zero or
    at least 2**-126 in magnitude (so only the halfway case needs the exact path)."""
    s = a.astype(_F64)
    s *= b
    s += c
    if ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000).any():
        return fma32(a, b, c)
    return s.astype(_F32)

"""In-place array updates shared by the optimizers, each rounding as torch's CPU kernel does.

Every function writes into arrays it is given (`out=`), so a step allocates little. Python scalars
become NumPy scalars of the array's dtype first, because torch converts them to the tensor's type."""

from __future__ import annotations

import numpy as np

from .._blas import axpy
from .._tensor import Tensor


def effective_grad(opt, p: Tensor, maximize: bool, weight_decay: float) -> np.ndarray:
    """p's gradient, negated when maximizing and with weight_decay * p added (scratch slot 0)."""
    g = p._grad._data
    if not maximize and weight_decay == 0:
        return g
    buf = opt._buffer(p, 0)
    if maximize:
        np.negative(g, out=buf)
    else:
        np.copyto(buf, g)
    if weight_decay != 0:
        axpy(weight_decay, p._data, buf)
    return buf


def add_scaled(target: np.ndarray, other: np.ndarray, alpha: float) -> None:
    """target += alpha * other, rounded once per element (torch's add_(other, alpha=alpha))."""
    if alpha == 1:
        np.add(target, other, out=target)
    else:
        axpy(alpha, other, target)


def lerp(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """start += weight * (end - start), using torch's two formulas for small and large weights.

    Each formula's multiply-add rounds once, as torch's kernel does."""
    t = start.dtype.type
    w = t(weight)
    np.subtract(end, start, out=tmp)
    if abs(w) < 0.5:
        axpy(w, tmp, start)
    else:
        np.copyto(start, end)
        axpy(t(w - t(1)), tmp, start)


def addcmul(target: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float, tmp: np.ndarray) -> None:
    """target += value * t1 * t2, multiplying in torch's order."""
    np.multiply(t1, target.dtype.type(value), out=tmp)
    np.multiply(tmp, t2, out=tmp)
    np.add(target, tmp, out=target)


def addcdiv(target: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float, tmp: np.ndarray) -> None:
    """target += value * t1 / t2, in torch's order."""
    np.multiply(t1, target.dtype.type(value), out=tmp)
    np.divide(tmp, t2, out=tmp)
    np.add(target, tmp, out=target)


def scale(target: np.ndarray, factor: float) -> None:
    """target *= factor."""
    np.multiply(target, target.dtype.type(factor), out=target)


def zeros_like(p: Tensor) -> Tensor:
    """A zero state tensor shaped like p."""
    return Tensor._wrap(np.zeros_like(p._data))


def step_tensor(value: float = 0.0) -> Tensor:
    """The 0-dim float32 step counter torch keeps in optimizer state."""
    return Tensor._wrap(np.array(value, dtype=np.float32))


def bump_step(step: Tensor) -> float:
    """Add one to a step counter in place and return its new value as a Python float."""
    a = step._data
    np.add(a, 1, out=a, casting="unsafe")
    return float(a)

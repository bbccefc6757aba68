"""Array-only math shared by several op families (no tensors, no graph): each function is written once here."""

from __future__ import annotations

import math

import numpy as np

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), elementwise; large negative inputs give 0 (exp overflows to inf silently)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def erf(a: np.ndarray) -> np.ndarray:
    """The error function of each element, through math.erf (correctly rounded to the array's dtype)."""
    if a.size == 0:
        return a.copy()
    return np.asarray(_erf_scalar(a)).astype(a.dtype)  # a 0-dim input gives a Python float


def softplus(a: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """log(1 + exp(beta * a)) / beta, and a itself where beta * a exceeds threshold (torch's rule)."""
    z = a * beta
    with np.errstate(over="ignore"):
        soft = np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)
    return np.where(z > threshold, a, soft / beta)

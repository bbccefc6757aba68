"""torch.backends.mkl: ember's products run on NumPy's BLAS, not MKL."""

from __future__ import annotations


def is_available() -> bool:
    """False."""
    return False

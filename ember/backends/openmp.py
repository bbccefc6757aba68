"""torch.backends.openmp: ember's threads are its BLAS's own, not OpenMP's."""

from __future__ import annotations


def is_available() -> bool:
    """False."""
    return False

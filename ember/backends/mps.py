"""torch.backends.mps: ember has no Apple GPU backend."""

from __future__ import annotations


def is_available() -> bool:
    """False."""
    return False


def is_built() -> bool:
    """False."""
    return False

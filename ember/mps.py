"""torch.mps stand-in: no Apple GPU backend in ember."""

from __future__ import annotations


def is_available() -> bool:
    """Always False."""
    return False


def device_count() -> int:
    """0 devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no MPS generator to seed."""

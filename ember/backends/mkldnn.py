"""torch.backends.mkldnn: ember runs on NumPy and OpenBLAS, without oneDNN; the flag can be set (no effect)."""

from __future__ import annotations

enabled = True


def is_available() -> bool:
    """False: no oneDNN in ember."""
    return False

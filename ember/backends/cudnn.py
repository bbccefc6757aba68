"""torch.backends.cudnn: not available in ember; its flags can be set (and change nothing), as on a CPU-only torch."""

from __future__ import annotations

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: ember has no cuDNN."""
    return False


def version():
    """None: no cuDNN library."""
    return None

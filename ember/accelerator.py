"""torch.accelerator stand-in: ember computes on the CPU, so there is no accelerator to find or use."""

from __future__ import annotations

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Always False: ember has no accelerator backend."""
    return False


def current_accelerator(check_available: bool = False):
    """None, as torch answers on a machine without an accelerator."""
    return None


def device_count() -> int:
    """0 accelerators."""
    return 0


def current_device_index() -> int:
    """Raises, as torch does with no accelerator."""
    raise RuntimeError(_NONE)


def set_device_index(device) -> None:
    """Raises, as torch does with no accelerator."""
    raise RuntimeError(_NONE)


def synchronize(device=None) -> None:
    """Raises, as torch does with no accelerator."""
    raise RuntimeError(_NONE)


current_device_idx = current_device_index
set_device_idx = set_device_index

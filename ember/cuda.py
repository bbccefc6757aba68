"""torch.cuda stand-in: ember has no GPU backend, so nothing is available and asking for one is an error."""

from __future__ import annotations


def is_available() -> bool:
    """Always False: ember computes on the CPU only."""
    return False


def device_count() -> int:
    """No GPUs: 0."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no GPU generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored: there is no GPU generator to seed."""


def is_initialized() -> bool:
    """Always False."""
    return False


def synchronize(device=None) -> None:
    """Nothing to wait for on the CPU."""


def empty_cache() -> None:
    """Nothing to free."""


def _unavailable(*args, **kwargs):
    raise RuntimeError("Torch not compiled with CUDA enabled (ember runs on the CPU only; use device='cpu')")


current_device = get_device_name = get_device_properties = set_device = _unavailable

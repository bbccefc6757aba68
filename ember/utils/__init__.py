"""ember.utils: data loading (ember.utils.data) and small helpers such as removable hook handles."""

from __future__ import annotations

import importlib

_SUBMODULES = ("data", "hooks")


def __getattr__(name: str):
    """Import data / hooks on first use so `import ember.utils` stays cheap."""
    if name in _SUBMODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(
        f"module 'ember.utils' has no attribute '{name}' (ember does not implement torch.utils.{name})"
    )

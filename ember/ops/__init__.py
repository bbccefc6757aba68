"""The differentiable operations, one file per family; each module exports PUBLIC functions
(served as ember.<name>) and TENSOR_METHODS (bound onto Tensor)."""

from __future__ import annotations

import importlib

_FAMILIES = ("elementwise", "reduction", "shape", "linalg", "indexing", "sorting", "nn_ops")

PUBLIC: dict = {}
TENSOR_METHODS: dict = {}
for _name in _FAMILIES:
    try:
        _mod = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_name}":
            raise
        continue
    PUBLIC.update(getattr(_mod, "PUBLIC", {}))
    TENSOR_METHODS.update(getattr(_mod, "TENSOR_METHODS", {}))

from ._operators import TENSOR_METHODS as _OPERATORS  # noqa: E402  (a + b, a += b, a < b, ...)

TENSOR_METHODS.update(_OPERATORS)

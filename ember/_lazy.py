"""Submodules loaded on first use, so `import ember` stays fast."""

from __future__ import annotations

import importlib

_LAZY = {
    "nn": "ember.nn",
    "optim": "ember.optim",
    "utils": "ember.utils",
    "cuda": "ember.cuda",
    "linalg": "ember.linalg",
    "backends": "ember.backends",
    "distributions": "ember.distributions",
    "testing": "ember.testing",
    "summary": "ember.summary",
    "vision": "ember.vision",
    "onnx": "ember.onnx",
    "jit": "ember.jit",
    "serialization": "ember.serialization",
}


def install_lazy_submodules(namespace: dict) -> None:
    """Give the package a module-level __getattr__ that imports submodules on demand."""

    def __getattr__(name: str):
        target = _LAZY.get(name)
        if target is None:
            if name in ("save", "load"):
                mod = importlib.import_module("ember.serialization")
                return getattr(mod, name)
            raise AttributeError(f"module 'ember' has no attribute '{name}' (ember does not implement torch.{name})")
        mod = importlib.import_module(target)
        namespace[name] = mod
        return mod

    namespace["__getattr__"] = __getattr__

"""Submodules loaded on first use, so `import ember` stays fast."""

from __future__ import annotations

import importlib

_LAZY = {
    "nn": "ember.nn",
    "optim": "ember.optim",
    "utils": "ember.utils",
    "cuda": "ember.cuda",
    "accelerator": "ember.accelerator",
    "backends": "ember.backends",
    "mps": "ember.mps",
    "summary": "ember.summary",
    "vision": "ember.vision",
    "serialization": "ember.serialization",
    "doctor": "ember.doctor",
    "train": "ember.train",
    "distributed": "ember.distributed",
}


# torch also serves these nn.functional ops at top level (torch.celu, torch.selu, ...).
_FUNCTIONAL_AT_TOP = {
    "alpha_dropout",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy_with_logits",
    "celu",
    "celu_",
    "cosine_similarity",
    "dropout",
    "embedding",
    "feature_alpha_dropout",
    "hardshrink",
    "kl_div",
    "layer_norm",
    "prelu",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "threshold",
    "threshold_",
}


def install_lazy_submodules(namespace: dict) -> None:
    """Give the package a module-level __getattr__ that imports submodules on demand."""

    def __getattr__(name: str):
        target = _LAZY.get(name)
        if target is None:
            if name in _FUNCTIONAL_AT_TOP:
                return getattr(importlib.import_module("ember.nn.functional"), name)
            if name in ("save", "load"):
                mod = importlib.import_module("ember.serialization")
                return getattr(mod, name)
            raise AttributeError(f"module 'ember' has no attribute '{name}' (ember does not implement torch.{name})")
        mod = importlib.import_module(target)
        namespace[name] = mod
        return mod

    namespace["__getattr__"] = __getattr__

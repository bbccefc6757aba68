"""The training workflow behind `ember train`: config, data, model, the loop, checkpoints and evaluation."""

from __future__ import annotations

import importlib

from .config import ConfigError, RunConfig, load_config, to_toml

# name -> submodule; loaded on first use so `import ember.train` stays cheap
_LAZY = {
    "DataBundle": "data",
    "load_data": "data",
    "build_model": "model",
    "build_loss": "model",
    "build_optimizer": "model",
    "build_scheduler": "model",
    "fit": "trainer",
    "FitResult": "trainer",
    "evaluate_run": "evaluate",
    "EvalResult": "evaluate",
    "CheckpointError": "checkpoint",
    "RunDir": "run_dir",
}

__all__ = ["ConfigError", "RunConfig", "load_config", "to_toml", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ember.train' has no attribute {name!r}")

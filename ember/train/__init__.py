"""The training workflow behind `ember train`: config, data, model, the loop, checkpoints and evaluation."""

from __future__ import annotations

import importlib

from .config import ACTIVATIONS, INITS, OPTIMIZERS, ConfigError, RunConfig, load_config, to_toml

# name -> submodule; loaded on first use so `import ember.train` stays cheap
_LAZY = {
    "BUILTIN_DATA": "data",
    "DataBundle": "data",
    "load_data": "data",
    "data_dims": "data",
    "resolve_paths": "data",
    "build_model": "model",
    "build_loss": "model",
    "build_optimizer": "model",
    "build_scheduler": "model",
    "fit": "trainer",
    "FitResult": "trainer",
    "TrainingDiverged": "trainer",
    "evaluate_run": "evaluate",
    "EvalResult": "evaluate",
    "predict_files": "predict",
    "Prediction": "predict",
    "CheckpointError": "checkpoint",
    "RunDir": "run_dir",
    "default_run_dir": "run_dir",
    "run_dir_label": "run_dir",
}

__all__ = ["ACTIVATIONS", "INITS", "OPTIMIZERS", "ConfigError", "RunConfig", "load_config", "to_toml", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ember.train' has no attribute {name!r}")

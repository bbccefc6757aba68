"""Optimizers and learning-rate schedules with torch.optim's API and update rules."""

from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RMSprop",
    "SGD",
    "lr_scheduler",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
]


def __getattr__(name: str):
    if name in ("ASGD", "LBFGS", "RAdam", "Rprop", "SparseAdam", "Adafactor", "swa_utils"):
        raise NotImplementedError(f"ember does not implement torch.optim.{name}")
    raise AttributeError(f"module 'ember.optim' has no attribute '{name}'")

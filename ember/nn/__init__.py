"""ember.nn: modules, parameters, functional ops, initializers and utilities (torch.nn's API)."""

from __future__ import annotations

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedParameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "functional", "init", "parallel", "utils", *_modules_all]

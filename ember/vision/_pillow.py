"""Pillow, imported on first use: the image files of ember.vision (io, utils.save_image) are read and written
with it, and it is the `vision` extra's one dependency."""

from __future__ import annotations

import importlib
import types

HINT = "needs Pillow, which the vision extra installs: pip install ember[vision] (or pip install pillow)"


def pillow(submodule: str = "Image", *, what: str = "reading and writing image files") -> types.ModuleType:
    """PIL.<submodule>, or an ImportError that names the extra to install."""
    try:
        return importlib.import_module(f"PIL.{submodule}")
    except ImportError as e:
        raise ImportError(f"{what} {HINT}") from e

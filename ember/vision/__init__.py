"""ember.vision: datasets, transforms, image files and grids (served as `torchvision` under `ember run`)."""

from __future__ import annotations

from . import datasets, io, transforms, utils

__version__ = "0.1.0"

__all__ = ["datasets", "io", "transforms", "utils"]

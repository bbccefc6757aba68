"""ember.vision: datasets and transforms for images (served as `torchvision` under `ember run`)."""

from __future__ import annotations

from . import datasets, transforms

__version__ = "0.1.0"

__all__ = ["datasets", "transforms"]

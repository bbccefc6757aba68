"""Whole-batch versions of simple transform pipelines, for uint8 image datasets (grey-scale or colour).

ToTensor and Normalize are elementwise, so applying them to N images at once with NumPy gives
exactly the numbers the per-image path gives, without building N PIL images."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .functional import _float_dtype
from .transforms import Compose, Normalize, ToTensor


def _single_channel(values) -> float | None:
    """The one number of a 1-element mean/std, else None."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    return float(arr[0]) if arr.size == 1 else None


def batch_plan(transform, channels: int = 1) -> Callable[[np.ndarray], np.ndarray] | None:
    """For ToTensor() or Compose([ToTensor(), Normalize(m, s)]): a function mapping uint8 images (N x H x W
    for one channel, N x H x W x C for more) to float N x C x H x W with the same values as the per-image
    path; None for any other transform."""
    if type(transform) is ToTensor:
        steps = [transform]
    elif type(transform) is Compose and isinstance(transform.transforms, (list, tuple)):
        steps = list(transform.transforms)
    else:
        return None
    if not steps or type(steps[0]) is not ToTensor or len(steps) > 2:
        return None
    mean = std = None
    if len(steps) == 2:
        if type(steps[1]) is not Normalize:
            return None
        mean, std = _per_channel(steps[1].mean, channels), _per_channel(steps[1].std, channels)
        if mean is None or std is None or (std == 0).any():
            return None  # let the per-image path raise its own error

    def run(images: np.ndarray) -> np.ndarray:
        ft = _float_dtype()
        if channels == 1:
            out = np.divide(images.astype(ft), ft(255))[:, None]
        else:
            out = np.divide(images.transpose(0, 3, 1, 2).astype(ft), ft(255))
        if mean is not None:
            np.subtract(out, mean.astype(ft), out=out)
            np.divide(out, std.astype(ft), out=out)
        return out

    return run


def _per_channel(values, channels: int) -> np.ndarray | None:
    """A mean or std as a (C, 1, 1) float64 array: C numbers, or one for every channel; None otherwise."""
    if channels == 1:
        one = _single_channel(values)
        return None if one is None else np.full((1, 1, 1), one)
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if arr.size not in (1, channels):
        return None
    return np.broadcast_to(arr, (channels,)).reshape(channels, 1, 1)

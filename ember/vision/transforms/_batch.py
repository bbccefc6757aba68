"""Whole-batch versions of simple transform pipelines, for grey-scale uint8 image datasets.

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


def batch_plan(transform) -> Callable[[np.ndarray], np.ndarray] | None:
    """For ToTensor() or Compose([ToTensor(), Normalize(m, s)]): a function mapping uint8 N x H x W to
    float N x 1 x H x W with the same values as the per-image path; None for any other transform."""
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
        mean, std = _single_channel(steps[1].mean), _single_channel(steps[1].std)
        if mean is None or std is None or std == 0:
            return None  # let the per-image path raise its own error

    def run(images: np.ndarray) -> np.ndarray:
        ft = _float_dtype()
        out = np.divide(images.astype(ft), ft(255))[:, None]
        if mean is not None:
            np.subtract(out, ft(mean), out=out)
            np.divide(out, ft(std), out=out)
        return out

    return run

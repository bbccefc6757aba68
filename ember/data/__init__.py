"""Data sets shipped inside ember, usable with no download and no extra dependency."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

_DIR = os.path.dirname(os.path.abspath(__file__))
DIGITS_PATH = os.path.join(_DIR, "digits.npz")
DIGITS_N_TRAIN = 1437  # 80% of 1,797; the rest is the test split
_SPLIT_SEED = 20240521


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DIGITS_PATH) as f:
        images, targets = f["images"], f["targets"]
    images.setflags(write=False)
    targets.setflags(write=False)
    return images, targets


@lru_cache(maxsize=1)
def _digits_order() -> np.ndarray:
    """A fixed shuffle, so the train and test splits both hold every writer and every class."""
    return np.random.Generator(np.random.PCG64(_SPLIT_SEED)).permutation(len(_digits_arrays()[1]))


def digits_arrays(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits as (uint8 images N x 8 x 8 with values 0..16, int64 labels N) for split all/train/test."""
    images, targets = _digits_arrays()
    if split == "all":
        idx = np.arange(len(targets))
    elif split == "train":
        idx = _digits_order()[:DIGITS_N_TRAIN]
    elif split == "test":
        idx = _digits_order()[DIGITS_N_TRAIN:]
    else:
        raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
    return images[idx].copy(), targets[idx].astype(np.int64)


def load_digits(split: str = "all", flatten: bool = False):
    """The digits as tensors: float32 images in [0, 1] (N x 1 x 8 x 8, or N x 64 when flatten) and int64 labels."""
    from .._creation import from_numpy

    images, targets = digits_arrays(split)
    x = images.astype(np.float32) / np.float32(16)
    x = x.reshape(len(x), 64) if flatten else x[:, None]
    return from_numpy(np.ascontiguousarray(x)), from_numpy(targets)

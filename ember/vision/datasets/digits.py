"""Digits: the 8x8 handwritten digits shipped inside ember (no download, no Pillow)."""

from __future__ import annotations

import numpy as np

from ..._creation import from_numpy
from ..._tensor import Tensor
from ...data import digits_arrays
from .vision import StandardTransform, VisionDataset


class Digits(VisionDataset):
    """1,797 8x8 grey-scale digits (UCI optical digits); items are (float32 1x8x8 tensor in [0, 1], label).

    split is 'train' (1,437 images), 'test' (360) or 'all'; when None, train picks train or test.
    transform, if given, receives the 1x8x8 tensor. root and download are accepted and ignored."""

    classes = [str(i) for i in range(10)]

    def __init__(
        self,
        root=None,
        train: bool = True,
        transform=None,
        target_transform=None,
        download: bool = False,
        split: str | None = None,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = split if split is not None else ("train" if train else "test")
        self.train = self.split == "train"
        images, targets = digits_arrays(self.split)
        self.data = from_numpy(images)
        self.targets = from_numpy(targets)

    def __len__(self) -> int:
        return len(self.data)

    def _images(self, idx) -> np.ndarray:
        data = self.data._data if isinstance(self.data, Tensor) else np.asarray(self.data)
        return (data[idx].astype(np.float32) / np.float32(16))[..., None, :, :]

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = int(index)
        targets = self.targets._data if isinstance(self.targets, Tensor) else np.asarray(self.targets)
        img, target = Tensor._wrap(self._images(index)), int(targets[index])
        return (img, target) if self.transforms is None else self.transforms(img, target)

    def __getitems__(self, indices: list[int]) -> list:
        """Many items at once, converting the images in one NumPy pass."""
        if self.transforms is not None and type(self.transforms) is not StandardTransform:
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.int64)
        imgs = self._images(idx)
        targets = (self.targets._data if isinstance(self.targets, Tensor) else np.asarray(self.targets))[idx].tolist()
        if self.transforms is None:
            return [(Tensor._wrap(imgs[k]), int(t)) for k, t in enumerate(targets)]
        return [self.transforms(Tensor._wrap(imgs[k]), int(t)) for k, t in enumerate(targets)]

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label."""
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {self.split.capitalize()}"

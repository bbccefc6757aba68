"""FakeData: random images and labels, the same ones torchvision's FakeData gives for each index."""

from __future__ import annotations

from typing import Any, Callable

from ..._tensor import Tensor
from ..transforms.functional import to_pil_image
from .vision import VisionDataset


class FakeData(VisionDataset):
    """size random PIL images of image_size (C, H, W) with labels below num_classes, drawn afresh per index.

    Item i seeds the global generator with i + random_offset, draws the image from a standard normal and
    the label with randint, and puts the generator back as it was; the image becomes a PIL image as
    ToPILImage makes one (values times 255, cast to uint8). ember's streams are PyTorch's, so the items
    equal torchvision's."""

    def __init__(
        self,
        size: int = 1000,
        image_size: tuple[int, ...] = (3, 224, 224),
        num_classes: int = 10,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        random_offset: int = 0,
    ) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def _draw(self, index: int) -> tuple[Tensor, Tensor]:
        from ... import _dtype, random
        from ..._random_tensors import randint, randn

        saved = random.get_rng_state()
        try:
            random.manual_seed(index + self.random_offset)
            image = randn(*self.image_size)
            label = randint(0, self.num_classes, size=(1,), dtype=_dtype.int64)[0]
        finally:
            random.set_rng_state(saved)
        return image, label

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if isinstance(index, Tensor):
            index = int(index)
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        image, target = self._draw(index)
        img = to_pil_image(image)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        # torchvision hands out the label as a Python int (target_transform sees the 0-dim tensor)
        return img, target.item() if isinstance(target, Tensor) else target

    def __len__(self) -> int:
        return self.size

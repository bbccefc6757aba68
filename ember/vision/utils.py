"""torchvision.utils: make_grid tiles a batch of images into one picture, save_image writes it to a file."""

from __future__ import annotations

import math
import os
from typing import BinaryIO

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ._pillow import pillow

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor) -> Tensor:
    """The input as a (B, C, H, W) tensor; one-channel images are repeated into three channels."""
    from ..ops.shape import cat, stack

    if isinstance(tensor, list):
        for item in tensor:
            if not isinstance(item, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(item)}")
        tensor = stack(tensor, dim=0)
    elif not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:  # one H x W image
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:  # one C x H x W image
        if tensor.size(0) == 1:
            tensor = cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = cat((tensor, tensor, tensor), 1)
    return tensor


def _rescale_(img: Tensor, low: float, high: float) -> None:
    """Clamp img to [low, high] and map that interval onto [0, 1], in place."""
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


def _rescale_range_(img: Tensor, value_range) -> None:
    if value_range is not None:
        _rescale_(img, value_range[0], value_range[1])
    else:
        _rescale_(img, float(img.min()), float(img.max()))


def make_grid(
    tensor: Tensor | list[Tensor],
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple[float, float] | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Tensor:
    """Tile a (B, C, H, W) batch, or a list of same-sized images, into one (C, H', W') image, nrow per row."""
    with no_grad():
        batch = _as_batch(tensor)
        if normalize is True:
            batch = batch.clone()  # the caller's images stay as they were
            if value_range is not None and not isinstance(value_range, tuple):
                raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
            if scale_each is True:
                for img in batch:  # each image of the batch against its own extremes
                    _rescale_range_(img, value_range)
            else:
                _rescale_range_(batch, value_range)
        if batch.size(0) == 1:
            return batch.squeeze(0)
        count, channels, height, width = batch.shape
        columns = min(nrow, count)
        rows = int(math.ceil(float(count) / columns))
        cell_h, cell_w = int(height + padding), int(width + padding)
        grid = batch.new_full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value)
        images, out = batch._data, grid._data
        for k in range(count):
            row, column = divmod(k, columns)
            top, left = row * cell_h + padding, column * cell_w + padding
            out[:, top : top + cell_h - padding, left : left + cell_w - padding] = images[k]
        return grid


def save_image(
    tensor: Tensor | list[Tensor], fp: str | os.PathLike | BinaryIO, format: str | None = None, **kwargs
) -> None:
    """Write an image, or a grid of a batch (make_grid's keyword arguments), to a file through Pillow."""
    from .. import _dtype

    Image = pillow(what="torchvision.utils.save_image")
    grid = make_grid(tensor, **kwargs)
    with no_grad():
        # [0, 1] -> [0, 255], rounded to the nearest level by adding 0.5 before the cast truncates
        pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", _dtype.uint8)
    Image.fromarray(pixels.numpy()).save(fp, format=format)

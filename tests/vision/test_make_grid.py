"""torchvision.utils.make_grid and save_image: ember's grids equal a reference built from torch ops that follows
torchvision's documented algorithm, and saved files hold torchvision's rounding of them."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import utils


def reference_grid(t, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """The grid torchvision documents, written with torch ops: 1 channel -> 3, optional min-max scaling, tiles."""
    if isinstance(t, list):
        t = torch.stack(t)
    if t.dim() == 2:
        t = t[None]
    if t.dim() == 3:
        t = (t.repeat(3, 1, 1) if t.shape[0] == 1 else t)[None]
    if t.shape[1] == 1:
        t = t.repeat(1, 3, 1, 1)
    if normalize:
        t = t.clone()
        parts = list(t) if scale_each else [t]
        for p in parts:
            lo, hi = value_range if value_range is not None else (float(p.min()), float(p.max()))
            p.clamp_(min=lo, max=hi)
            p.sub_(lo).div_(max(hi - lo, 1e-5))
    if t.shape[0] == 1:
        return t[0]
    n, c, h, w = t.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    out = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, dtype=t.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = padding + y * (h + padding), padding + x * (w + padding)
        out[:, top : top + h, left : left + w] = t[k]
    return out


def both(shape, dtype=np.float32, seed=0, scale=1.0, shift=0.0):
    arr = (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(dtype)
    return ember.tensor(arr), torch.tensor(arr)


def same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_the_documented_example_shape():
    assert utils.make_grid(ember.rand(10, 1, 28, 28), nrow=4).shape == (3, 92, 122)


@pytest.mark.parametrize(
    "shape,kwargs",
    [
        ((10, 1, 28, 28), {"nrow": 4}),
        ((7, 3, 5, 6), {}),
        ((7, 3, 5, 6), {"nrow": 3, "padding": 0}),
        ((5, 3, 4, 4), {"nrow": 2, "padding": 3, "pad_value": 0.25}),
        ((9, 2, 4, 3), {"nrow": 20}),  # fewer images than nrow: one row
        ((1, 1, 6, 5), {}),  # one image: returned on its own, without padding
        ((1, 3, 6, 5), {"padding": 4}),
        ((3, 6, 5), {}),
        ((1, 6, 5), {}),
        ((6, 5), {}),
    ],
)
def test_grid_layout_matches_the_reference(shape, kwargs):
    ours, theirs = both(shape)
    same(utils.make_grid(ours, **kwargs), reference_grid(theirs, **kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"normalize": True},
        {"normalize": True, "scale_each": True},
        {"normalize": True, "value_range": (-1.0, 1.0)},
        {"normalize": True, "value_range": (-1, 2), "scale_each": True},
        {"normalize": True, "value_range": (0.5, 0.5)},  # an empty range divides by 1e-5, not by zero
        {"normalize": False, "value_range": (0.0, 1.0)},  # value_range alone changes nothing
    ],
)
def test_normalize_matches_the_reference(kwargs):
    ours, theirs = both((6, 3, 5, 4), scale=3.0, shift=2.0, seed=1)
    same(utils.make_grid(ours, nrow=4, **kwargs), reference_grid(theirs, nrow=4, **kwargs))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # the input is left alone


def test_normalize_scales_each_image_to_the_unit_interval():
    ours, _ = both((4, 3, 5, 5), scale=10.0, seed=2)
    grid = utils.make_grid(ours, nrow=2, padding=0, normalize=True, scale_each=True).numpy()
    for tile in (grid[:, :5, :5], grid[:, :5, 5:], grid[:, 5:, :5], grid[:, 5:, 5:]):
        assert tile.min() == 0.0 and tile.max() == 1.0


def test_float64_and_uint8_grids_keep_their_dtype():
    ours, theirs = both((5, 3, 4, 4), dtype=np.float64)
    same(utils.make_grid(ours, pad_value=0.5), reference_grid(theirs, pad_value=0.5))
    arr = np.random.default_rng(3).integers(0, 256, (5, 1, 4, 4), dtype=np.uint8)
    same(utils.make_grid(ember.tensor(arr), pad_value=255), reference_grid(torch.tensor(arr), pad_value=255))


def test_a_list_of_images():
    arrays = [np.random.default_rng(i).random((3, 4, 5), dtype=np.float32) for i in range(5)]
    ours = utils.make_grid([ember.tensor(a) for a in arrays], nrow=2)
    same(ours, reference_grid([torch.tensor(a) for a in arrays], nrow=2))


def test_grids_record_no_gradient():
    x = ember.rand(4, 3, 5, 5, requires_grad=True)
    assert not utils.make_grid(x).requires_grad
    assert not utils.make_grid(x, normalize=True).requires_grad


def test_bad_arguments():
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="list containing"):
        utils.make_grid([ember.zeros(3, 4, 4), np.zeros((3, 4, 4))])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(ember.rand(2, 3, 4, 4), normalize=True, value_range=[0, 1])


def saved_pixels(tensor, **kwargs) -> np.ndarray:
    buffer = io.BytesIO()
    utils.save_image(tensor, buffer, format="PNG", **kwargs)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


def torchvision_rounding(grid: torch.Tensor) -> np.ndarray:
    return grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()


def test_save_image_rounds_as_torchvision_does():
    # values on and beside the half-levels where rounding changes, and outside [0, 1] (clamped)
    levels = np.arange(256, dtype=np.float32)
    edges = np.concatenate([(levels + 0.5) / 255, np.nextafter((levels + 0.5) / 255, 0), levels / 255])
    rest = np.random.default_rng(4).uniform(-0.2, 1.2, 4 * 3 * 16 * 16 - edges.size).astype(np.float32)
    arr = np.concatenate([edges, rest]).reshape(4, 3, 16, 16)
    ours = saved_pixels(ember.tensor(arr), nrow=2, pad_value=0.3)
    np.testing.assert_array_equal(ours, torchvision_rounding(reference_grid(torch.tensor(arr), nrow=2, pad_value=0.3)))


def test_save_image_to_a_path_picks_the_format_from_the_name(tmp_path):
    ours, theirs = both((3, 1, 6, 6), seed=5)
    utils.save_image(ours, tmp_path / "grid.png", normalize=True)
    with Image.open(tmp_path / "grid.png") as img:
        assert img.format == "PNG" and img.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(img), torchvision_rounding(reference_grid(theirs, normalize=True)))
    utils.save_image(ember.rand(3, 8, 8), str(tmp_path / "one.jpg"))
    with Image.open(tmp_path / "one.jpg") as img:
        assert img.format == "JPEG" and img.size == (8, 8)


def test_save_image_without_pillow_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"ember\[vision\]"):
        utils.save_image(ember.rand(3, 4, 4), tmp_path / "x.png")

"""VisionDataset, Pad, RandomVerticalFlip and transforms.functional helpers.

torchvision is not installed, so expected values come from torchvision's documented behaviour, computed here with
NumPy, PIL (ImageOps, Image.resize, convert("L")) and, for plain tensor arithmetic, torch itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import gradcheck
from PIL import Image, ImageOps

import ember
from ember.vision import datasets
from ember.vision import transforms as T
from ember.vision.transforms import functional as F

PAD_MODES = ["constant", "edge", "reflect", "symmetric"]


def u8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def pil(h=5, w=7, mode="RGB", seed=0):
    if mode == "L":
        return Image.fromarray(u8((h, w), seed))
    return Image.fromarray(u8((h, w, len(mode)), seed), mode)


def chw(img):
    """A PIL image's pixels as a C x H x W array."""
    arr = np.asarray(img)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def ltrb(padding):
    """torchvision's documented padding forms: int, (left/right, top/bottom), (left, top, right, bottom)."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    return tuple(padding)


def np_pad_hw(arr, padding, mode, fill=0, channel_axis=None):
    """Pad the two spatial axes of arr (H, W last two or HWC when channel_axis == -1) with NumPy."""
    left, top, right, bottom = ltrb(padding)
    if channel_axis == -1:
        widths = ((top, bottom), (left, right), (0, 0))
    else:
        widths = ((0, 0),) * (arr.ndim - 2) + ((top, bottom), (left, right))
    if mode != "constant":
        return np.pad(arr, widths, mode)
    if isinstance(fill, tuple) and channel_axis == -1:
        out = np.stack([np.pad(arr[..., c], widths[:2], constant_values=fill[c]) for c in range(arr.shape[-1])], -1)
        return out.astype(arr.dtype)
    return np.pad(arr, widths, constant_values=fill)


# ---------------------------------------------------------------------------------------------- VisionDataset


class Toy(datasets.VisionDataset):
    """Three tiny images with integer labels."""

    def __init__(self, root=None, split="train", **kwargs):
        super().__init__(root, **kwargs)
        self.split = split
        self.images = [pil(4, 6, "RGB", seed=s) for s in range(3)]
        self.labels = [3, 1, 4]

    def __getitem__(self, index):
        img, target = self.images[index], self.labels[index]
        return self.transforms(img, target) if self.transforms is not None else (img, target)

    def __len__(self):
        return len(self.images)

    def extra_repr(self):
        return f"Split: {self.split}\nSize: 4x6"


class JointFlip:
    """A joint transform: flips the image and negates the label."""

    def __call__(self, img, target):
        return ImageOps.mirror(img), -target

    def __repr__(self):
        return "JointFlip()"


def test_vision_dataset_subclass_applies_transform_and_target_transform():
    ds = Toy("data", transform=T.PILToTensor(), target_transform=lambda y: y * 10)
    assert isinstance(ds, datasets.VisionDataset) and isinstance(ds, ember.utils.data.Dataset)
    assert len(ds) == 3
    for i in range(3):
        x, y = ds[i]
        assert isinstance(x, ember.Tensor) and x.dtype == ember.uint8 and tuple(x.shape) == (3, 4, 6)
        np.testing.assert_array_equal(x.numpy(), chw(ds.images[i]))
        assert y == ds.labels[i] * 10
    # only one of the two given: the other side passes through untouched
    only_target = Toy(target_transform=str)
    img, y = only_target[1]
    assert img is only_target.images[1] and y == "1"
    only_input = Toy(transform=T.RandomVerticalFlip(p=1.0))
    img, y = only_input[2]
    np.testing.assert_array_equal(np.asarray(img), np.asarray(ImageOps.flip(only_input.images[2])))
    assert y == 4
    assert ds.transform is not None and ds.target_transform is not None


def test_vision_dataset_joint_transforms_and_exclusivity():
    ds = Toy(transforms=JointFlip())
    assert isinstance(ds, datasets.VisionDataset)
    img, y = ds[0]
    np.testing.assert_array_equal(np.asarray(img), np.asarray(ds.images[0])[:, ::-1])
    assert y == -3
    assert ds.transform is None and ds.target_transform is None
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        Toy(transforms=JointFlip(), transform=T.ToTensor())
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        Toy(transforms=JointFlip(), target_transform=int)


def test_vision_dataset_root_handling():
    assert issubclass(Toy, datasets.VisionDataset)
    assert datasets.VisionDataset(root="~").root == os.path.expanduser("~")
    assert Toy("~/some/data").root == os.path.expanduser("~/some/data")
    assert Toy("plain/dir").root == "plain/dir"
    assert Toy().root is None
    p = Path("some") / "dir"
    assert Toy(p).root == p  # only str roots are expanded


def test_vision_dataset_base_methods_are_abstract():
    base = datasets.VisionDataset("r")
    with pytest.raises(NotImplementedError):
        base[0]
    with pytest.raises(NotImplementedError):
        len(base)
    assert datasets.VisionDataset("r").extra_repr() == ""


def test_vision_dataset_repr_header_lines():
    ds = Toy("datasets/toy", split="val", transform=T.ToTensor())
    assert isinstance(ds, datasets.VisionDataset)
    lines = repr(ds).splitlines()
    assert lines[:6] == [
        "Dataset Toy",
        "    Number of datapoints: 3",
        "    Root location: datasets/toy",
        "    Split: val",
        "    Size: 4x6",
        "    StandardTransform",
    ]
    no_root = Toy(transforms=JointFlip())
    assert repr(no_root).splitlines() == [
        "Dataset Toy",
        "    Number of datapoints: 3",
        "    Split: train",
        "    Size: 4x6",
        "    JointFlip()",
    ]


def test_vision_dataset_repr_transform_block_like_torchvision():
    ds = Toy("r", transform=T.Compose([T.ToTensor()]), target_transform=T.Lambda(int))
    assert isinstance(ds, datasets.VisionDataset)
    # torchvision appends repr(self.transforms) as one body entry, so only "StandardTransform" gets the indent
    assert repr(ds) == "\n".join(
        [
            "Dataset Toy",
            "    Number of datapoints: 3",
            "    Root location: r",
            "    Split: train",
            "    Size: 4x6",
            "    StandardTransform",
            "Transform: Compose(",
            "               ToTensor()",
            "           )",
            "Target transform: Lambda()",
        ]
    )


def test_vision_dataset_without_transforms_like_torchvision():
    ds = Toy("r")
    assert isinstance(ds, datasets.VisionDataset)
    assert ds[0][0] is ds.images[0]
    assert ds.transforms is None
    assert "StandardTransform" not in repr(ds)


# ---------------------------------------------------------------------------------------------- Pad


@pytest.mark.parametrize(
    "mode,expected",
    [
        ("constant", [0, 0, 1, 2, 3, 4, 0, 0]),
        ("edge", [1, 1, 1, 2, 3, 4, 4, 4]),
        ("reflect", [3, 2, 1, 2, 3, 4, 3, 2]),
        ("symmetric", [2, 1, 1, 2, 3, 4, 4, 3]),
    ],
)
def test_pad_documented_row_example(mode, expected):
    # torchvision's docs: padding [1, 2, 3, 4] by 2 on both sides in each mode
    row = np.array([[1, 2, 3, 4]], dtype=np.uint8)
    out = T.Pad((2, 0), padding_mode=mode)(Image.fromarray(row))
    assert np.asarray(out).tolist() == [expected]
    t = T.Pad((2, 0), padding_mode=mode)(ember.tensor(row[None]))
    assert t.tolist() == [[expected]]


@pytest.mark.parametrize("padding", [1, (1, 2), (1, 2, 3, 4), [2], (0, 3), (3, 0, 0, 1)])
@pytest.mark.parametrize("mode", PAD_MODES)
def test_pad_pil_rgb_and_gray(padding, mode):
    for img in (pil(5, 7, "RGB", seed=1), pil(4, 6, "L", seed=2)):
        fill = (9, 80, 200) if img.mode == "RGB" else 77
        out = T.Pad(padding, fill=fill, padding_mode=mode)(img)
        arr = np.asarray(img)
        expect = np_pad_hw(arr, padding, mode, fill, channel_axis=-1 if arr.ndim == 3 else None)
        assert isinstance(out, Image.Image) and out.mode == img.mode
        left, top, right, bottom = ltrb(padding)
        assert out.size == (img.size[0] + left + right, img.size[1] + top + bottom)
        np.testing.assert_array_equal(np.asarray(out), expect)
        np.testing.assert_array_equal(np.asarray(F.pad(img, padding, fill, mode)), expect)


def test_pad_pil_fill_forms():
    img = pil(3, 4, "RGB", seed=3)
    # an int fill is used for every band of an RGB image
    np.testing.assert_array_equal(np.asarray(T.Pad(2, fill=5)(img))[0, 0], [5, 5, 5])
    np.testing.assert_array_equal(np.asarray(T.Pad(1, fill=(1, 2, 3))(img))[-1, -1], [1, 2, 3])
    # fill is ignored outside constant mode
    np.testing.assert_array_equal(
        np.asarray(T.Pad(1, fill=(1, 2, 3), padding_mode="edge")(img)), np.asarray(T.Pad(1, padding_mode="edge")(img))
    )
    rgba = pil(3, 3, "RGBA", seed=4)
    out = T.Pad(1, fill=(1, 2, 3, 4))(rgba)
    assert out.mode == "RGBA" and np.asarray(out)[0, 0].tolist() == [1, 2, 3, 4]
    fimg = Image.fromarray(np.random.default_rng(5).random((3, 3)).astype(np.float32))
    out = T.Pad(1, fill=0.5)(fimg)
    assert out.mode == "F" and out.getpixel((0, 0)) == 0.5
    np.testing.assert_array_equal(np.asarray(out)[1:-1, 1:-1], np.asarray(fimg))
    pal = pil(3, 4, "L", seed=6).convert("P")
    out = T.Pad(1, fill=0)(pal)
    assert out.mode == "P" and out.getpalette() == pal.getpalette()
    np.testing.assert_array_equal(np.asarray(out)[1:-1, 1:-1], np.asarray(pal))


@pytest.mark.parametrize("padding", [1, (2, 1), (1, 0, 2, 3)])
@pytest.mark.parametrize("mode", PAD_MODES)
@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 3, 3), (2, 3, 4, 4), (4, 6)])
def test_pad_tensor_matches_numpy(padding, mode, shape):
    arr = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    out = F.pad(ember.tensor(arr), padding, fill=1.5, padding_mode=mode)
    assert out.dtype == ember.float32
    np.testing.assert_array_equal(out.numpy(), np_pad_hw(arr, padding, mode, 1.5))
    ints = u8(shape, 8)
    out = T.Pad(padding, fill=3, padding_mode=mode)(ember.tensor(ints))
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), np_pad_hw(ints, padding, mode, 3))


def test_pad_errors_and_repr():
    img = pil()
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        F.pad(img, 1, padding_mode="circular")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"):
        F.pad(img, (1, 2, 3))
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        F.pad(ember.zeros(1, 2, 2), "1")
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.pad(np.zeros((2, 2)), 1)
    assert repr(T.Pad((1, 2), fill=3, padding_mode="edge")) == "Pad(padding=(1, 2), fill=3, padding_mode=edge)"
    assert repr(T.Pad(4)) == "Pad(padding=4, fill=0, padding_mode=constant)"


def test_pad_validates_padding_at_construction():
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("2")


def test_pad_tensor_is_differentiable():
    x = ember.tensor(np.arange(12.0).reshape(1, 3, 4), requires_grad=True)
    assert F.pad(x, 1).requires_grad
    for mode in PAD_MODES:
        gradcheck(
            lambda a, m=mode: F.pad(a, (1, 2), fill=0.0, padding_mode=m), np.random.default_rng(9).random((2, 3, 3))
        )


def test_pad_tensor_rejects_sequence_fill_like_torchvision():
    # torchvision: "Only number is supported for torch Tensor" -> TypeError("Got inappropriate fill arg")
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        F.pad(ember.zeros(3, 2, 2), 1, fill=(1, 2, 3))


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_pad_palette_image_keeps_palette(mode):
    pal = pil(3, 4, "RGB", seed=10).convert("P")
    out = F.pad(pal, 1, padding_mode=mode)
    np.testing.assert_array_equal(np.asarray(out), np_pad_hw(np.asarray(pal), 1, mode))
    assert out.mode == "P" and out.getpalette() == pal.getpalette()


# ---------------------------------------------------------------------------------------------- RandomVerticalFlip


def test_random_vertical_flip_p0_and_p1():
    for img in (pil(5, 7, "RGB", 11), pil(4, 3, "L", 12)):
        flipped = T.RandomVerticalFlip(p=1.0)(img)
        np.testing.assert_array_equal(np.asarray(flipped), np.asarray(ImageOps.flip(img)))
        np.testing.assert_array_equal(np.asarray(flipped), np.asarray(img)[::-1])
        assert flipped.size == img.size and flipped.mode == img.mode
        assert T.RandomVerticalFlip(p=0.0)(img) is img
    for shape in [(3, 4, 5), (2, 1, 3, 3), (6, 2)]:
        arr = np.random.default_rng(13).standard_normal(shape).astype(np.float32)
        out = T.RandomVerticalFlip(p=1.0)(ember.tensor(arr))
        np.testing.assert_array_equal(out.numpy(), arr[..., ::-1, :])
        x = ember.tensor(arr)
        assert T.RandomVerticalFlip(p=0.0)(x) is x
    assert repr(T.RandomVerticalFlip()) == "RandomVerticalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(p=0.25)) == "RandomVerticalFlip(p=0.25)"


def test_random_vertical_flip_is_seeded_by_manual_seed():
    img = ember.tensor(np.arange(6.0).reshape(1, 3, 2))
    flip = T.RandomVerticalFlip(p=0.5)

    def decisions(seed, n=40):
        ember.manual_seed(seed)
        return [bool((flip(img).numpy() != img.numpy()).any()) for _ in range(n)]

    first = decisions(4)
    assert first == decisions(4)
    assert first != decisions(5)
    assert 8 <= sum(first) <= 32
    # one uniform draw per call, flipping when it falls below p (as torchvision documents its random flips)
    ember.manual_seed(4)
    draws = [ember.rand(1).item() < 0.5 for _ in range(40)]
    assert first == draws
    ember.manual_seed(4)
    pil_flags = [
        np.array_equal(np.asarray(T.RandomVerticalFlip(0.5)(pil(4, 4, "L", 14))), np.asarray(pil(4, 4, "L", 14))[::-1])
        for _ in range(40)
    ]
    assert pil_flags == draws


# ---------------------------------------------------------------------------------------------- InterpolationMode, Tensor


def test_interpolation_mode_members_and_pil_constants():
    expected = {
        "NEAREST": "nearest",
        "NEAREST_EXACT": "nearest-exact",
        "BILINEAR": "bilinear",
        "BICUBIC": "bicubic",
        "BOX": "box",
        "HAMMING": "hamming",
        "LANCZOS": "lanczos",
    }
    for name, value in expected.items():
        member = getattr(F.InterpolationMode, name)
        assert member.value == value and F.InterpolationMode(value) is member
    assert T.InterpolationMode is F.InterpolationMode
    img = pil(9, 12, "RGB", 15)
    for mode, resample in [
        (F.InterpolationMode.NEAREST, Image.Resampling.NEAREST),
        (F.InterpolationMode.BILINEAR, Image.Resampling.BILINEAR),
        (F.InterpolationMode.BICUBIC, Image.Resampling.BICUBIC),
        (F.InterpolationMode.BOX, Image.Resampling.BOX),
        (F.InterpolationMode.HAMMING, Image.Resampling.HAMMING),
        (F.InterpolationMode.LANCZOS, Image.Resampling.LANCZOS),
    ]:
        by_enum = F.resize(img, [5, 7], interpolation=mode)
        by_int = F.resize(img, [5, 7], interpolation=int(resample))
        np.testing.assert_array_equal(np.asarray(by_enum), np.asarray(img.resize((7, 5), resample)))
        np.testing.assert_array_equal(np.asarray(by_int), np.asarray(by_enum))
    with pytest.raises(
        TypeError,
        match="Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant",
    ):
        F.resize(img, 4, interpolation="bilinear")


def test_functional_tensor_is_the_tensor_type():
    assert F.Tensor is ember.Tensor
    x = F.Tensor([[1, 2], [3, 4]])
    ref = torch.Tensor([[1, 2], [3, 4]])
    assert str(x.dtype) == str(ref.dtype) and tuple(x.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(x.numpy(), ref.numpy())
    assert tuple(F.Tensor(2, 3).shape) == tuple(torch.Tensor(2, 3).shape)
    assert isinstance(F.pil_to_tensor(pil()), F.Tensor)


# ---------------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    "mode,channels", [("L", 1), ("RGB", 3), ("RGBA", 4), ("LA", 2), ("I", 1), ("F", 1), ("1", 1), ("P", 1)]
)
def test_dimension_helpers_on_pil(mode, channels):
    img = pil(5, 8, "RGB", 16).convert(mode)
    assert F.get_dimensions(img) == [channels, 5, 8]
    assert F.get_image_size(img) == [8, 5]
    assert F.get_image_num_channels(img) == channels


@pytest.mark.parametrize("shape", [(4, 6), (1, 4, 6), (3, 5, 2), (2, 3, 7, 9), (2, 2, 4, 1, 3)])
def test_dimension_helpers_on_tensors(shape):
    x = ember.zeros(*shape)
    c = 1 if len(shape) == 2 else shape[-3]
    assert F.get_dimensions(x) == [c, shape[-2], shape[-1]]
    assert F.get_image_size(x) == [shape[-1], shape[-2]]
    assert F.get_image_num_channels(x) == c
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.get_dimensions(np.zeros(shape))
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.get_image_size([[0]])


def test_dimension_helpers_reject_1d_tensor():
    for fn in (F.get_dimensions, F.get_image_size, F.get_image_num_channels):
        with pytest.raises(TypeError, match="Tensor is not a torch image"):
            fn(ember.zeros(5))


# ---------------------------------------------------------------------------------------------- flips


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_hflip_vflip_pil(mode):
    img = pil(4, 6, mode, 17)
    arr = np.asarray(img)
    h, v = F.hflip(img), F.vflip(img)
    np.testing.assert_array_equal(np.asarray(h), arr[:, ::-1])
    np.testing.assert_array_equal(np.asarray(h), np.asarray(ImageOps.mirror(img)))
    np.testing.assert_array_equal(np.asarray(v), arr[::-1])
    np.testing.assert_array_equal(np.asarray(v), np.asarray(ImageOps.flip(img)))
    assert h.mode == v.mode == mode


@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 2, 2), (2, 3, 4, 6), (5, 3)])
def test_hflip_vflip_tensors(shape):
    arr = np.random.default_rng(18).standard_normal(shape).astype(np.float32)
    x = ember.tensor(arr)
    np.testing.assert_array_equal(F.hflip(x).numpy(), arr[..., ::-1])
    np.testing.assert_array_equal(F.vflip(x).numpy(), arr[..., ::-1, :])
    np.testing.assert_array_equal(F.hflip(F.hflip(x)).numpy(), arr)
    assert F.vflip(x).dtype == ember.float32
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.hflip(arr)
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.vflip(arr)


def test_hflip_vflip_gradients():
    data = np.random.default_rng(19).standard_normal((2, 3, 4))
    gradcheck(lambda a: F.hflip(a), data)
    gradcheck(lambda a: F.vflip(a), data)
    gradcheck(lambda a: F.vflip(F.hflip(a)) * a, data)


# ---------------------------------------------------------------------------------------------- crop, center_crop


def np_crop(arr, top, left, height, width):
    """Crop the last two axes; pixels outside the image read as 0."""
    out = np.zeros(arr.shape[:-2] + (height, width), arr.dtype)
    h, w = arr.shape[-2:]
    for i in range(height):
        for j in range(width):
            y, x = top + i, left + j
            if 0 <= y < h and 0 <= x < w:
                out[..., i, j] = arr[..., y, x]
    return out


CROPS = [(0, 0, 5, 7), (1, 2, 3, 4), (4, 6, 1, 1), (-1, 0, 3, 3), (2, 5, 4, 4), (-2, -3, 9, 12), (0, 0, 1, 7)]


@pytest.mark.parametrize("box", CROPS + [(0, -10, 2, 3), (-10, 0, 2, 3)])
def test_crop_pil(box):
    img = pil(5, 7, "RGB", 20)
    out = F.crop(img, *box)
    assert out.size == (box[3], box[2])
    np.testing.assert_array_equal(chw(out), np_crop(chw(img), *box))


@pytest.mark.parametrize("box", CROPS)
@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 1, 5, 7), (5, 7)])
def test_crop_tensor(box, shape):
    arr = np.random.default_rng(21).standard_normal(shape).astype(np.float32)
    out = F.crop(ember.tensor(arr), *box)
    np.testing.assert_array_equal(out.numpy(), np_crop(arr, *box))


@pytest.mark.parametrize(
    "box", [(0, -10, 2, 3), (-10, 0, 2, 3), (0, 9, 2, 3), (-6, 0, 3, 3), (0, -6, 2, 3), (7, 9, 2, 2), (-4, 8, 2, 1)]
)
def test_crop_tensor_box_wholly_outside(box):
    arr = np.arange(35, dtype=np.float32).reshape(1, 5, 7)
    out = F.crop(ember.tensor(arr), *box)
    assert tuple(out.shape) == (1, box[2], box[3])
    np.testing.assert_array_equal(out.numpy(), np.zeros((1, box[2], box[3]), np.float32))


def test_crop_and_center_crop_gradients():
    data = np.random.default_rng(22).standard_normal((2, 4, 5))
    gradcheck(lambda a: F.crop(a, 1, 1, 2, 3), data)
    gradcheck(lambda a: F.center_crop(a, [2, 3]), data)


def expected_center_crop(arr, ch, cw):
    """Centre crop per torchvision's docs: zero-pad a too-small image evenly (extra pixel right/bottom),
    then take the window whose offset is round((size - crop) / 2)."""
    h, w = arr.shape[-2:]
    pad_l = (cw - w) // 2 if cw > w else 0
    pad_t = (ch - h) // 2 if ch > h else 0
    pad_r = (cw - w + 1) // 2 if cw > w else 0
    pad_b = (ch - h + 1) // 2 if ch > h else 0
    arr = np_pad_hw(arr, (pad_l, pad_t, pad_r, pad_b), "constant", 0)
    h, w = arr.shape[-2:]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return arr[..., top : top + ch, left : left + cw]


@pytest.mark.parametrize("size", [3, (2, 4), [5], (5, 7), (1, 1), (4, 6), (8, 7), (5, 10), (9, 12), (2, 9)])
def test_center_crop_pil_and_tensor(size):
    img = pil(5, 7, "RGB", 23)
    ch, cw = (size, size) if isinstance(size, int) else (size[0], size[-1])
    out = F.center_crop(img, size)
    assert out.size == (cw, ch)
    np.testing.assert_array_equal(chw(out), expected_center_crop(chw(img), ch, cw))
    for shape in [(3, 5, 7), (2, 1, 5, 7)]:
        arr = np.random.default_rng(24).standard_normal(shape).astype(np.float32)
        t = F.center_crop(ember.tensor(arr), size)
        np.testing.assert_array_equal(t.numpy(), expected_center_crop(arr, ch, cw))
    np.testing.assert_array_equal(chw(T.CenterCrop(size)(img)), chw(out))


# ---------------------------------------------------------------------------------------------- pil_to_tensor


@pytest.mark.parametrize(
    "mode,dtype",
    [("L", "uint8"), ("RGB", "uint8"), ("RGBA", "uint8"), ("LA", "uint8"), ("I", "int32"), ("F", "float32")],
)
def test_pil_to_tensor_modes(mode, dtype):
    base = pil(4, 6, "RGB", 25)
    img = (
        base.convert(mode)
        if mode not in ("I", "F")
        else Image.fromarray(
            np.random.default_rng(26).integers(-1000, 70000, (4, 6)).astype(np.int32)
            if mode == "I"
            else np.random.default_rng(26).standard_normal((4, 6)).astype(np.float32)
        )
    )
    assert img.mode == mode
    t = F.pil_to_tensor(img)
    arr = chw(img)
    assert str(t.dtype) == f"torch.{dtype}" and tuple(t.shape) == arr.shape
    np.testing.assert_array_equal(t.numpy(), arr)  # no scaling


def test_pil_to_tensor_keeps_255_and_rejects_non_pil():
    img = Image.fromarray(np.full((2, 3, 3), 255, np.uint8))
    t = F.pil_to_tensor(img)
    assert t.dtype == ember.uint8 and t.max().item() == 255 and tuple(t.shape) == (3, 2, 3)
    binary = Image.fromarray(np.array([[True, False], [False, True]]))
    b = F.pil_to_tensor(binary)
    assert b.dtype == ember.bool and b.tolist() == [[[True, False], [False, True]]]
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        F.pil_to_tensor(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        F.pil_to_tensor(ember.zeros(3, 2, 2))


# ---------------------------------------------------------------------------------------------- resize


@pytest.mark.parametrize("hw", [(10, 16), (16, 10), (12, 12), (7, 31)])
@pytest.mark.parametrize("size", [5, [6], 8])
def test_resize_int_matches_smaller_edge(hw, size):
    h, w = hw
    img = pil(h, w, "RGB", 27)
    s = size if isinstance(size, int) else size[0]
    # the smaller edge becomes size, the other keeps the aspect ratio (truncated)
    if h > w:
        new_h, new_w = int(s * h / w), s
    else:
        new_h, new_w = s, int(s * w / h)
    out = F.resize(img, size)
    assert out.size == (new_w, new_h)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((new_w, new_h), Image.Resampling.BILINEAR)))
    out_n = F.resize(img, size, interpolation=F.InterpolationMode.NEAREST)
    np.testing.assert_array_equal(np.asarray(out_n), np.asarray(img.resize((new_w, new_h), Image.Resampling.NEAREST)))


@pytest.mark.parametrize("size", [(3, 9), [20, 5], (10, 16)])
def test_resize_sequence_and_max_size(size):
    img = pil(10, 16, "L", 28)
    out = F.resize(img, size, interpolation=F.InterpolationMode.BICUBIC)
    assert out.size == (size[1], size[0])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((size[1], size[0]), Image.Resampling.BICUBIC)))
    # max_size caps the longer edge: 8 * 16 / 10 = 12.8 -> 12 > 11, so the long edge becomes 11
    capped = F.resize(img, 8, max_size=11)
    assert capped.size == (11, int(11 * 8 / 12))
    assert F.resize(img, 8, max_size=20).size == (12, 8)
    with pytest.raises(
        ValueError, match="max_size = 8 must be strictly greater than the requested size for the smaller edge"
    ):
        F.resize(img, 8, max_size=8)
    with pytest.raises(
        ValueError, match="max_size should only be passed if size specifies the length of the smaller edge"
    ):
        F.resize(img, (8, 8), max_size=20)


def test_resize_tensor_is_not_implemented():
    x = ember.zeros(3, 10, 16)
    with pytest.raises(
        NotImplementedError, match="ember does not implement torchvision.transforms.functional.resize on tensors"
    ):
        F.resize(x, 5)
    with pytest.raises(
        NotImplementedError, match="ember does not implement torchvision.transforms.functional.resize on tensors"
    ):
        F.resize(x, [4, 4])
    with pytest.raises(
        NotImplementedError, match="ember does not implement torchvision.transforms.functional.resize on tensors"
    ):
        F.resize(ember.zeros(2, 3, 10, 16), (5, 8))
    # a no-op resize returns the input itself, as torchvision does when the size already matches
    assert F.resize(x, [10, 16]) is x
    assert F.resize(x, 10) is x


def test_resize_nearest_exact_on_pil():
    img = pil(9, 12, "RGB", 29)
    out = F.resize(img, [4, 5], interpolation=F.InterpolationMode.NEAREST_EXACT)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((5, 4), Image.Resampling.NEAREST)))


# ---------------------------------------------------------------------------------------------- grayscale


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_rgb_to_grayscale_and_to_grayscale_on_pil(mode):
    img = pil(6, 5, mode, 30)
    luma = np.asarray(img.convert("L"))  # PIL: ITU-R 601-2, L = R*299/1000 + G*587/1000 + B*114/1000
    for fn in (F.rgb_to_grayscale, F.to_grayscale):
        one = fn(img)
        assert one.mode == "L"
        np.testing.assert_array_equal(np.asarray(one), luma)
        three = fn(img, num_output_channels=3)
        assert three.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(three), np.stack([luma] * 3, -1))
    default = F.to_grayscale(img)
    np.testing.assert_array_equal(np.asarray(default), luma)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 3, 3), (3, 1, 6)])
def test_rgb_to_grayscale_float_tensor(shape):
    arr = np.random.default_rng(31).random(shape).astype(np.float32)
    r, g, b = (torch.from_numpy(arr[..., i, :, :].copy()) for i in range(3))
    luma = (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3).numpy()
    out = F.rgb_to_grayscale(ember.tensor(arr))
    assert out.dtype == ember.float32 and tuple(out.shape) == shape[:-3] + (1,) + shape[-2:]
    np.testing.assert_allclose(out.numpy(), luma, rtol=1e-6, atol=1e-7)
    three = F.rgb_to_grayscale(ember.tensor(arr), num_output_channels=3)
    assert tuple(three.shape) == shape
    np.testing.assert_allclose(three.numpy(), np.concatenate([luma] * 3, axis=-3), rtol=1e-6, atol=1e-7)


def test_rgb_to_grayscale_uint8_tensor_close_to_pil():
    img = pil(8, 9, "RGB", 32)
    arr = chw(img)
    r, g, b = (torch.from_numpy(arr[i].astype(np.float32)) for i in range(3))
    truncated = (0.2989 * r + 0.587 * g + 0.114 * b).to(torch.uint8).numpy()
    out = F.rgb_to_grayscale(ember.tensor(arr))
    assert out.dtype == ember.uint8 and tuple(out.shape) == (1, 8, 9)
    np.testing.assert_array_equal(out.numpy()[0], truncated)
    # weights are the ITU-R 601-2 luma weights PIL uses: results differ from PIL by at most rounding
    diff = out.numpy()[0].astype(int) - np.asarray(img.convert("L")).astype(int)
    assert np.abs(diff).max() <= 1
    gray = ember.tensor(arr[:1])
    np.testing.assert_array_equal(F.rgb_to_grayscale(gray).numpy(), arr[:1])
    np.testing.assert_array_equal(F.rgb_to_grayscale(gray, num_output_channels=3).numpy(), np.repeat(arr[:1], 3, 0))


def test_rgb_to_grayscale_errors():
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\], but found 4"):
        F.rgb_to_grayscale(ember.zeros(4, 2, 2))
    with pytest.raises(TypeError, match="should have at least 3 dimensions, but found 2"):
        F.rgb_to_grayscale(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(ember.zeros(3, 2, 2), num_output_channels=2)
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.to_grayscale(pil(), num_output_channels=4)
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.rgb_to_grayscale(np.zeros((3, 2, 2)))


def test_rgb_to_grayscale_tensor_is_differentiable():
    x = ember.tensor(np.random.default_rng(33).random((3, 2, 2)), requires_grad=True)
    y = F.rgb_to_grayscale(x)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:, 0, 0], [0.2989, 0.587, 0.114], rtol=1e-12)
    gradcheck(lambda a: F.rgb_to_grayscale(a, num_output_channels=3), np.random.default_rng(34).random((3, 2, 3)))


# ---------------------------------------------------------------------------------------------- to_pil_image


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_to_pil_image_from_float_tensor(channels, mode):
    arr = np.random.default_rng(35).random((channels, 4, 5)).astype(np.float32)
    arr[0, 0, 0], arr[-1, -1, -1] = 0.0, 1.0
    img = F.to_pil_image(ember.tensor(arr))
    assert img.mode == mode and img.size == (5, 4)
    scaled = torch.from_numpy(arr).mul(255).byte().numpy()  # floats in [0, 1] are scaled by 255 and truncated
    np.testing.assert_array_equal(chw(img), scaled)
    assert T.ToPILImage()(ember.tensor(arr)).mode == mode


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_to_pil_image_from_uint8_tensor_and_round_trip(channels, mode):
    arr = u8((channels, 3, 6), 36)
    img = F.to_pil_image(ember.tensor(arr))
    assert img.mode == mode and img.size == (6, 3)
    np.testing.assert_array_equal(chw(img), arr)
    np.testing.assert_array_equal(F.pil_to_tensor(img).numpy(), arr)
    # the same pixels laid out H x W x C as a NumPy array give the same image
    from_np = F.to_pil_image(arr.transpose(1, 2, 0).copy())
    assert from_np.mode == mode
    np.testing.assert_array_equal(np.asarray(from_np), np.asarray(img))


def test_to_pil_image_one_channel_mode_inference():
    assert F.to_pil_image(ember.tensor(u8((4, 5), 37))).mode == "L"  # 2-D tensor
    assert F.to_pil_image(u8((4, 5), 37)).mode == "L"  # 2-D ndarray
    ints = np.random.default_rng(38).integers(-5, 5000, (3, 4)).astype(np.int32)
    img = F.to_pil_image(ember.tensor(ints[None]))
    assert img.mode == "I"
    np.testing.assert_array_equal(np.asarray(img), ints)
    shorts = np.random.default_rng(39).integers(0, 3000, (3, 4)).astype(np.int16)
    assert F.to_pil_image(shorts[:, :, None]).mode == "I;16"
    floats = np.random.default_rng(40).standard_normal((3, 4)).astype(np.float32)
    img = F.to_pil_image(ember.tensor(floats[None]), mode="F")
    assert img.mode == "F"
    np.testing.assert_array_equal(np.asarray(img), floats)  # mode "F" keeps float values unscaled
    img = F.to_pil_image(floats, mode="F")
    assert img.mode == "F"
    np.testing.assert_array_equal(np.asarray(img), floats)


def test_to_pil_image_errors():
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        F.to_pil_image(ember.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        F.to_pil_image(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        F.to_pil_image([[1, 2]])
    with pytest.raises(TypeError, match="Input type int64 is not supported"):
        F.to_pil_image(ember.tensor([[1, 2]], dtype=ember.int64))
    with pytest.raises(TypeError, match="Input type int32 is not supported for 3 channels"):
        F.to_pil_image(np.zeros((2, 2, 3), np.int32))


@pytest.mark.parametrize(
    "make", [lambda: ember.zeros(5, 2, 2, dtype=ember.uint8), lambda: np.zeros((2, 2, 5), np.uint8)]
)
def test_to_pil_image_rejects_more_than_four_channels(make):
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        F.to_pil_image(make())


@pytest.mark.parametrize("mode", ["YCbCr", "HSV"])
def test_to_pil_image_mode_describes_the_input(mode):
    # torchvision: mode is the "color space and pixel depth of input data", so the bytes are kept as they are
    arr = u8((3, 4, 5), 41)
    img = F.to_pil_image(ember.tensor(arr), mode=mode)
    assert img.mode == mode
    np.testing.assert_array_equal(chw(img), arr)


@pytest.mark.parametrize("mode", ["CMYK", "RGBX", None])
def test_to_pil_image_four_channel_modes_label_the_input(mode):
    arr = u8((4, 3, 5), 45)
    img = F.to_pil_image(ember.tensor(arr), mode=mode)
    assert img.mode == (mode or "RGBA")
    np.testing.assert_array_equal(chw(img), arr)
    # the same through an H x W x C array and through the ToPILImage transform
    assert F.to_pil_image(arr.transpose(1, 2, 0).copy(), mode=mode).tobytes() == img.tobytes()
    assert T.ToPILImage(mode=mode)(ember.tensor(arr)).tobytes() == img.tobytes()


@pytest.mark.parametrize(
    "make,mode",
    [
        (lambda: ember.tensor(u8((2, 3, 3), 46)), "RGB"),
        (lambda: ember.tensor(u8((2, 3, 3), 46)), "L"),
        (lambda: np.random.default_rng(47).standard_normal((3, 3, 1)), "F"),
        (lambda: ember.tensor(u8((1, 3, 3), 42)), "F"),
        (lambda: ember.tensor(u8((1, 3, 3), 42)), "RGB"),
        (lambda: ember.tensor(u8((3, 3, 3), 43)), "RGBA"),
        (lambda: ember.tensor(u8((4, 3, 3), 44)), "RGB"),
    ],
)
def test_to_pil_image_rejects_mismatched_mode(make, mode):
    # two wordings: a mode the input type cannot take, and a mode outside the channel count's list
    message = (
        rf"Incorrect mode \({mode}\) supplied for input type|Only modes \[.*\] are supported for \d channel inputs"
    )
    with pytest.raises(ValueError, match=message):
        F.to_pil_image(make(), mode=mode)

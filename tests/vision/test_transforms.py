"""Transforms: values follow torchvision's documented behaviour (checked by hand and against PIL)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F


def gray(h=5, w=7, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8))


def rgb(h=5, w=7, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_to_tensor_gray_and_rgb():
    for img, c in ((gray(), 1), (rgb(), 3)):
        t = T.ToTensor()(img)
        arr = np.asarray(img).reshape(5, 7, c)
        assert t.shape == (c, 5, 7) and t.dtype == ember.float32
        # torchvision: float32(x) / 255 in float32
        expect = torch.from_numpy(arr.transpose(2, 0, 1).copy()).to(torch.float32).div(255).numpy()
        np.testing.assert_array_equal(t.numpy(), expect)


def test_to_tensor_ndarray():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    t = F.to_tensor(arr)
    assert t.shape == (3, 2, 4)
    np.testing.assert_array_equal(t.numpy(), arr.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    f = F.to_tensor(np.ones((2, 2), np.float64))  # non-uint8 data is not rescaled
    assert f.dtype == ember.float64 and f.shape == (1, 2, 2) and f.numpy().max() == 1.0
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
        F.to_tensor(np.zeros(3, np.uint8))


def test_to_tensor_modes():
    img = Image.fromarray(np.array([[0, 1], [1, 0]], dtype=bool))
    np.testing.assert_array_equal(F.to_tensor(img).numpy()[0], [[0, 1], [1, 0]])
    f = Image.fromarray(np.array([[0.5, 2.0]], dtype=np.float32))
    np.testing.assert_array_equal(F.to_tensor(f).numpy(), [[[0.5, 2.0]]])


def test_pil_to_tensor():
    img = rgb()
    t = T.PILToTensor()(img)
    assert t.dtype == ember.uint8 and t.shape == (3, 5, 7)
    np.testing.assert_array_equal(t.numpy(), np.asarray(img).transpose(2, 0, 1))


def test_normalize_matches_formula_bitwise():
    x = T.ToTensor()(rgb())
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(x)
    tx = torch.from_numpy(x.numpy().copy())
    expect = tx.sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    np.testing.assert_array_equal(out.numpy(), expect.numpy())
    assert np.shares_memory(T.Normalize(mean, std, inplace=True)(x).numpy(), x.numpy())


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a torch tensor"):
        F.normalize(np.zeros((1, 2, 2)), [0], [1])
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image"):
        F.normalize(ember.zeros(2, 2), [0], [1])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(ember.zeros(1, 2, 2), [0], [0])


def test_compose_and_lambda_and_repr():
    c = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((0.5,), (0.5,))])
    out = c(gray())
    expect = (np.asarray(gray()).astype(np.float32) / 255 * 2 - np.float32(0.5)) / np.float32(0.5)
    np.testing.assert_allclose(out.numpy()[0], expect, rtol=1e-6)
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"
    )
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)


@pytest.mark.parametrize("size,expect", [(4, (4, 5)), ([4], (4, 5)), ((3, 9), (3, 9)), (10, (10, 14))])
def test_resize_sizes_and_pil_values(size, expect):
    img = gray(5, 7)
    out = T.Resize(size)(img)
    assert (out.size[1], out.size[0]) == expect
    ref = img.resize((expect[1], expect[0]), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


def test_resize_same_size_and_nearest():
    img = gray(5, 7)
    assert T.Resize(5)(img) is img
    out = T.Resize((10, 14), interpolation=T.InterpolationMode.NEAREST)(img)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img).repeat(2, 0).repeat(2, 1))
    assert repr(T.Resize(4)) == "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"
    with pytest.raises(NotImplementedError, match="ember does not implement torchvision.transforms.functional.resize"):
        T.Resize(3)(ember.zeros(1, 5, 7))


@pytest.mark.parametrize("size", [3, (2, 4), (6, 9), (5, 7)])
def test_center_crop_pil_and_tensor_agree(size):
    img = gray(5, 7)
    out = T.CenterCrop(size)(img)
    t = T.CenterCrop(size)(T.PILToTensor()(img))
    np.testing.assert_array_equal(np.asarray(out), t.numpy()[0])
    h, w = (size, size) if isinstance(size, int) else size
    arr = np.asarray(img)
    if h <= 5 and w <= 7:  # top/left = round((H - h) / 2), round((W - w) / 2)
        top, left = int(round((5 - h) / 2)), int(round((7 - w) / 2))
        np.testing.assert_array_equal(t.numpy()[0], arr[top : top + h, left : left + w])
    else:  # zero padding split (d // 2, (d + 1) // 2)
        assert t.shape[-2:] == (h, w)
        np.testing.assert_array_equal(
            t.numpy()[0, (h - 5) // 2 : (h - 5) // 2 + 5, (w - 7) // 2 : (w - 7) // 2 + 7], arr
        )


def test_random_crop_padding_and_reproducibility():
    img = gray(6, 6)
    ember.manual_seed(1)
    a = T.RandomCrop(6, padding=2)(img)
    ember.manual_seed(1)
    b = T.RandomCrop(6, padding=2)(img)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    padded = np.pad(np.asarray(img), 2)
    # the crop is some 6x6 window of the zero-padded image
    windows = [padded[i : i + 6, j : j + 6] for i in range(5) for j in range(5)]
    assert any(np.array_equal(np.asarray(a), w) for w in windows)
    full = T.RandomCrop(6)(img)
    np.testing.assert_array_equal(np.asarray(full), np.asarray(img))
    with pytest.raises(ValueError, match=r"Required crop size \(8, 8\) is larger than input image size \(6, 6\)"):
        T.RandomCrop(8)(img)
    grown = T.RandomCrop(8, pad_if_needed=True)(img)
    assert grown.size == (8, 8)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes_pil_and_tensor(mode):
    img = gray(4, 5)
    arr = np.asarray(img)
    expect = np.pad(arr, ((2, 2), (1, 1)), mode)
    np.testing.assert_array_equal(np.asarray(F.pad(img, [1, 2], padding_mode=mode)), expect)
    np.testing.assert_array_equal(F.pad(T.PILToTensor()(img), [1, 2], padding_mode=mode).numpy()[0], expect)
    torch_out = (
        torch.nn.functional.pad(
            torch.from_numpy(arr.astype(np.float32))[None, None],
            (1, 1, 2, 2),
            mode={"edge": "replicate"}.get(mode, mode),
        )
        if mode != "symmetric"
        else None
    )
    if torch_out is not None:
        np.testing.assert_array_equal(torch_out.numpy()[0, 0], expect)


def test_horizontal_flip():
    img = rgb()
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(img)), np.asarray(img)[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    t = T.ToTensor()(img)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[..., ::-1])
    ember.manual_seed(0)
    flips = [T.RandomHorizontalFlip()(t) is not t for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_random_rotation_uses_pil_rotate():
    img = gray(9, 9)
    ember.manual_seed(4)
    out = T.RandomRotation(30)(img)
    ember.manual_seed(4)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    assert -30 <= angle <= 30
    np.testing.assert_array_equal(
        np.asarray(out), np.asarray(img.rotate(angle, Image.NEAREST, False, None, fillcolor=0))
    )
    np.testing.assert_array_equal(np.asarray(F.rotate(img, 90)), np.rot90(np.asarray(img)))
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    assert (
        repr(T.RandomRotation(10))
        == "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, fill=0)"
    )


def test_grayscale():
    img = rgb()
    g = T.Grayscale()(img)
    assert g.mode == "L"
    np.testing.assert_array_equal(np.asarray(g), np.asarray(img.convert("L")))
    g3 = T.Grayscale(3)(img)
    assert (
        g3.mode == "RGB"
        and np.array_equal(np.asarray(g3)[..., 0], np.asarray(g))
        and np.array_equal(np.asarray(g3)[..., 2], np.asarray(g))
    )
    # tensors: (0.2989 r + 0.587 g + 0.114 b), cast back to the input dtype
    for t in (T.PILToTensor()(img), T.ToTensor()(img)):
        tt = torch.from_numpy(t.numpy().copy())
        r, gg, b = tt.unbind(-3)
        expect = (0.2989 * r + 0.587 * gg + 0.114 * b).to(tt.dtype).unsqueeze(-3)
        out = T.Grayscale()(t)
        assert out.dtype == t.dtype and out.shape == (1, 5, 7)
        np.testing.assert_array_equal(out.numpy(), expect.numpy())
        assert T.Grayscale(3)(t).shape == (3, 5, 7)
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        T.Grayscale(2)(img)


def test_to_pil_image_round_trip():
    img = rgb()
    back = T.ToPILImage()(T.PILToTensor()(img))
    np.testing.assert_array_equal(np.asarray(back), np.asarray(img))
    g = T.ToPILImage()(T.ToTensor()(gray()))
    assert g.mode == "L"


def test_pillow_missing_message(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("PIL"):
            raise ImportError("no PIL")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match="needs Pillow"):
        F._pil()

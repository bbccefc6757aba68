"""rotate and RandomRotation on tensors: against PIL's rotate (nearest, uint8), against torch's own
affine_grid + grid_sample for the same rotation, exact quarter turns, fill, batches and errors."""

import numpy as np
import pytest
import torch
from PIL import Image

import ember
import ember.vision.transforms as T
import ember.vision.transforms.functional as F

rng = np.random.default_rng(11)


def _pil_rotated(img: np.ndarray, *args, **kwargs) -> np.ndarray:
    """img (C, H, W) uint8 rotated by PIL, back as (C, H, W)."""
    pil = Image.fromarray(img.transpose(1, 2, 0) if img.shape[0] == 3 else img[0])
    out = np.asarray(F.rotate(pil, *args, **kwargs))
    return out.transpose(2, 0, 1) if out.ndim == 3 else out[None]


@pytest.mark.parametrize("angle", [30.0, 45.0, -60.0, 123.4, 180.0])
@pytest.mark.parametrize(
    "expand,center", [(False, None), (True, None), (False, (3, 4))]
)  # PIL expands about the centre
def test_nearest_rotation_of_a_uint8_tensor_agrees_with_pil(angle, expand, center):
    img = rng.integers(0, 256, (3, 9, 12), dtype=np.uint8)
    ours = F.rotate(ember.tensor(img), angle, expand=expand, center=center).numpy()
    theirs = _pil_rotated(img, angle, expand=expand, center=center)
    assert ours.shape == theirs.shape and ours.dtype == np.uint8
    # the same pixel map; a pixel whose source lies exactly between two may round the other way
    assert (ours == theirs).mean() > 0.9


@pytest.mark.parametrize("angle", [90, 180, 270, -90])
def test_quarter_turns_of_a_square_image_are_exact(angle):
    img = rng.standard_normal((2, 7, 7)).astype(np.float32)
    ours = F.rotate(ember.tensor(img), angle).numpy()
    np.testing.assert_array_equal(ours, np.rot90(img, k=angle // 90, axes=(1, 2)))


def _torch_rotation(img: np.ndarray, angle: float, mode: str) -> np.ndarray:
    """The rotation about the centre written as torch's affine_grid + grid_sample (normalised coordinates)."""
    c, h, w = img.shape
    rad = np.deg2rad(angle)
    theta = torch.tensor(
        [[[np.cos(rad), -np.sin(rad) * h / w, 0.0], [np.sin(rad) * w / h, np.cos(rad), 0.0]]], dtype=torch.float64
    )
    grid = torch.nn.functional.affine_grid(theta, (1, c, h, w), align_corners=False)
    x = torch.tensor(img, dtype=torch.float64)[None]
    return torch.nn.functional.grid_sample(x, grid, mode=mode, align_corners=False)[0].numpy()


@pytest.mark.parametrize("angle", [17.0, 45.0, -100.0])
@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 10, 6)])
def test_bilinear_and_nearest_rotations_agree_with_torchs_grid_sampling(angle, shape):
    img = rng.standard_normal(shape)
    bilinear = F.rotate(ember.tensor(img), angle, interpolation=T.InterpolationMode.BILINEAR).numpy()
    np.testing.assert_allclose(bilinear, _torch_rotation(img, angle, "bilinear"), atol=1e-9)
    nearest = F.rotate(ember.tensor(img), angle).numpy()
    assert (nearest == _torch_rotation(img, angle, "nearest")).mean() > 0.95


def test_fill_colours_the_pixels_from_outside_the_image():
    img = np.full((3, 8, 8), 0.5, np.float32)
    out = F.rotate(ember.tensor(img), 45.0, fill=[1.0, 2.0, 3.0]).numpy()
    np.testing.assert_array_equal(out[:, 0, 0], [1.0, 2.0, 3.0])  # a corner comes from outside
    np.testing.assert_array_equal(out[:, 4, 4], [0.5, 0.5, 0.5])
    smooth = F.rotate(ember.tensor(img), 45.0, T.InterpolationMode.BILINEAR, fill=[1.0, 2.0, 3.0]).numpy()
    assert smooth[2, 0, 0] > 2.5 and smooth[2, 4, 4] == pytest.approx(0.5)


def test_a_batch_rotates_like_each_image_and_keeps_its_dtype():
    imgs = rng.integers(0, 256, (2, 3, 6, 9), dtype=np.uint8)
    out = F.rotate(ember.tensor(imgs), 33.0, expand=True)
    for i in range(2):
        np.testing.assert_array_equal(out.numpy()[i], F.rotate(ember.tensor(imgs[i]), 33.0, expand=True).numpy())
    assert out.dtype == ember.uint8


def test_random_rotation_on_a_tensor_rotates_by_the_drawn_angle():
    img = ember.tensor(rng.standard_normal((3, 8, 8)).astype(np.float32))
    ember.manual_seed(4)
    out = T.RandomRotation(30)(img)
    ember.manual_seed(4)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    np.testing.assert_array_equal(out.numpy(), F.rotate(img, angle, fill=0).numpy())


@pytest.mark.parametrize(
    "call,error,message",
    [
        (
            lambda img: F.rotate(img, 10.0, interpolation=T.InterpolationMode.BICUBIC),
            ValueError,
            "Interpolation mode 'bicubic' is unsupported with Tensor input",
        ),
        (
            lambda img: F.rotate(img, 10.0, fill=[1.0, 2.0]),
            ValueError,
            r"The number of elements in 'fill' cannot broadcast to match the number of channels of the image \(2 != 3\)",
        ),
        (lambda img: F.rotate(img, 10.0, center=5), TypeError, "Argument center should be a sequence"),
    ],
)
def test_rotate_refuses_what_it_cannot_do(call, error, message):
    with pytest.raises(error, match=message):
        call(ember.zeros(3, 4, 4))


def test_an_expanded_quarter_turn_of_a_non_square_image_is_a_transpose():
    img = np.arange(15, dtype=np.float32).reshape(1, 5, 3)
    out = F.rotate(ember.tensor(img), 90, expand=True).numpy()
    np.testing.assert_array_equal(out, np.rot90(img, axes=(1, 2)))


def test_a_rotated_float_image_keeps_its_gradient():
    img = rng.standard_normal((2, 7, 5))
    g = rng.standard_normal((2, 7, 5))
    x = ember.tensor(img, requires_grad=True)
    F.rotate(x, 25.0, T.InterpolationMode.BILINEAR).backward(ember.tensor(g))
    xt = torch.tensor(img, requires_grad=True)
    rad = np.deg2rad(25.0)
    theta = torch.tensor([[[np.cos(rad), -np.sin(rad) * 7 / 5, 0.0], [np.sin(rad) * 5 / 7, np.cos(rad), 0.0]]])
    grid = torch.nn.functional.affine_grid(theta.double(), (1, 2, 7, 5), align_corners=False)
    torch.nn.functional.grid_sample(xt[None], grid, align_corners=False)[0].backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-9)

"""Colour adjustments and ColorJitter, on PIL images and on tensors: the defining properties of each factor,
and the two paths agreeing with each other (as torchvision's PIL and tensor paths agree, to a level or two)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F

rng = np.random.default_rng(0)
IMG = Image.fromarray(rng.integers(0, 256, (8, 9, 3), dtype=np.uint8))
TENSOR = T.ToTensor()(IMG)


@pytest.mark.parametrize(
    "fn,factor,tolerance",
    [
        (F.adjust_brightness, 1.3, 2 / 255),
        (F.adjust_contrast, 0.6, 2 / 255),
        (F.adjust_saturation, 1.7, 2 / 255),
        (F.adjust_hue, 0.2, 8 / 255),  # PIL's HSV is quantised to 8 bits
    ],
)
def test_pil_and_tensor_paths_agree(fn, factor, tolerance):
    via_pil = T.ToTensor()(fn(IMG, factor)).numpy()
    via_tensor = fn(TENSOR, factor).numpy()
    assert np.abs(via_pil - via_tensor).max() <= tolerance


def test_each_factor_does_what_it_says_on_tensors():
    x = TENSOR.numpy()
    for fn in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation):
        np.testing.assert_allclose(fn(TENSOR, 1.0).numpy(), x, atol=1e-7)  # 1 leaves the image alone
    assert F.adjust_brightness(TENSOR, 0.0).numpy().max() == 0.0
    assert F.adjust_brightness(TENSOR, 10.0).numpy().max() == 1.0  # clamped to the value range
    grey = F.rgb_to_grayscale(TENSOR, 3).numpy()
    np.testing.assert_allclose(F.adjust_saturation(TENSOR, 0.0).numpy(), grey, atol=1e-6)
    flat = F.adjust_contrast(TENSOR, 0.0).numpy()
    np.testing.assert_allclose(flat, np.full_like(flat, F.rgb_to_grayscale(TENSOR).numpy().mean()), atol=1e-6)
    np.testing.assert_allclose(F.adjust_hue(TENSOR, 0.0).numpy(), x, atol=1e-6)
    np.testing.assert_allclose(F.adjust_hue(F.adjust_hue(TENSOR, 0.3), -0.3).numpy(), x, atol=1e-5)
    # a half turn of hue twice is a full turn
    np.testing.assert_allclose(F.adjust_hue(F.adjust_hue(TENSOR, 0.5), 0.5).numpy(), x, atol=1e-5)


def test_pure_colours_turn_to_the_next_primary():
    red = ember.zeros(3, 1, 1)
    red[0] = 1.0
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).numpy().ravel(), [0, 1, 0], atol=1e-6)  # red -> green
    np.testing.assert_allclose(F.adjust_hue(red, -1 / 3).numpy().ravel(), [0, 0, 1], atol=1e-6)  # red -> blue


def test_uint8_tensors_stay_uint8_and_grey_images_are_left_alone():
    u8 = T.PILToTensor()(IMG)
    out = F.adjust_brightness(u8, 1.5)
    assert out.dtype == ember.uint8 and int(out.numpy().max()) <= 255
    grey = F.rgb_to_grayscale(TENSOR)
    np.testing.assert_array_equal(F.adjust_hue(grey, 0.3).numpy(), grey.numpy())
    assert F.adjust_hue(IMG.convert("L"), 0.3).mode == "L"


def test_color_jitter_draws_factors_in_range_and_is_reproducible():
    cj = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    assert repr(cj) == (
        "ColorJitter(brightness=[0.6, 1.4], contrast=[0.6, 1.4], saturation=[0.6, 1.4], hue=[-0.1, 0.1])"
    )
    ember.manual_seed(3)
    first = cj(TENSOR).numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(cj(TENSOR).numpy(), first)
    assert not np.allclose(first, TENSOR.numpy())
    order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3]
    assert 0.6 <= b <= 1.4 and 0.6 <= c <= 1.4 and 0.6 <= s <= 1.4 and -0.1 <= h <= 0.1
    assert cj(IMG).size == IMG.size
    assert repr(T.ColorJitter()) == "ColorJitter(brightness=None, contrast=None, saturation=None, hue=None)"


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: T.ColorJitter(brightness=-0.1), "must be non negative"),
        (lambda: T.ColorJitter(hue=0.6), "hue values should be between"),
        (lambda: T.ColorJitter(contrast=(0.5, 0.2)), "contrast values should be between"),
        (lambda: F.adjust_hue(TENSOR, 0.7), r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"),
        (lambda: F.adjust_brightness(TENSOR, -1.0), "brightness_factor"),
    ],
)
def test_bad_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()

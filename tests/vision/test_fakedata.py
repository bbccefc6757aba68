"""FakeData: item i equals torchvision's, computed here with torch's own generator following torchvision's
recipe (seed the global generator with i + random_offset, a normal image, one randint label, restore)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets
from ember.vision import transforms as T


def torch_item(index: int, image_size=(3, 224, 224), num_classes=10, random_offset=0):
    """(H x W [x C] uint8 pixels, label) as torchvision's FakeData makes them, on torch's generator."""
    saved = torch.get_rng_state()
    torch.manual_seed(index + random_offset)
    image = torch.randn(*image_size)
    label = torch.randint(0, num_classes, size=(1,), dtype=torch.long)[0]
    torch.set_rng_state(saved)
    pixels = image.mul(255).byte()  # ToPILImage's float -> uint8 step
    if pixels.dim() == 3:
        pixels = pixels.permute(1, 2, 0)
        if pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
    return pixels.numpy(), label.item()


@pytest.mark.parametrize("index", [0, 1, 7, 999])
def test_default_items_equal_torchvisions(index):
    img, label = datasets.FakeData()[index]
    pixels, expect = torch_item(index)
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (224, 224)
    assert type(label) is int and label == expect
    np.testing.assert_array_equal(np.asarray(img), pixels)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"image_size": (1, 12, 9), "num_classes": 3},
        {"image_size": (3, 5, 6), "num_classes": 100, "random_offset": 40},
        {"image_size": (4, 6, 6), "num_classes": 2, "random_offset": 7},
    ],
)
def test_sizes_classes_and_offsets(kwargs):
    ds = datasets.FakeData(size=20, **kwargs)
    for index in range(20):
        img, label = ds[index]
        pixels, expect = torch_item(index, **kwargs)
        assert label == expect
        np.testing.assert_array_equal(np.asarray(img), pixels)
    assert ds[0][0].mode == {1: "L", 3: "RGB", 4: "RGBA"}[kwargs["image_size"][0]]


def test_the_global_generator_is_left_as_it_was():
    ember.manual_seed(123)
    before = ember.get_rng_state()
    datasets.FakeData(size=3, image_size=(3, 4, 4))[2]
    assert bool((ember.get_rng_state() == before).all())
    torch.manual_seed(123)
    np.testing.assert_array_equal(ember.rand(5).numpy(), torch.rand(5).numpy())


def test_transforms_length_and_index_errors():
    seen = []

    def target_transform(t):
        seen.append(t)
        return t + 100

    ds = datasets.FakeData(size=5, image_size=(3, 8, 8), transform=T.ToTensor(), target_transform=target_transform)
    assert len(ds) == 5
    img, label = ds[4]
    pixels, expect = torch_item(4, image_size=(3, 8, 8))
    assert isinstance(seen[0], ember.Tensor) and seen[0].dim() == 0  # the transform sees the label tensor
    assert label == expect + 100 and type(label) is int
    np.testing.assert_array_equal(img.numpy(), torch.from_numpy(pixels).permute(2, 0, 1).float().div(255).numpy())
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    assert "Dataset FakeData" in repr(ds) and "Number of datapoints: 5" in repr(ds)


def test_batches_through_a_dataloader():
    ds = datasets.FakeData(size=10, image_size=(3, 6, 6), num_classes=4, transform=T.ToTensor())
    images, labels = next(iter(DataLoader(ds, batch_size=10)))
    assert images.shape == (10, 3, 6, 6) and labels.dtype == ember.int64
    assert labels.tolist() == [torch_item(i, (3, 6, 6), 4)[1] for i in range(10)]

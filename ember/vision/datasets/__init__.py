"""ember.vision.datasets: image datasets (torchvision.datasets' API) plus the built-in Digits."""

from __future__ import annotations

from ...data import load_digits
from ._idx import IDXFormatError, read_idx
from .cifar import CIFAR10, CIFAR100, CIFARFormatError
from .digits import Digits
from .fakedata import FakeData
from .mnist import KMNIST, MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "CIFARFormatError",
    "KMNIST",
    "MNIST",
    "Digits",
    "FakeData",
    "FashionMNIST",
    "IDXFormatError",
    "StandardTransform",
    "VisionDataset",
    "load_digits",
    "read_idx",
]

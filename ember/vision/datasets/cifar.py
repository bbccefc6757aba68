"""CIFAR-10 and CIFAR-100 from the original "python version" batches, as torchvision reads them.

Those batches are Python pickles. ember never lets a data file run code: its unpickler resolves exactly the
three NumPy names an ndarray needs (the array constructor, the array type, the dtype type), and the
codec call a protocol-2 pickle written by Python 3 uses for bytes, and refuses every other global, so a
file that names anything else is an error, not a program."""

from __future__ import annotations

import os
import pickle
import tarfile
import urllib.error

import numpy as np

from ..._tensor import Tensor
from ..transforms._batch import batch_plan
from ..transforms.functional import _pil
from . import _download
from .vision import StandardTransform, VisionDataset


class CIFARFormatError(ValueError):
    """A CIFAR batch file that is not what the format says (or that asks to run code)."""


def _numpy_names() -> dict:
    import codecs

    from numpy._core import multiarray

    return {
        ("_codecs", "encode"): codecs.encode,
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class _BatchUnpickler(pickle.Unpickler):
    """Resolves only the NumPy array names; anything else in the file is refused."""

    def find_class(self, module: str, name: str):
        allowed = _numpy_names().get((module, name))
        if allowed is None:
            raise CIFARFormatError(f"refusing to load {module}.{name}: a CIFAR batch holds only arrays and lists")
        return allowed


def load_batch(path: str) -> dict:
    """One CIFAR batch or meta file as a dict with str keys (the files were written by Python 2)."""
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, IndexError) as e:
        if isinstance(e, CIFARFormatError):
            raise CIFARFormatError(f"{path}: {e}") from None
        raise CIFARFormatError(f"{path}: not a CIFAR batch ({type(e).__name__}: {e})") from None
    if not isinstance(entry, dict):
        raise CIFARFormatError(f"{path}: not a CIFAR batch (holds a {type(entry).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


class CIFAR10(VisionDataset):
    """CIFAR-10: root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}; 32x32 RGB images."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [[f"data_batch_{i}", None] for i in range(1, 6)]
    test_list = [["test_batch", None]]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        if root is None:
            raise TypeError(f"{type(self).__name__}() needs a root folder")
        root = os.fspath(root) if isinstance(root, os.PathLike) else root
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        images, labels = [], []
        for name, _ in self.train_list if train else self.test_list:
            entry = load_batch(os.path.join(self.root, self.base_folder, name))
            data, targets = entry.get("data"), entry.get(self.labels_key)
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
                raise CIFARFormatError(f"{name}: 'data' must be a uint8 array of N x 3072 pixels")
            if targets is None or len(targets) != len(data):
                raise CIFARFormatError(f"{name}: '{self.labels_key}' must hold one label per image")
            images.append(data)
            labels.extend(int(t) for t in targets)
        self.data = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # N x H x W x C
        self.targets = labels
        self._load_meta()

    def download(self) -> None:
        """Fetch the archive (md5-checked) and unpack its batch folder into root, or fail saying where to put it."""
        if self._check_integrity():
            return
        where = f"put the extracted {self.base_folder} folder from {self.url} in {os.path.abspath(self.root)}"
        archive = os.path.join(self.root, self.filename)
        have = os.path.isfile(archive) and _download.md5sum(archive) == self.tgz_md5  # fetched before: no network
        if not have and self.url.startswith(("http:", "https:")) and not _download.reachable(self.url):
            raise RuntimeError(f"Could not download {type(self).__name__} ({self.url} not reachable). Offline? {where}")
        try:
            if not have:
                os.makedirs(self.root, exist_ok=True)
                _download.fetch(self.url, archive, self.tgz_md5)
            unpack_batches(archive, self.root, self.base_folder)
        except (OSError, RuntimeError, urllib.error.URLError, EOFError, tarfile.TarError) as e:
            raise RuntimeError(f"Could not download {type(self).__name__} ({e}). {where}") from None

    def _check_integrity(self) -> bool:
        folder = os.path.join(self.root, self.base_folder)
        names = [n for n, _ in self.train_list + self.test_list] + [self.meta["filename"]]
        return all(os.path.isfile(os.path.join(folder, n)) for n in names)

    def _load_meta(self) -> None:
        meta = load_batch(os.path.join(self.root, self.base_folder, self.meta["filename"]))
        names = meta.get(self.meta["key"])
        if not isinstance(names, list):
            raise CIFARFormatError(f"{self.meta['filename']}: '{self.meta['key']}' must be a list of class names")
        self.classes = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    # Transform whole batches with NumPy when the transform allows it (same values; tests switch it off).
    fast_path = True

    def _plan(self):
        if not self.fast_path or (self.transforms is not None and type(self.transforms) is not StandardTransform):
            return None
        return batch_plan(self.transform, channels=3)

    def _target(self, t: int):
        return self.target_transform(t) if self.target_transform is not None else t

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = int(index)
        plan = self._plan()
        if plan is not None:
            return Tensor._wrap(plan(self.data[index : index + 1])[0]), self._target(self.targets[index])
        img = _pil().fromarray(self.data[index])
        if self.transform is not None:
            img = self.transform(img)
        return img, self._target(self.targets[index])

    def __getitems__(self, indices: list[int]) -> list:
        """Many items at once: one NumPy pass over the batch when the transform allows it."""
        plan = self._plan()
        if plan is None:
            return [self[i] for i in indices]
        images = plan(self.data[np.asarray(indices, dtype=np.int64)])
        return [(Tensor._wrap(images[k]), self._target(self.targets[i])) for k, i in enumerate(indices)]

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


def unpack_batches(archive: str, root: str, folder: str) -> None:
    """Extract the regular files under folder/ from a .tar.gz into root. Any other member (a path outside
    folder, an absolute path, a link, a device) refuses the whole archive before anything is written."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            parts = m.name.replace("\\", "/").split("/")
            if m.name.startswith("/") or ".." in parts or parts[0] != folder or not (m.isfile() or m.isdir()):
                raise tarfile.TarError(f"{os.path.basename(archive)}: refusing the member {m.name!r}")
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python's own checks, where it has them
        tar.extractall(root, members=members, **safe)


class CIFAR100(CIFAR10):
    """CIFAR-100: root/cifar-100-python/{train, test, meta}; fine labels (100 classes)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", None]]
    test_list = [["test", None]]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"

"""MNIST, Fashion-MNIST and KMNIST from their IDX files, laid out as torchvision lays them out."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import numpy as np

from ..._creation import from_numpy
from ..._tensor import Tensor
from ..transforms._batch import batch_plan
from ..transforms.functional import _pil
from . import _download
from ._idx import IDXFormatError, read_image_file, read_label_file
from .vision import StandardTransform, VisionDataset


def _np(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


class MNIST(VisionDataset):
    """The MNIST digits: root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    # Read-only places (besides root) that may hold the raw files, e.g. a distribution package.
    system_dirs: tuple[str, ...] = ()
    system_package: str | None = None
    # Transform whole batches with NumPy when the transform allows it (same values; tests switch it off).
    fast_path = True

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False) -> None:
        if root is None:
            raise TypeError(f"{type(self).__name__}() needs a root folder")
        root = os.fspath(root) if isinstance(root, os.PathLike) else root
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download and self._locate(self._all_files()) is None:
            self.download()
        paths = self._locate(self._split_files())
        if paths is None:
            raise RuntimeError("Dataset not found. You can use download=True to download it. " + self._where_hint())
        self.data, self.targets = self._load_data(*paths)

    # ------------------------------------------------------------------ files
    @property
    def raw_folder(self) -> str:
        """root/<ClassName>/raw, where the IDX files live."""
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        """root/<ClassName>/processed (unused by ember; kept for torchvision compatibility)."""
        return os.path.join(self.root, self.__class__.__name__, "processed")

    def _split_files(self) -> list[str]:
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    def _all_files(self) -> list[str]:
        return [os.path.splitext(name)[0] for name, _ in self.resources]

    def _search_dirs(self) -> list[str]:
        return [self.raw_folder, *self.system_dirs]

    def _locate(self, names: list[str]) -> list[str] | None:
        """Paths of the named files (plain or .gz) from the first folder holding all of them."""
        for folder in self._search_dirs():
            found = []
            for name in names:
                for candidate in (name, name + ".gz"):
                    path = os.path.join(folder, candidate)
                    if os.path.isfile(path):
                        found.append(path)
                        break
            if len(found) == len(names):
                return found
        return None

    def _check_exists(self) -> bool:
        return self._locate(self._all_files()) is not None

    def _where_hint(self) -> str:
        files = ", ".join(self._all_files())
        hint = f"ember looks for the IDX files {files} (uncompressed or .gz) in {os.path.abspath(self.raw_folder)}"
        if self.system_package:
            hint += f", then in the files of the Debian package {self.system_package} (apt-get install {self.system_package})"
        return hint + "."

    def download(self) -> None:
        """Fetch the files from the official mirrors (md5-checked), or fail saying where to put them."""
        if self._check_exists():
            return
        errors = _download.download_resources(self.mirrors, self.resources, self.raw_folder)
        if errors:
            raise RuntimeError(
                f"Could not download {type(self).__name__} ({'; '.join(errors[:4])}). Offline? " + self._where_hint()
            )

    def _load_data(self, image_path: str, label_path: str):
        images = read_image_file(image_path)
        labels = read_label_file(label_path)
        if len(images) != len(labels):
            raise IDXFormatError(f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels")
        return from_numpy(images), from_numpy(labels)

    # ------------------------------------------------------------------ items
    def __len__(self) -> int:
        return len(self.data)

    def _plan(self):
        if not self.fast_path or (self.transforms is not None and type(self.transforms) is not StandardTransform):
            return None
        return batch_plan(self.transform)

    def _target(self, t: int):
        return self.target_transform(t) if self.target_transform is not None else t

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = int(index)
        img = _np(self.data)[index]
        target = int(_np(self.targets)[index])
        plan = self._plan()
        if plan is not None:
            return Tensor._wrap(plan(img[None])[0]), self._target(target)
        img = _pil().fromarray(np.ascontiguousarray(img))
        if self.transform is not None:
            img = self.transform(img)
        return img, self._target(target)

    def __getitems__(self, indices: list[int]) -> list:
        """Many items at once: one NumPy pass over the batch when the transform allows it."""
        plan = self._plan()
        if plan is None:
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.int64)
        images = plan(_np(self.data)[idx])
        targets = _np(self.targets)[idx].tolist()
        return [(Tensor._wrap(images[k]), self._target(int(t))) for k, t in enumerate(targets)]

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label."""
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    @property
    def train_labels(self):
        """Deprecated alias of targets."""
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        """Deprecated alias of targets."""
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        """Deprecated alias of data."""
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        """Deprecated alias of data."""
        warnings.warn("test_data has been renamed data")
        return self.data


def _package_dirs(package: str) -> list[str]:
    """Folders holding a Debian package's *-ubyte.gz files, via dpkg (empty when dpkg or the package is absent)."""
    if shutil.which("dpkg") is None:
        return []
    try:
        out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({os.path.dirname(p) for p in out.splitlines() if p.endswith("-ubyte.gz")})


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST; offline it is also found in Debian's dataset-fashion-mnist package."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    system_package = "dataset-fashion-mnist"

    def _search_dirs(self) -> list[str]:
        dirs = [self.raw_folder, *self.system_dirs]
        if not any(self._locate_in(d) for d in dirs):
            dirs += _package_dirs(self.system_package)  # dpkg only when the known path did not work
        return dirs

    def _locate_in(self, folder: str) -> bool:
        return all(
            os.path.isfile(os.path.join(folder, n)) or os.path.isfile(os.path.join(folder, n + ".gz"))
            for n in self._split_files()
        )


class KMNIST(MNIST):
    """Kuzushiji-MNIST (cursive Japanese characters)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

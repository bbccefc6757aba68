"""One epoch of MNIST-shaped images through a DataLoader with ToTensor + Normalize, batch 64.

ember reads IDX files with ember.vision.datasets.MNIST and its transforms. torchvision has no CPU
build to install here, so torch gets the same per-item work written by hand: a PIL image per item,
converted to a float tensor, scaled to [0, 1] and normalised, batched by torch's DataLoader."""

import struct
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import emit, image_data, load_library, parse_args, profiled

MEAN, STD = 0.1307, 0.3081


def write_idx(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Writes the arrays as uncompressed IDX files in torchvision's MNIST layout."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    n = len(images)
    (raw / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
    (raw / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
    test_n = 16
    (raw / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, test_n, 28, 28) + images[:test_n].tobytes())
    (raw / "t10k-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, test_n) + labels[:test_n].tobytes())


def ember_loader(lib, root: str):
    """ember's MNIST dataset with the standard transforms, in a shuffling DataLoader."""
    from ember.vision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    data = datasets.MNIST(root, train=True, transform=tf)
    return lib.utils.data.DataLoader(data, batch_size=64, shuffle=True)


def torch_loader(lib, images: np.ndarray, labels: np.ndarray):
    """The same per-item work for torch, without torchvision."""
    from PIL import Image

    class Images(lib.utils.data.Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            img = Image.fromarray(images[i], mode="L")
            x = lib.from_numpy(np.array(img, dtype=np.uint8)).float().div(255).unsqueeze(0)
            return x.sub(MEAN).div(STD), int(labels[i])

    return lib.utils.data.DataLoader(Images(), batch_size=64, shuffle=True)


def main() -> None:
    """Times one full pass over the loader."""
    args = parse_args(__doc__)
    lib = load_library(args.library)
    n = 10_000 if args.quick else 60_000
    x, y = image_data(n)
    images = np.clip(np.round(x.reshape(-1, 28, 28) * 255), 0, 255).astype(np.uint8)
    labels = y.astype(np.uint8)
    with tempfile.TemporaryDirectory() as root:
        if args.library == "ember":
            write_idx(Path(root), images, labels)
            loader = ember_loader(lib, root)
        else:
            loader = torch_loader(lib, images, labels)

        def epoch() -> float:
            start = time.perf_counter()
            for _images, _labels in loader:
                pass
            return time.perf_counter() - start

        emit(s_per_epoch=profiled(epoch) * (60_000 / n))


if __name__ == "__main__":
    main()

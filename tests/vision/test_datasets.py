"""MNIST-family datasets, the IDX reader, offline lookup and the built-in Digits."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from PIL import Image

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets
from ember.vision import transforms as T
from ember.vision.datasets import _download, mnist
from ember.vision.datasets._idx import IDXFormatError, parse_idx, read_idx

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    return (
        struct.pack(">BBBB", 0, 0, code, arr.ndim)
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    )


def write_mnist(root, cls="MNIST", n_train=30, n_test=10, gz=False, seed=0):
    """A small fake dataset in torchvision's layout; returns the arrays written."""
    rng = np.random.default_rng(seed)
    raw = os.path.join(root, cls, "raw")
    os.makedirs(raw, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(arr)
            if gz:
                with gzip.open(os.path.join(raw, name + ".gz"), "wb") as f:
                    f.write(data)
            else:
                with open(os.path.join(raw, name), "wb") as f:
                    f.write(data)
        out[prefix] = (images, labels)
    return out


# ---------------------------------------------------------------- IDX reader
@pytest.mark.parametrize(
    "code,dtype",
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)
def test_idx_types_round_trip(code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if code == 0x08:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(arr, code))
    assert out.dtype == dtype and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)


def test_idx_errors_name_file_and_offset(tmp_path):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    cases = {
        "magic": (b"\x01" + good[1:], "offset 0"),
        "type": (good[:2] + b"\x07" + good[3:], "offset 2"),
        "header": (good[:10], "truncated IDX header"),
        "data": (good[:-4], "file ends at offset 30"),
        "trailing": (good + b"xx", "trailing bytes after offset 34"),
        "empty": (b"", "truncated IDX header"),
    }
    for name, (data, msg) in cases.items():
        p = tmp_path / f"{name}-idx3-ubyte"
        p.write_bytes(data)
        with pytest.raises(IDXFormatError, match=msg) as info:
            read_idx(p)
        assert str(p) in str(info.value)
    with pytest.raises(IDXFormatError, match="expected an IDX file with 1 dimensions"):
        parse_idx(good, "x", expect_ndim=1)


def test_idx_truncated_gzip(tmp_path):
    p = tmp_path / "t-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))[:-10])
    with pytest.raises(IDXFormatError, match="truncated gzip") as info:
        read_idx(p)
    assert str(p) in str(info.value)


# ---------------------------------------------------------------- MNIST layout
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", ["MNIST", "FashionMNIST", "KMNIST"])
def test_mnist_family_layout_and_items(tmp_path, gz, cls):
    arrays = write_mnist(tmp_path, cls, gz=gz)
    ds = getattr(datasets, cls)(str(tmp_path), train=True)
    images, labels = arrays["train"]
    assert len(ds) == 30 and ds.data.shape == (30, 28, 28)
    assert ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert type(target) is int and target == labels[3]
    np.testing.assert_array_equal(np.asarray(img), images[3])
    assert len(ds.classes) == 10 and ds.class_to_idx[ds.classes[4]] == 4
    test = getattr(datasets, cls)(tmp_path, train=False)  # a Path root works too
    assert len(test) == 10
    assert ds.raw_folder == os.path.join(str(tmp_path), cls, "raw")


def test_mnist_repr_like_torchvision(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(str(tmp_path), transform=T.Compose([T.ToTensor()]), target_transform=lambda y: y)
    lines = repr(ds).splitlines()
    assert lines[:4] == [
        "Dataset MNIST",
        "    Number of datapoints: 30",
        f"    Root location: {tmp_path}",
        "    Split: Train",
    ]
    # torchvision indents only the first line of the transforms block
    assert lines[4:8] == ["    StandardTransform", "Transform: Compose(", "               ToTensor()", "           )"]
    assert lines[-1].startswith("Target transform: ") and len(lines) == 9


def test_transforms_and_target_transform(tmp_path):
    arrays = write_mnist(tmp_path)
    ds = datasets.MNIST(str(tmp_path), transform=T.RandomHorizontalFlip(1.0), target_transform=lambda y: y + 100)
    img, target = ds[0]
    np.testing.assert_array_equal(np.asarray(img), arrays["train"][0][0][:, ::-1])
    assert target == arrays["train"][1][0] + 100


def test_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True") as info:
        datasets.MNIST(str(tmp_path))
    assert "train-images-idx3-ubyte" in str(info.value) and os.path.join("MNIST", "raw") in str(info.value)


def test_download_offline_fails_fast_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(_download, "reachable", lambda url, timeout=5.0: False)
    with pytest.raises(RuntimeError, match="Could not download KMNIST") as info:
        datasets.KMNIST(str(tmp_path), download=True)
    assert "not reachable" in str(info.value) and "t10k-labels-idx1-ubyte" in str(info.value)


def test_reachable_never_hangs(monkeypatch):
    """A connection attempt (or name lookup) that never answers: reachable gives up and says False while the
    attempt is still stuck, instead of waiting for it."""
    import threading

    entered, release, finished, seen = threading.Event(), threading.Event(), threading.Event(), {}

    def stuck(address, timeout=None):
        seen["address"], seen["timeout"] = address, timeout
        entered.set()
        release.wait(60)  # until the test lets go (a cap, so that a reachable that waits fails instead of hanging)
        finished.set()
        raise OSError("no answer")

    monkeypatch.setattr(_download.socket, "create_connection", stuck)
    try:
        assert _download.reachable("http://10.255.255.1:9/", timeout=0.05) is False
        assert entered.is_set() and not finished.is_set()  # it returned while the attempt was still blocked
        assert seen == {"address": ("10.255.255.1", 9), "timeout": 0.05}
    finally:
        release.set()


def test_reachable_answers_for_a_listening_and_a_closed_port():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert _download.reachable(f"http://127.0.0.1:{port}/", timeout=5.0) is True
    assert _download.reachable(f"http://127.0.0.1:{port}/", timeout=5.0) is False  # nothing listens there now


def test_download_md5_checked(tmp_path, monkeypatch):
    src = tmp_path / "src.gz"
    src.write_bytes(gzip.compress(b"hello"))
    with pytest.raises(RuntimeError, match="md5 mismatch"):
        _download.fetch(src.as_uri(), str(tmp_path / "x.gz"), "0" * 32)
    _download.fetch(src.as_uri(), str(tmp_path / "y.gz"), _download.md5sum(str(src)))
    assert (tmp_path / "y.gz").read_bytes() == src.read_bytes()


def test_download_skipped_when_files_exist(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    monkeypatch.setattr(_download, "download_resources", lambda *a: pytest.fail("should not download"))
    assert len(datasets.MNIST(str(tmp_path), download=True)) == 30


def test_corrupt_file_reported(tmp_path):
    write_mnist(tmp_path)
    p = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(IDXFormatError, match="train-images-idx3-ubyte: truncated IDX data"):
        datasets.MNIST(str(tmp_path))


def test_label_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(IDXFormatError, match="holds 30 images but .* holds 5 labels"):
        datasets.MNIST(str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_found_in_debian_package(tmp_path):
    ds = datasets.FashionMNIST(str(tmp_path / "empty"), train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    assert sorted(set(ds.targets.tolist())) == list(range(10))
    with pytest.raises(
        RuntimeError, match="Dataset not found. You can use download=True to download it"
    ):  # MNIST itself is never replaced by Fashion-MNIST
        datasets.MNIST(str(tmp_path / "empty"), train=False)


# ---------------------------------------------------------------- batch fast path
FAST = [
    lambda: T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
    lambda: T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])]),
    lambda: T.ToTensor(),
    lambda: T.Compose([T.ToTensor()]),
]


@pytest.mark.parametrize("make", FAST)
def test_fast_path_bit_identical(tmp_path, make, monkeypatch):
    write_mnist(tmp_path, n_train=50)
    ds = datasets.MNIST(str(tmp_path), transform=make())
    assert ds._plan() is not None
    fast_items = ds.__getitems__(list(range(50)))
    fast_batch = next(iter(DataLoader(ds, batch_size=50)))[0]
    single = ds[7][0]
    monkeypatch.setattr(mnist.MNIST, "fast_path", False)
    assert ds._plan() is None
    slow = [ds[i][0] for i in range(50)]  # PIL image -> ToTensor -> Normalize, one by one
    for f, s in zip(fast_items, slow):
        assert f[0].dtype == s.dtype and f[0].shape == s.shape == (1, 28, 28)
        np.testing.assert_array_equal(f[0].numpy(), s.numpy())
    np.testing.assert_array_equal(fast_batch.numpy(), np.stack([s.numpy() for s in slow]))
    np.testing.assert_array_equal(single.numpy(), slow[7].numpy())


def test_fast_path_not_used_for_other_transforms(tmp_path):
    write_mnist(tmp_path)
    for t in (None, T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]), T.Compose([T.RandomCrop(28), T.ToTensor()])):
        assert datasets.MNIST(str(tmp_path), transform=t)._plan() is None


def test_fast_path_follows_reassigned_data(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(str(tmp_path), transform=T.ToTensor())
    ds.data, ds.targets = ds.data[:5], ds.targets[:5]
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape[0] for b in batches] == [4, 1]


# ---------------------------------------------------------------- built-in digits
def test_digits_builtin():
    train, test, full = datasets.Digits(), datasets.Digits(train=False), datasets.Digits(split="all")
    assert (len(train), len(test), len(full)) == (1437, 360, 1797)
    x, y = train[0]
    assert x.shape == (1, 8, 8) and x.dtype == ember.float32 and type(y) is int
    assert 0.0 <= x.min().item() and x.max().item() <= 1.0
    assert full.data.dtype == ember.uint8 and int(full.data.max()) == 16
    assert sorted(set(full.targets.tolist())) == list(range(10))
    # splits are disjoint and together make the whole set
    rows = lambda d: {d.data.numpy()[i].tobytes() + bytes([int(d.targets[i])]) for i in range(len(d))}  # noqa: E731
    assert len(rows(train) & rows(test)) <= 5  # the UCI data holds a few duplicate images
    xb, yb = next(iter(DataLoader(train, batch_size=64, shuffle=True)))
    assert xb.shape == (64, 1, 8, 8) and yb.dtype == ember.int64


def test_load_digits_tensors():
    x, y = datasets.load_digits("test", flatten=True)
    assert x.shape == (360, 64) and y.shape == (360,)
    from ember.data import load_digits

    xa, ya = load_digits()
    assert xa.shape == (1797, 1, 8, 8)
    with pytest.raises(ValueError, match="split must be"):
        datasets.load_digits("val")


def _idx_header(code: int, shape) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_a_gzip_idx_declaring_more_than_the_limit_is_refused_before_inflating(tmp_path, monkeypatch):
    # 60,000 x 100,000 x 1,000 uint8 pixels declared by a 1 KB file: refused from the header alone
    huge = tmp_path / "huge-idx3-ubyte.gz"
    huge.write_bytes(gzip.compress(_idx_header(0x08, (60000, 100000, 1000)) + bytes(1000)))
    with pytest.raises(
        IDXFormatError, match=r"needs 6,000,000,000,016 bytes, over ember's limit .*EMBER_MAX_FILE_BYTES"
    ):
        read_idx(huge)
    # a bomb: 4 MB of zeros in a few KB; with the limit at 1 MB it is refused, raised it loads
    bomb = tmp_path / "bomb-idx3-ubyte.gz"
    bomb.write_bytes(gzip.compress(_idx_header(0x08, (4, 1000, 1000)) + bytes(4_000_000)))
    assert bomb.stat().st_size < 10_000
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "1e6")
    with pytest.raises(IDXFormatError, match="over ember's limit of 1,000,000"):
        read_idx(bomb)
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "5e6")
    assert read_idx(bomb).shape == (4, 1000, 1000)


def test_idx_dims_whose_product_overflows_int64_are_a_format_error(tmp_path):
    path = tmp_path / "wide-idx3-ubyte"
    path.write_bytes(_idx_header(0x0E, (2**32 - 1, 2**32 - 1, 2**32 - 1)) + bytes(64))
    with pytest.raises(IDXFormatError, match="truncated IDX data"):
        read_idx(path)
    gz = tmp_path / "wide-idx3-ubyte.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(IDXFormatError, match="over ember's limit"):
        read_idx(gz)


def test_gzip_idx_with_trailing_data_or_several_members(tmp_path):
    body = _idx_header(0x08, (2, 3)) + bytes(range(6))
    two = tmp_path / "two-idx2-ubyte.gz"
    two.write_bytes(gzip.compress(body[:5]) + gzip.compress(body[5:]))  # members one after another
    np.testing.assert_array_equal(read_idx(two), np.arange(6).reshape(2, 3))
    extra = tmp_path / "extra-idx2-ubyte.gz"
    extra.write_bytes(gzip.compress(body + b"\x00\x01"))
    with pytest.raises(IDXFormatError, match="unexpected trailing bytes"):
        read_idx(extra)

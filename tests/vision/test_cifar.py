"""CIFAR-10/100 read from batches written in the original layout; hostile pickles are refused unexecuted."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import ember
from ember.vision import datasets, transforms
from ember.vision.datasets import _download

rng = np.random.default_rng(0)


def _write(path, entry) -> None:
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)  # the protocol of the published batches


def _cifar10(root, n=(20, 10)) -> dict:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    made = {}
    for name, count in [*((f"data_batch_{i}", n[0]) for i in range(1, 6)), ("test_batch", n[1])]:
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, count).tolist()
        _write(folder / name, {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": []})
        made[name] = (data, labels)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    _write(folder / "batches.meta", {b"label_names": names, b"num_cases_per_batch": n[0], b"num_vis": 3072})
    return made


def test_cifar10_reads_every_batch_in_order_as_hwc_images(tmp_path):
    made = _cifar10(tmp_path)
    train = datasets.CIFAR10(tmp_path, train=True)
    test = datasets.CIFAR10(str(tmp_path), train=False)
    assert len(train) == 100 and len(test) == 10
    assert train.data.shape == (100, 32, 32, 3) and train.data.dtype == np.uint8
    first = made["data_batch_1"][0][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(train.data[0], first)
    assert train.targets[:20] == made["data_batch_1"][1] and train.targets[20:40] == made["data_batch_2"][1]
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9
    img, label = train[3]
    assert img.size == (32, 32) and img.mode == "RGB" and label == made["data_batch_1"][1][3]
    assert "Split: Train" in repr(train)


def test_cifar10_with_the_tutorials_transform_gives_normalised_chw_tensors(tmp_path):
    _cifar10(tmp_path)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    train = datasets.CIFAR10(tmp_path, train=True, transform=tf)
    x, _ = train[7]
    expected = (train.data[7].transpose(2, 0, 1).astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(
        0.5
    )
    assert tuple(x.shape) == (3, 32, 32)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-7)
    loader = ember.utils.data.DataLoader(train, batch_size=8, shuffle=True)
    images, labels = next(iter(loader))
    assert tuple(images.shape) == (8, 3, 32, 32) and tuple(labels.shape) == (8,)


def test_cifar100_uses_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name, count in (("train", 30), ("test", 5)):
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        entry = {b"data": data, b"fine_labels": list(range(count)), b"coarse_labels": [0] * count}
        _write(folder / name, entry)
    _write(folder / "meta", {b"fine_label_names": [f"c{i}".encode() for i in range(100)], b"coarse_label_names": []})
    train = datasets.CIFAR100(tmp_path)
    assert len(train) == 30 and train.targets[:3] == [0, 1, 2] and train.classes[99] == "c99"


class _Hostile:
    def __reduce__(self):
        return (os.system, ("touch HACKED",))


def test_a_batch_that_names_any_other_global_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    _cifar10(tmp_path)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "cifar-10-batches-py" / "test_batch", {b"data": _Hostile(), b"labels": []})
    with pytest.raises(datasets.CIFARFormatError, match=r"refusing to load (posix|os)\.system"):
        datasets.CIFAR10(tmp_path, train=False)
    assert not (tmp_path / "HACKED").exists()


def test_missing_or_malformed_batches_get_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(tmp_path)
    monkeypatch.setattr(_download, "reachable", lambda url, timeout=5.0: False)
    with pytest.raises(RuntimeError, match=r"Could not download CIFAR10 \(.* not reachable\)\. Offline\? put the"):
        datasets.CIFAR10(tmp_path, download=True)
    _cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(datasets.CIFARFormatError, match="data_batch_3: not a CIFAR batch"):
        datasets.CIFAR10(tmp_path)
    _write(tmp_path / "cifar-10-batches-py" / "data_batch_3", {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]})
    with pytest.raises(datasets.CIFARFormatError, match="uint8 array of N x 3072"):
        datasets.CIFAR10(tmp_path)


@pytest.mark.parametrize(
    "tf",
    [
        transforms.ToTensor(),
        transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]),
        transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))]),
        transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.25)]),
    ],
)
def test_the_batch_fast_path_gives_the_per_image_values_bit_for_bit(tmp_path, tf):
    _cifar10(tmp_path)
    fast = datasets.CIFAR10(tmp_path, transform=tf)
    slow = datasets.CIFAR10(tmp_path, transform=tf)
    slow.fast_path = False
    assert fast._plan() is not None and slow._plan() is None
    idx = [0, 17, 42, 99]
    for (a, la), (b, lb) in zip(fast.__getitems__(idx), [slow[i] for i in idx]):
        assert la == lb and a.numpy().tobytes() == b.numpy().tobytes() and a.dtype == b.dtype
    assert fast[5][0].numpy().tobytes() == slow[5][0].numpy().tobytes()


def _archive(tmp_path, members) -> str:
    """A .tar.gz holding (name, path-or-None) members; None makes a symbolic link to /etc/passwd."""
    import tarfile

    path = tmp_path / "served" / "cifar-10-python.tar.gz"
    path.parent.mkdir(exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, src in members:
            if src is None:
                link = tarfile.TarInfo(name)
                link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(link)
            else:
                tar.add(src, arcname=name)
    return str(path)


def _serve(monkeypatch, archive) -> None:
    """Point CIFAR10 at a local archive, with its md5."""
    monkeypatch.setattr(datasets.CIFAR10, "url", "file://" + archive)
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _download.md5sum(archive))


def test_download_fetches_checks_and_unpacks_the_archive(tmp_path, monkeypatch):
    made = _cifar10(tmp_path / "src")
    archive = _archive(tmp_path, [("cifar-10-batches-py", tmp_path / "src" / "cifar-10-batches-py")])
    _serve(monkeypatch, archive)
    root = tmp_path / "data"
    test = datasets.CIFAR10(root, train=False, download=True)
    np.testing.assert_array_equal(test.data.transpose(0, 3, 1, 2).reshape(-1, 3072), made["test_batch"][0])
    assert (root / "cifar-10-python.tar.gz").is_file()
    monkeypatch.setattr(_download, "fetch", lambda *a: pytest.fail("downloaded twice"))
    assert len(datasets.CIFAR10(root, download=True)) == 100  # present: nothing fetched
    import shutil

    shutil.rmtree(root / "cifar-10-batches-py")  # the verified archive alone unpacks again, offline
    monkeypatch.setattr(datasets.CIFAR10, "url", "https://unreachable.invalid/cifar-10-python.tar.gz")
    monkeypatch.setattr(_download, "reachable", lambda url, timeout=5.0: False)
    assert len(datasets.CIFAR10(root, train=False, download=True)) == 10


def test_download_refuses_a_corrupt_or_hostile_archive_and_writes_nothing_outside(tmp_path, monkeypatch):
    _cifar10(tmp_path / "src")
    good = _archive(tmp_path, [("cifar-10-batches-py", tmp_path / "src" / "cifar-10-batches-py")])
    monkeypatch.setattr(datasets.CIFAR10, "url", "file://" + good)
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(RuntimeError, match="Could not download CIFAR10 .*md5 mismatch"):
        datasets.CIFAR10(tmp_path / "a", download=True)
    assert not (tmp_path / "a" / "cifar-10-batches-py").exists()
    batch = tmp_path / "src" / "cifar-10-batches-py" / "test_batch"
    for members in (
        [("cifar-10-batches-py/test_batch", batch), ("cifar-10-batches-py/../../escaped", batch)],
        [("cifar-10-batches-py/test_batch", batch), ("/tmp/absolute_member", batch)],
        [("cifar-10-batches-py/test_batch", batch), ("cifar-10-batches-py/link", None)],
        [("elsewhere/test_batch", batch)],
    ):
        (tmp_path / "served" / "cifar-10-python.tar.gz").unlink(missing_ok=True)
        _serve(monkeypatch, _archive(tmp_path, members))
        root = tmp_path / "b"
        with pytest.raises(RuntimeError, match="refusing the member"):
            datasets.CIFAR10(root, download=True)
        assert not (root / "cifar-10-batches-py").exists() and not (tmp_path / "escaped").exists()

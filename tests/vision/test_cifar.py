"""CIFAR-10/100 read from batches written in the original layout; hostile pickles are refused unexecuted."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import ember
from ember.vision import datasets, transforms

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


def test_missing_or_malformed_batches_get_one_line_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(tmp_path)
    with pytest.raises(RuntimeError, match="ember does not download CIFAR10"):
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

"""The example programs in examples/ run unchanged under `ember run`, with PyTorch-shaped output."""

from __future__ import annotations

import os
import pickle
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from ember.data import digits_arrays

REPO = Path(__file__).resolve().parents[1]


def _run_example(name: str, cwd: Path, *args) -> subprocess.CompletedProcess:
    """examples/NAME run under `python -m ember run` in cwd; it must exit with status 0."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ember", "run", str(REPO / "examples" / name), *map(str, args)]
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _write_idx(path: Path, array: np.ndarray) -> None:
    """An MNIST-style IDX file of uint8 data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", s) for s in array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _digit_images(root: Path) -> Path:
    """MNIST/raw under root, made from the built-in 8x8 digits blown up to 28x28 (learnable, no download)."""
    images, labels = digits_arrays()
    big = np.kron(images, np.ones((3, 3), dtype=np.uint8)) * 15  # 24x24, values up to 240
    big = np.pad(big, ((0, 0), (2, 2), (2, 2)))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "train-images-idx3-ubyte", big[:1400])
    _write_idx(raw / "train-labels-idx1-ubyte", labels[:1400])
    _write_idx(raw / "t10k-images-idx3-ubyte", big[1400:])
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels[1400:])
    return root


def test_cnn_example_trains_under_ember_run(tmp_path):
    proc = _run_example("cnn_mnist.py", tmp_path, _digit_images(tmp_path / "data"))
    lines = proc.stdout.splitlines()
    # torchsummary's table for the convolutional layers
    assert any(re.fullmatch(r"\s+Conv2d-1\s+\[-1, 6, 28, 28\]\s+156", line) for line in lines), proc.stdout
    assert any(re.fullmatch(r"\s+MaxPool2d-2\s+\[-1, 6, 14, 14\]\s+0", line) for line in lines), proc.stdout
    assert any(re.fullmatch(r"\s+Dropout2d-\d+\s+\[-1, 16, 5, 5\]\s+0", line) for line in lines), proc.stdout
    assert "Total params: 61,706" in proc.stdout
    train = [line for line in lines if line.startswith("Train Epoch:")]
    assert len(train) == 2 * 2 and re.fullmatch(r"Train Epoch: 1 \[0/1200\]\tLoss: \d+\.\d{6}", train[0])
    tests = [re.fullmatch(r"Test set: Average loss: (\d+\.\d{4}), Accuracy: (\d+)/200 \((\d+)%\)", s) for s in lines]
    accuracy = [int(m.group(2)) for m in tests if m]
    assert len(accuracy) == 2 and accuracy[1] > max(100, accuracy[0])  # learning, far above chance (20 of 200)
    assert (tmp_path / "lenet_mnist.pt").is_file()


def _cifar_batches(root: Path) -> Path:
    """cifar-10-batches-py under root: 80 training and 20 test images of random pixels."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, count in [*((f"data_batch_{i}", 16) for i in range(1, 6)), ("test_batch", 20)]:
        entry = {
            b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, count).tolist(),
        }
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    names = [n.encode() for n in ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    return root


def test_cifar10_classifier_example_runs_under_ember_run(tmp_path):
    proc = _run_example("cifar10_classifier.py", tmp_path, _cifar_batches(tmp_path / "data"), "2")
    lines = proc.stdout.splitlines()
    assert [line[:9] for line in lines[:2]] == ["[1,    20", "[2,    20"]
    assert all(re.fullmatch(r"\[\d,\s+20\] loss: \d\.\d{3}", line) for line in lines[:2])
    assert lines[2] == "Finished Training"
    per_class = lines[3:]
    assert len(per_class) == 10 and all(re.fullmatch(r"Accuracy for class: \w+\s* is \d+\.\d %", s) for s in per_class)

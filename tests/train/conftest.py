"""Shared fixtures of the training-workflow tests: small CSV files and fake MNIST-style IDX folders."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(text, name="data.csv") -> path of a file holding text (dedented lines)."""

    def write(text: str, name: str = "data.csv") -> str:
        path = tmp_path / name
        path.write_text("\n".join(line.strip() for line in text.strip().splitlines()) + "\n", encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def flowers_csv(write_csv):
    """A 30-row table with a header, three numeric features and a text label column `species` (last)."""
    rng = np.random.default_rng(1)
    species = ["setosa", "versicolor", "virginica"]
    lines = ["sepal,petal,stem,species"]
    for i in range(30):
        k = i % 3
        a, b, c = rng.normal(k, 0.3, size=3)
        lines.append(f"{a:.3f},{b:.3f},{c:.3f},{species[k]}")
    return write_csv("\n".join(lines), "flowers.csv")


def idx_bytes(array: np.ndarray) -> bytes:
    """An uint8 array encoded as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@pytest.fixture
def idx_file_bytes():
    """idx_bytes, for tests that write IDX files of their own (a fixture: every tests folder has a conftest)."""
    return idx_bytes


@pytest.fixture
def fake_idx_folder():
    """fake_idx_folder(folder, n_train, n_test, shape, gz) writes the four MNIST IDX files; returns the arrays."""

    def make(folder, n_train: int = 40, n_test: int = 12, shape=(4, 5), gz: bool = False, seed: int = 0):
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed)
        arrays = {
            "train-images-idx3-ubyte": rng.integers(0, 256, size=(n_train, *shape), dtype=np.uint8),
            "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(n_test, *shape), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
        }
        for name, array in arrays.items():
            raw = idx_bytes(array)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        return arrays

    return make

"""Shared plumbing for the workload scripts: pick the library, build the data, print results."""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

SEED = 0
N_IMAGES = 60_000


def parse_args(description: str, libraries: tuple[str, ...] = ("ember", "torch")) -> argparse.Namespace:
    """Parses `<library> [--quick]`, the interface every workload script shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("library", choices=libraries)
    parser.add_argument("--quick", action="store_true", help="do less work (smoke-test sized)")
    return parser.parse_args()


def load_library(name: str):
    """Imports the library under test and pins its thread count to the runner's setting."""
    lib = __import__(name)
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    # ember accepts this as a no-op; its BLAS threads come from the environment variables.
    lib.set_num_threads(threads)
    lib.manual_seed(SEED)
    return lib


def _read_idx(path: Path) -> np.ndarray:
    """Reads an MNIST-style idx file (optionally gzipped) into an array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _fashion_mnist() -> tuple[np.ndarray, np.ndarray] | None:
    """Fashion-MNIST's training split from $DATA_ROOT, if its raw files are there."""
    root = os.environ.get("DATA_ROOT")
    if not root:
        return None
    raw = Path(root) / "FashionMNIST" / "raw"
    for suffix in ("", ".gz"):
        images, labels = raw / f"train-images-idx3-ubyte{suffix}", raw / f"train-labels-idx1-ubyte{suffix}"
        if images.exists() and labels.exists():
            x = _read_idx(images).reshape(-1, 784).astype(np.float32) / 255.0
            return x, _read_idx(labels).astype(np.int64)
    return None


def image_data(n: int = N_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """n float32 784-pixel images in [0, 1) and int64 labels from a fixed seed (or Fashion-MNIST)."""
    rng = np.random.default_rng(SEED)
    data = _fashion_mnist()
    if data is None:
        # Generated straight into its final layout so peak RSS holds one copy of the images.
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
    order = rng.permutation(len(data[0]))[:n]
    return np.ascontiguousarray(data[0][order]), np.ascontiguousarray(data[1][order])


def mlp(lib):
    """The 784-200-200-10 ReLU network shared by the epoch and inference workloads."""
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))


def train_batches(lib, model, opt, x, y, batch: int, n_batches: int) -> float:
    """Runs n_batches optimisation steps over consecutive slices of (x, y); returns the last loss."""
    loss_fn = lib.nn.CrossEntropyLoss()
    for i in range(n_batches):
        xb, yb = x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return loss.item()


def timed(fn, repeats: int) -> list[float]:
    """Wall-clock seconds of each of `repeats` calls to fn."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def profiled(fn):
    """Calls fn, under cProfile when $BENCH_PROFILE names a stats file (run.py --profile sets it)."""
    path = os.environ.get("BENCH_PROFILE")
    if not path:
        return fn()
    profiler = cProfile.Profile()
    result = profiler.runcall(fn)
    profiler.dump_stats(path)
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(**metrics: float) -> None:
    """Prints the result line the runner parses: one JSON object of metric -> value."""
    print(json.dumps(metrics))
    sys.stdout.flush()

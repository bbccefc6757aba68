"""The two classic CNN programs, timed the same way in ember and torch: training steps and batch-1000 inference."""

from __future__ import annotations

import time

import numpy as np
from _common import N_IMAGES, SEED, emit, load_library, profiled

BATCH = 64


def lenet(lib):
    """LeNet-5: Conv2d(1,6,5) - max-pool - Conv2d(6,16,5) - max-pool - 120 - 84 - 10, ReLU."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def two_conv(lib):
    """The two-conv MNIST example: 32 and 64 channels of 3x3, max-pool, dropout, 9216-128-10, log-softmax."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
        nn.LogSoftmax(dim=1),
    )


def run(library: str, quick: bool, build, steps: int, loss: str) -> None:
    """Times `steps` training steps at batch 64 (scaled to a 60,000-image epoch) and batch-1000 inference."""
    lib = load_library(library)
    data = np.random.default_rng(SEED)
    n = BATCH * 10
    x = lib.from_numpy(data.random((n, 1, 28, 28), dtype=np.float32))
    y = lib.from_numpy(data.integers(0, 10, n))
    model = build(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    loss_fn = getattr(lib.nn.functional, loss)

    def train(k: int) -> None:
        for i in range(k):
            j = (i % 10) * BATCH
            opt.zero_grad()
            loss_fn(model(x[j : j + BATCH]), y[j : j + BATCH]).backward()
            opt.step()

    train(3)
    steps = max(steps // 5, 2) if quick else steps
    start = time.perf_counter()
    profiled(lambda: train(steps))
    seconds = time.perf_counter() - start
    model.eval()
    images = lib.from_numpy(data.random((1000, 1, 28, 28), dtype=np.float32))
    with lib.no_grad():
        model(images)
        start = time.perf_counter()
        rounds = 1 if quick else 3
        for _ in range(rounds):
            model(images)
        per_batch = (time.perf_counter() - start) / rounds
    emit(s_per_epoch=seconds / steps * (N_IMAGES // BATCH), samples_per_s=1000 / per_batch)

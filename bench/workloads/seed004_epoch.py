"""Seconds per epoch of seed 004's network: 784-128-64-10 ReLU MLP + LogSoftmax, NLLLoss, SGD lr 0.003, batch 64.

The images are normalised to [-1, 1] as the seed's Normalize((0.5,), (0.5,)) does, and shuffled every epoch.
Also reports how many parameter and gradient values ended up subnormal: under PyTorch such values can slow
this program down about tenfold on x86 unless flush-to-zero is on."""

import time

import numpy as np
from _common import N_IMAGES, emit, image_data, load_library, profiled

BATCH = 64


def seed004_model(lib):
    """The seed's nn.Sequential."""
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10), nn.LogSoftmax(dim=1)
    )


def train(lib, model, opt, x, y, n_batches: int) -> float:
    """One pass over n_batches shuffled mini-batches, as the seed's loop does; returns the mean loss."""
    criterion = lib.nn.NLLLoss()
    order = lib.randperm(len(x))
    running = 0.0
    for i in range(n_batches):
        idx = order[i * BATCH : (i + 1) * BATCH]
        images, labels = x[idx], y[idx]
        opt.zero_grad()
        loss = criterion(model(images.view(images.shape[0], -1)), labels)
        loss.backward()
        opt.step()
        running += loss.item()
    return running / n_batches


def subnormal_count(model) -> int:
    """Parameter and gradient entries whose magnitude is below float32's smallest normal number."""
    tiny = np.finfo(np.float32).tiny
    count = 0
    for p in model.parameters():
        for t in (p.detach(), p.grad):
            if t is not None:
                a = np.abs(t.numpy())
                count += int(((a > 0) & (a < tiny)).sum())
    return count


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__)
    lib = load_library(args.library)
    fraction = 0.25 if args.quick else 1.0
    x_np, y_np = image_data(int(N_IMAGES * fraction))
    x = lib.from_numpy((x_np - np.float32(0.5)) / np.float32(0.5))
    y = lib.from_numpy(y_np)
    model = seed004_model(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.003)
    train(lib, model, opt, x[: 20 * BATCH], y[: 20 * BATCH], 20)  # warm-up

    n_batches = len(x_np) // BATCH
    start = time.perf_counter()
    loss = profiled(lambda: train(lib, model, opt, x, y, n_batches))
    seconds = time.perf_counter() - start
    emit(s_per_epoch=seconds * (N_IMAGES // BATCH) / n_batches, subnormals=subnormal_count(model), final_loss=loss)

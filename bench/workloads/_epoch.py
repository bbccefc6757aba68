"""One training epoch of the MLP, shared by the SGD and Adam workloads."""

from __future__ import annotations

import time

from _common import N_IMAGES, emit, image_data, load_library, mlp, peak_rss_mb, profiled, train_batches
from _numpy_mlp import run_numpy_epoch

WARMUP_BATCHES = 10


def run_epoch(library: str, quick: bool, optimizer: str, lr: float, batch: int) -> None:
    """Times one epoch over 60,000 images (a quarter of one when quick, scaled up) and reports it."""
    fraction = 0.25 if quick else 1.0
    if library == "numpy":
        run_floor_epoch(optimizer, lr, batch, fraction)
        return
    lib = load_library(library)
    x_np, y_np = image_data(int(N_IMAGES * fraction))
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    setup_rss = peak_rss_mb()

    model = mlp(lib)
    opt = getattr(lib.optim, optimizer)(model.parameters(), lr=lr)
    train_batches(lib, model, opt, x, y, batch, WARMUP_BATCHES)

    n_batches = len(x_np) // batch
    start = time.perf_counter()
    loss = profiled(lambda: train_batches(lib, model, opt, x, y, batch, n_batches))
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    emit(
        s_per_epoch=seconds * (N_IMAGES // batch) / n_batches,
        peak_rss_mb=peak,
        setup_rss_mb=setup_rss,
        # What training adds on top of the library, the interpreter and the data set.
        training_rss_mb=peak - setup_rss,
        final_loss=loss,
    )


def run_floor_epoch(optimizer: str, lr: float, batch: int, fraction: float) -> None:
    """The hand-written NumPy epoch (SGD only): seconds per epoch, and the matrix products' share of them."""
    if optimizer != "SGD":
        raise SystemExit("the hand-written NumPy epoch exists for SGD only")
    x, y = image_data(int(N_IMAGES * fraction))
    setup_rss = peak_rss_mb()
    timing = run_numpy_epoch(x, y, lr, batch, WARMUP_BATCHES)
    scale = (N_IMAGES // batch) / timing["n_batches"]
    peak = peak_rss_mb()
    emit(
        s_per_epoch=timing["seconds"] * scale,
        matmul_s_per_epoch=timing["matmul_seconds"] * scale,
        peak_rss_mb=peak,
        setup_rss_mb=setup_rss,
        training_rss_mb=peak - setup_rss,
        final_loss=timing["loss"],
    )

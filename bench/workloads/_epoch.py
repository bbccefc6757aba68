"""One training epoch of the MLP, shared by the SGD and Adam workloads."""

from __future__ import annotations

import time

from _common import N_IMAGES, emit, image_data, load_library, mlp, peak_rss_mb, profiled, train_batches

WARMUP_BATCHES = 10


def run_epoch(library: str, quick: bool, optimizer: str, lr: float, batch: int) -> None:
    """Times one epoch over 60,000 images (a quarter of one when quick, scaled up) and reports it."""
    lib = load_library(library)
    fraction = 0.25 if quick else 1.0
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

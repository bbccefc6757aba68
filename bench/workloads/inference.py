"""Samples per second of the trained MLP under no_grad, at batch 1 and batch 1000."""

import time

from _common import emit, image_data, load_library, mlp, parse_args, profiled, train_batches


def throughput(lib, model, x, batch: int, seconds: float) -> float:
    """Samples/s of model on consecutive batches of x, run for about `seconds`."""
    n_batches = len(x) // batch
    done, start = 0, time.perf_counter()
    with lib.no_grad():
        while True:
            i = done % n_batches
            model(x[i * batch : (i + 1) * batch])
            done += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return done * batch / elapsed


def main() -> None:
    """Trains the MLP briefly with SGD, then measures inference throughput at two batch sizes."""
    args = parse_args(__doc__)
    lib = load_library(args.library)
    x_np, y_np = image_data(10_000)
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    model = mlp(lib)
    train_batches(lib, model, lib.optim.SGD(model.parameters(), lr=0.01), x, y, 200, 50)
    model.eval()
    duration = 0.3 if args.quick else 1.0
    for batch in (1, 1000):
        throughput(lib, model, x, batch, duration / 5)
    results = profiled(lambda: {f"batch{b}_samples_per_s": throughput(lib, model, x, b, duration) for b in (1, 1000)})
    emit(**results)


if __name__ == "__main__":
    main()

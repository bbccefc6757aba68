"""Microseconds per SGD step of a tiny net: Linear(4, 3) + Softmax, CrossEntropyLoss, 7 samples."""

import statistics

from _common import emit, load_library, parse_args, profiled, timed


def main() -> None:
    """Times full training steps (zero_grad, forward, loss, backward, step) on 7x4 inputs."""
    args = parse_args(__doc__)
    lib = load_library(args.library)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    loss_fn = nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x, y = lib.randn(7, 4), lib.tensor([0, 1, 2, 0, 1, 2, 0])

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    steps = 200 if args.quick else 1000
    timed(step, steps // 5)
    # Batches of steps so timer resolution does not matter; the median resists scheduler noise.
    batches = [t / steps * 1e6 for t in profiled(lambda: timed(lambda: [step() for _ in range(steps)], 5))]
    emit(us_per_step=statistics.median(batches))


if __name__ == "__main__":
    main()

"""Microseconds per iteration of ((a*b+c).tanh()*a).sum().backward() on 10-element tensors."""

import statistics

from _common import emit, load_library, parse_args, profiled, timed


def main() -> None:
    """Times forward plus backward of a handful of elementwise ops where per-op overhead dominates."""
    args = parse_args(__doc__)
    lib = load_library(args.library)
    a, b, c = (lib.randn(10, requires_grad=True) for _ in range(3))

    def iteration() -> None:
        a.grad = b.grad = c.grad = None
        ((a * b + c).tanh() * a).sum().backward()

    iters = 500 if args.quick else 2000
    timed(iteration, iters // 5)
    batches = [t / iters * 1e6 for t in profiled(lambda: timed(lambda: [iteration() for _ in range(iters)], 5))]
    emit(us_per_iter=statistics.median(batches))


if __name__ == "__main__":
    main()

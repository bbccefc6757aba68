"""Milliseconds to draw 10 million float32 values with rand and with randn, and one randperm(60000)."""

from _common import emit, load_library, parse_args, timed


def main() -> None:
    """Times the three draws of the random-stream benchmark; each draw is timed several times, best kept."""
    args = parse_args(__doc__)
    lib = load_library(args.library)
    n = 1_000_000 if args.quick else 10_000_000
    repeats = 3 if args.quick else 5

    def best(draw) -> float:
        draw()  # first call: imports, page faults
        return min(timed(draw, repeats)) * 1e3

    emit(
        rand_ms=best(lambda: lib.rand(n)),
        randn_ms=best(lambda: lib.randn(n)),
        randperm_ms=best(lambda: lib.randperm(60_000)),
    )


if __name__ == "__main__":
    main()

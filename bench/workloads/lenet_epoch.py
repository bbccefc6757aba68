"""Seconds per 60,000-image epoch of LeNet-5 at batch 64 (SGD with momentum, from 200 timed steps), and its
batch-1000 inference throughput."""

from _cnn import lenet, run
from _common import parse_args

if __name__ == "__main__":
    args = parse_args(__doc__)
    run(args.library, args.quick, lenet, steps=200, loss="cross_entropy")

"""Seconds per 60,000-image epoch of the two-conv MNIST example at batch 64 (from 30 timed steps), and its
batch-1000 inference throughput."""

from _cnn import run, two_conv
from _common import parse_args

if __name__ == "__main__":
    args = parse_args(__doc__)
    run(args.library, args.quick, two_conv, steps=30, loss="nll_loss")

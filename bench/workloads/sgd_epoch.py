"""Seconds per epoch: 784-200-200-10 ReLU MLP, SGD lr 0.01, batch 200, cross-entropy, 60,000 images.

`numpy` runs the same epoch written by hand in NumPy (the floor), and also reports its matrix products' time."""

from _common import parse_args
from _epoch import run_epoch

if __name__ == "__main__":
    args = parse_args(__doc__, ("ember", "torch", "numpy"))
    run_epoch(args.library, args.quick, "SGD", lr=0.01, batch=200)

"""`ember plot curves|confusion|activations [RUN] [-o FILE.png]`: matplotlib figures of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_KINDS = ("curves", "confusion", "activations")


def register(subparsers) -> None:
    """Add the `plot` subcommand."""
    p = subparsers.add_parser(
        "plot",
        help="draw a run's training curves or confusion matrix, or ember's activation functions, as a PNG",
        description="Draw a PNG with matplotlib (pip install ember[plot]). curves: loss and accuracy per epoch; "
        "confusion: the confusion matrix of RUN/model.pt on the test split; activations: each activation function "
        "and its derivative computed by ember's autograd (needs no run).",
    )
    p.add_argument("kind", choices=_KINDS, help="what to draw")
    p.add_argument("run", nargs="?", help="the run folder (for curves and confusion)")
    p.add_argument(
        "-o", "--output", metavar="FILE.png", help="where to write (default RUN/KIND.png, or activations.png)"
    )
    p.add_argument("--split", default="test", choices=("test", "val", "train"), help="confusion: the split to use")
    p.add_argument(
        "--checkpoint",
        default="model",
        choices=("model", "best", "last"),
        help="confusion: the weights to use (model.pt, or checkpoints/best.pt or last.pt of an unfinished run)",
    )
    p.set_defaults(handler=plot_command)


def plot_command(args: argparse.Namespace) -> int:
    """Handler for `ember plot`."""
    from ember import plot

    if args.kind != "activations" and args.run is None:
        print(
            f"ember plot: error: {args.kind} expects a run folder, e.g. `ember plot {args.kind} runs/NAME`",
            file=sys.stderr,
        )
        return 2
    if args.kind == "activations" and args.run is not None:
        print(
            "ember plot: error: activations takes no run folder (use -o FILE.png to choose the output)", file=sys.stderr
        )
        return 2
    default = Path(args.run) / f"{args.kind}.png" if args.run is not None else Path("activations.png")
    out = Path(args.output) if args.output else default
    from ember.train.run_dir import check_output_path

    try:
        check_output_path(out, f"{args.kind}.png")
        if args.kind == "curves":
            written = plot.plot_curves(args.run, out)
        elif args.kind == "confusion":
            written = plot.plot_confusion(args.run, out, split=args.split, checkpoint=args.checkpoint)
        else:
            written = plot.plot_activations(out)
    except ValueError as e:  # a mistake in what was asked: the format and status of every subcommand
        print(f"ember plot: error: {e}", file=sys.stderr)
        return 2
    except (ImportError, OSError) as e:  # a missing optional package, or the work failed
        print(f"ember plot: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0

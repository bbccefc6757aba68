"""`ember report RUN [-o FILE.html]`: one self-contained HTML page about a training run."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the `report` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a run (curves, metrics, confusion matrix, mistakes, doctor)",
        description="Write one HTML file (no external resources) about a training run: its settings, loss and "
        "accuracy curves, final metrics, the test confusion matrix, per-class accuracy, the misclassified test "
        "examples and the training doctor's findings.",
    )
    p.add_argument("run", help="the run folder")
    p.add_argument("-o", "--output", metavar="FILE.html", help="where to write (default RUN/report.html)")
    p.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Handler for `ember report`."""
    from ember.report import write_report
    from ember.train.run_dir import check_output_path

    try:
        if args.output:
            check_output_path(args.output, "report.html")
        written = write_report(args.run, args.output)
    except (
        ValueError
    ) as e:  # a mistake in what was asked (ConfigError included): the format and status of every subcommand
        print(f"ember report: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the work failed (a disk full, a folder not writable)
        print(f"ember report: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0

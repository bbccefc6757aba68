"""Entry point of the `ember` command (and `python -m ember`)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .._version_info import TORCH_API

# subcommand name -> module providing register(subparsers); each registers its own handler
SUBCOMMANDS = {
    "run": "ember.cli.run",
    "train": "ember.cli.train",  # also eval, predict, summary
    "plot": "ember.cli.plot",
    "report": "ember.cli.report",
    "dashboard": "ember.cli.dashboard",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand attached."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="ember", description="ember: neural networks on NumPy with PyTorch's API.")
    parser.add_argument(
        "--version", action="version", version=f"ember {__version__} (PyTorch's API as of torch {TORCH_API})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for modname in SUBCOMMANDS.values():
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse argv and run the chosen subcommand; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) >= 3 and argv[:2] == ["run", "-m"]:
        # everything after the module's name is the module's own (`ember run -m pkg.tool --help`), as with python -m
        from .run import run_module

        return run_module(argv[2], argv[3:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except BrokenPipeError:
        # the reader went away (`ember train | head -2`): stop quietly, as command-line tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush finds no closed pipe
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal


if __name__ == "__main__":
    sys.exit(main())

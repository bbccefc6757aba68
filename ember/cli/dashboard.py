"""`ember dashboard [RUN_OR_PARENT ...] [--port N] [--host H] [--no-browser]`: a live page of training runs."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the `dashboard` subcommand."""
    p = subparsers.add_parser(
        "dashboard",
        help="serve a local web page that shows runs' curves and updates live while they train",
        description="Serve a page on this machine listing every run (a folder with metrics.jsonl) found in the "
        "given folders, with loss and accuracy curves that update while training runs. Parent folders such as runs/ "
        "are searched again all the time, so runs started later appear too.",
    )
    p.add_argument(
        "paths", nargs="*", metavar="RUN_OR_PARENT", help="run folders or folders holding runs (default runs)"
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port, printed)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: only this machine can connect)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(handler=dashboard_command)


def dashboard_command(args: argparse.Namespace) -> int:
    """Handler for `ember dashboard`."""
    from ember.dashboard import serve

    if not 0 <= args.port <= 65535:
        print(f"ember dashboard: error: --port must be in 0..65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        return serve(args.paths or ["runs"], host=args.host, port=args.port, open_browser=not args.no_browser)
    except OSError as e:
        print(f"ember dashboard: error: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1

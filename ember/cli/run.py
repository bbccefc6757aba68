"""`ember run script.py [args...]`: run an unchanged PyTorch program with torch served by ember."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Callable


def register(subparsers) -> None:
    """Add the `run` subcommand."""
    p = subparsers.add_parser(
        "run",
        help="run a PyTorch program with torch, torchvision and torchsummary served by ember",
        description="Run a Python program as `python` would, with `import torch` (and torchvision, torchsummary) served by ember.",
    )
    from ..distributed.run import add_launch_options

    add_launch_options(p)
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script, like python -m")
    p.add_argument("script", nargs="?", help="the program to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the program")
    p.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Handler for `ember run`."""
    if args.module is None and args.script is None:
        print("ember run: expected a script (or -m MODULE)", file=sys.stderr)
        return 2
    if getattr(args, "nproc_per_node", None) is not None or getattr(args, "hostfile", None) is not None:
        from ..distributed.run import launch

        program = ["-m", args.module] if args.module is not None else []
        program += ([args.script] if args.script is not None else []) + args.args
        return launch(program, args.nproc_per_node or 1, args.hostfile, args.master_addr, args.master_port)
    if args.module is not None:
        argv = [args.module] + ([args.script] if args.script is not None else []) + args.args
        return run_module(args.module, argv[1:])
    return run_script(args.script, args.args)


def _trim(tb, filename: str | None):
    """Drop the launcher's own frames, so the traceback starts where `python` would start it."""
    start = tb
    while start is not None:
        code_file = start.tb_frame.f_code.co_filename
        if filename is not None and os.path.abspath(code_file) == filename:
            return start
        if filename is None and not _is_launcher_frame(code_file):
            return start
        start = start.tb_next
    return tb


def _is_launcher_frame(path: str) -> bool:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(path).startswith(here) or os.path.basename(path) in ("runpy.py", "<frozen runpy>")


def _report(exc: BaseException, filename: str | None, on_failure: Callable[[BaseException], None] | None = None) -> int:
    if on_failure is not None:
        on_failure(exc)
    tb = _trim(exc.__traceback__, filename)
    exc.with_traceback(tb)
    sys.excepthook(type(exc), exc, tb)
    return 130 if isinstance(exc, KeyboardInterrupt) else 1


def run_script(script: str, argv: list[str], on_failure: Callable[[BaseException], None] | None = None) -> int:
    """Run a file as __main__ with sys.argv and sys.path[0] set as `python script` would set them.

    An exception the program raises is printed as the interpreter would (after on_failure sees it)."""
    from .. import compat

    path = os.path.abspath(script)
    if not os.path.exists(path):
        print(f"ember run: can't open file '{path}': [Errno 2] No such file or directory", file=sys.stderr)
        return 2
    compat.install()
    sys.argv = [script, *argv]
    script_dir = os.path.dirname(os.path.realpath(path)) if os.path.isfile(path) else path
    if sys.path:
        sys.path[0] = script_dir
    else:
        sys.path.append(script_dir)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - report like the interpreter does, then exit non-zero
        return _report(e, path if os.path.isfile(path) else None, on_failure)
    return 0


def run_module(module: str, argv: list[str], on_failure: Callable[[BaseException], None] | None = None) -> int:
    """Run a module as __main__ like `python -m module`."""
    from .. import compat

    compat.install()
    sys.argv = [module, *argv]
    cwd = os.getcwd()
    if sys.path:
        sys.path[0] = cwd
    else:
        sys.path.append(cwd)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        return _report(e, None, on_failure)
    return 0

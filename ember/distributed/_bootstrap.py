"""What each rank runs under the launcher: set torchrun's variables from MPI's, run the program as `ember run`
does, and on an error record it for the launcher and abort MPI so that the other ranks stop too. Each rank records its
PID for the launcher and watches the launcher: if that process is gone (killed), the rank stops itself."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time

from .run import FAILURE_DIR_ENV, LAUNCHER_PID_ENV

WATCH_INTERVAL = 0.5  # seconds between two checks that the launcher still runs

# each MPI implementation names the rank, the size and the rank on this host differently
_RANK_VARS = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
_LOCAL_VARS = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK")


def _first(names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in os.environ:
            return os.environ[n]
    return None


def set_rank_environment() -> int:
    """Set RANK, WORLD_SIZE, LOCAL_RANK, GROUP_RANK and NODE_RANK from the MPI launcher's variables; the rank."""
    rank = _first(_RANK_VARS)
    if rank is None:  # started without MPI's launcher: ask MPI itself
        from . import _mpi

        world = _mpi.mpi().COMM_WORLD
        rank, size, local = str(world.Get_rank()), str(world.Get_size()), str(world.Get_rank())
    else:
        size = _first(_SIZE_VARS) or "1"
        local = _first(_LOCAL_VARS) or rank
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", size))
    os.environ.update(
        RANK=rank,
        WORLD_SIZE=size,
        LOCAL_RANK=local,
        LOCAL_WORLD_SIZE=str(per_node),
        GROUP_RANK=str(int(rank) // max(per_node, 1)),
        NODE_RANK=str(int(rank) // max(per_node, 1)),
    )
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    return int(rank)


def _record(rank: int, error: str) -> None:
    folder = os.environ.get(FAILURE_DIR_ENV)
    if not folder:
        return
    try:
        with open(os.path.join(folder, f"rank-{rank}.json"), "w") as f:
            json.dump({"rank": rank, "error": error, "time": time.time()}, f)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_launcher(rank: int, pid: int, folder: str) -> None:
    while _alive(pid):
        time.sleep(WATCH_INTERVAL)
    try:
        os.write(2, f"ember.distributed: rank {rank}: the launcher (pid {pid}) is gone; stopping\n".encode())
    except OSError:
        pass
    shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)


def start_watch(rank: int) -> None:
    """Record this rank's PID for the launcher and stop the rank if the launcher disappears (same host only)."""
    folder = os.environ.get(FAILURE_DIR_ENV)
    pid = os.environ.get(LAUNCHER_PID_ENV)
    # the launcher's folder exists only on its own host; elsewhere its PID means nothing
    if not folder or not pid or not os.path.isdir(folder):
        return
    try:
        with open(os.path.join(folder, f"pid-{rank}"), "w") as f:
            f.write(str(os.getpid()))
    except OSError:
        pass
    thread = threading.Thread(
        target=_watch_launcher, args=(rank, int(pid), folder), name="ember-launcher-watch", daemon=True
    )
    thread.start()


def _mark_done(rank: int) -> None:
    folder = os.environ.get(FAILURE_DIR_ENV)
    if folder:
        try:
            open(os.path.join(folder, f"done-{rank}"), "w").close()
        except OSError:
            pass


def _abort(code: int) -> None:
    """Stop every rank: MPI_Abort ends the whole job through the launcher."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        mpi = sys.modules.get("mpi4py.MPI")
        # only a rank that started MPI aborts through it: starting MPI now would wait for the other ranks
        # (which may never start it), and a plain exit with a non-zero status already stops the job
        if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
            mpi.COMM_WORLD.Abort(code)
    finally:
        os._exit(code)


def main(argv: list[str]) -> int:
    """Run argv (a script and its arguments, or -m MODULE ...) as this rank."""
    from ..cli.run import run_module, run_script

    rank = set_rank_environment()
    start_watch(rank)
    failure: list[BaseException] = []
    try:
        if argv and argv[0] == "-m":
            rc = run_module(argv[1], argv[2:], on_failure=failure.append)
        else:
            rc = run_script(argv[0], argv[1:], on_failure=failure.append)
    except SystemExit as e:
        code = e.code
        if code is None or code == 0:
            _mark_done(rank)
            return 0
        rc = code if isinstance(code, int) else 1
        if not isinstance(code, int):
            print(code, file=sys.stderr)
        _record(rank, f"exited with status {code}")
        _abort(rc)
    if rc != 0:
        if failure and isinstance(failure[0], KeyboardInterrupt):
            _abort(rc)
        what = f"{type(failure[0]).__name__}: {failure[0]}" if failure else f"exited with status {rc}"
        print(f"ember.distributed: rank {rank} failed ({what}); stopping the other ranks", file=sys.stderr)
        _record(rank, what)
        _abort(rc)
    _mark_done(rank)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

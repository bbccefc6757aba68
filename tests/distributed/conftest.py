"""Launching small programs on 2 or 3 ranks through `ember run --nproc-per-node` (the `ranks` fixture).

The tests need the 'distributed' extra (mpi4py and the MPI wheel); without it they skip, except under CI,
which installs it with the test extra."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import unavailable

REPO = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT = 120  # seconds; a run that takes longer has hung


def mpi_available() -> bool:
    """Whether mpi4py imports (checked in a child process, so this one never starts MPI)."""
    probe = subprocess.run([sys.executable, "-c", "import mpi4py.MPI"], capture_output=True, timeout=60)
    return probe.returncode == 0


_MPI = {}


def require_mpi() -> None:
    """Skip (fail under CI) when the distributed extra is not installed."""
    if "ok" not in _MPI:
        _MPI["ok"] = mpi_available()
    if not _MPI["ok"]:
        unavailable(
            "mpi4py or an MPI library is missing (pip install 'ember[distributed]')",
            "CI must install the distributed extra (the test extra lists mpi4py and mpich)",
        )


def child_env() -> dict:
    """The environment for a launched program: this checkout's ember, unbuffered output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PMI_RANK", "OMP_NUM_THREADS")
    }
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def ranks(tmp_path):
    """run(source, n, *args, launcher=...) writes source to a file and runs it on n ranks; the CompletedProcess."""
    require_mpi()

    def run(source: str, n: int, *args: str, launcher: tuple[str, ...] = ("-m", "ember", "run"), extra=()):
        script = tmp_path / "program.py"
        script.write_text(textwrap.dedent(source))
        cmd = [sys.executable, *launcher, *extra, "--nproc-per-node", str(n), str(script), *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT, cwd=tmp_path, env=child_env()
        )

    return run

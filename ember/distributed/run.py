"""The launcher, with torchrun's shape: `python -m ember.distributed.run --nproc-per-node N script.py [args]`.

It starts the ranks through the MPI implementation's own launcher (mpiexec), each running the script as
`ember run` does (torch served by ember) with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and
MASTER_PORT set. A rank that raises is reported and MPI stops the others (MPI_Abort), so a failed run ends
instead of hanging; the launcher then names the failed rank, also one killed by a signal or ended by os._exit
(from the exit status MPICH's mpiexec reports for each rank and the PID each rank records at start-up).
Ctrl-C stops every rank, and each rank stops by itself if the launcher process disappears (SIGKILL)."""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO

from . import _mpi

DEFAULT_MASTER_PORT = 29500
FAILURE_DIR_ENV = "EMBER_DIST_FAILURE_DIR"
LAUNCHER_PID_ENV = "EMBER_DIST_LAUNCHER_PID"
# what MPICH's mpiexec prints: the wait status of every rank (asked for with -print-all-exitcodes), and the
# PID of the first rank it saw end badly
_EXIT_CODES = re.compile(rb"^\[mpiexec@[^\]]*\] Exit codes: (.*)$", re.MULTILINE)
_EXIT_CODES_LINE = re.compile(rb"^\[mpiexec@[^\]]*\] Exit codes: .*\n?", re.MULTILINE)
_BAD_PID = re.compile(rb"PID (\d+) RUNNING AT")
_TAIL_BYTES = 1 << 16


def add_launch_options(p: argparse.ArgumentParser) -> None:
    """The launcher's options (shared by `ember run` and `python -m ember.distributed.run`)."""
    p.add_argument(
        "--nproc-per-node",
        "--nproc_per_node",
        dest="nproc_per_node",
        type=int,
        default=None,
        metavar="N",
        help="start N ranks on each host (through mpiexec), with RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* set",
    )
    p.add_argument(
        "--hostfile",
        default=None,
        metavar="FILE",
        help="hosts to start ranks on, one per line (passed to mpiexec); --nproc-per-node ranks on each",
    )
    p.add_argument("--nnodes", default=None, help="accepted for torchrun compatibility (the host file decides)")
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility")
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default=None, help="MASTER_ADDR for the ranks")
    p.add_argument(
        "--master-port", "--master_port", dest="master_port", type=int, default=None, help="MASTER_PORT for the ranks"
    )


def find_mpiexec() -> str:
    """The mpiexec of the installed MPI (the one beside this Python first), or an error naming the extra."""
    if not _mpi.available():
        raise RuntimeError(f"the launcher needs mpi4py and an MPI library: {_mpi.INSTALL_HINT}")
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpiexec", path=here + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        raise RuntimeError(f"no mpiexec found beside {sys.executable} or on PATH: {_mpi.INSTALL_HINT}")
    return found


def _hosts(hostfile: str) -> list[str]:
    hosts = []
    with open(hostfile) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                hosts.append(line.split()[0].split(":")[0])
    if not hosts:
        raise ValueError(f"host file {hostfile} lists no hosts")
    return hosts


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def launch_command(
    mpiexec: str, nproc_per_node: int, hostfile: str | None, program: list[str], open_mpi: bool = False
) -> list[str]:
    """The mpiexec command line that starts the ranks, each running program under the bootstrap."""
    nodes = len(_hosts(hostfile)) if hostfile else 1
    total = nproc_per_node * nodes
    rank_cmd = [sys.executable, "-m", "ember.distributed._bootstrap", *program]
    if open_mpi:
        cmd = [mpiexec, "-n", str(total), "--oversubscribe"]
        if hostfile:
            cmd += ["--hostfile", hostfile, "--map-by", f"ppr:{nproc_per_node}:node"]
        for var in (
            "MASTER_ADDR",
            "MASTER_PORT",
            "LOCAL_WORLD_SIZE",
            "TORCHELASTIC_RUN_ID",
            "OMP_NUM_THREADS",
            FAILURE_DIR_ENV,
            LAUNCHER_PID_ENV,
        ):
            cmd += ["-x", var]
        return cmd + rank_cmd
    cmd = [mpiexec, "-print-all-exitcodes", "-n", str(total)]
    if hostfile:
        cmd += ["-f", hostfile, "-ppn", str(nproc_per_node)]
    return cmd + rank_cmd


class _Relay:
    """Copies one of mpiexec's output streams to ours as it comes, keeping the last bytes for the report."""

    def __init__(self, source: IO[bytes], target: IO[str]) -> None:
        self.source, self.target, self.tail = source, target, b""
        self.thread = threading.Thread(target=self._copy, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        out = getattr(self.target, "buffer", None)
        fd = self.source.fileno()
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            self.tail = (self.tail + chunk)[-_TAIL_BYTES:]
            data, pending = pending + chunk, b""
            start = data.rfind(b"[mpiexec@")
            if chunk and start >= 0 and b"\n" not in data[start:]:  # mpiexec's own line, still coming
                data, pending = data[:start], data[start:]
            data = _EXIT_CODES_LINE.sub(b"", data)  # asked for the report only
            try:
                if out is not None:
                    out.write(data)
                else:
                    self.target.write(data.decode(errors="replace"))
                self.target.flush()
            except (OSError, ValueError):
                pass
            if not chunk:
                break
        self.source.close()

    def join(self) -> bytes:
        """Wait for the stream to end; its last bytes."""
        self.thread.join()
        return self.tail


def _rank_pids(folder: str) -> dict[int, int]:
    """PID -> rank, from the pid-RANK files the ranks wrote at start-up."""
    pids = {}
    for name in os.listdir(folder):
        if name.startswith("pid-"):
            try:
                with open(os.path.join(folder, name)) as f:
                    pids[int(f.read().strip())] = int(name[4:])
            except (OSError, ValueError):
                continue
    return pids


class _Deaths:
    """Watches this host's ranks (by the PIDs they record) and notes which ended first, for the report."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.first: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        if not hasattr(os, "pidfd_open"):
            return
        poller, fds, seen = select.poll(), {}, set()
        try:
            while not self.done.is_set() and not self.first:
                ended = []
                for pid, rank in _rank_pids(self.folder).items():
                    if pid in seen:
                        continue
                    seen.add(pid)
                    try:
                        fd = os.pidfd_open(pid)
                    except ProcessLookupError:
                        ended.append(rank)
                        continue
                    except OSError:
                        return
                    fds[fd] = rank
                    poller.register(fd, select.POLLIN)
                ended += [fds[fd] for fd, _ in poller.poll(100)]
                self.first = sorted(ended)
        finally:
            for fd in fds:
                os.close(fd)

    def stop(self) -> list[int]:
        """The ranks seen ending first (together), or none."""
        self.done.set()
        self.thread.join(timeout=1.0)
        return self.first


def _describe(status: int) -> str:
    if status & 0x7F:
        sig = status & 0x7F
        try:
            name = f", {signal.Signals(sig).name}"
        except ValueError:
            name = ""
        return f"died (killed by signal {sig}{name})"
    return f"exited with status {status >> 8} before the others finished"


def abnormal_ranks(output: bytes, pids: dict[int, int], first: list[int] = ()) -> list[tuple[int, str]]:
    """The ranks that ended on their own without raising, each with what happened, from mpiexec's output."""
    statuses: list[int] = []
    for line in _EXIT_CODES.findall(output)[-1:]:
        for host in re.findall(rb"\[[^\]]*\] ([0-9,]+)", line):
            statuses += [int(v) for v in host.split(b",") if v]
    # a rank that exited with a status ended by itself; the others were stopped by mpiexec (SIGKILL) after it
    exited = [(r, _describe(s)) for r, s in enumerate(statuses) if s and not s & 0x7F]
    if exited:
        return exited
    if first:  # the ranks seen ending first; the later ones mpiexec killed itself
        return [(r, _describe(statuses[r]) if r < len(statuses) and statuses[r] else "died") for r in first]
    bad = _BAD_PID.findall(output)
    if bad:  # mpiexec names the first rank it saw killed by a signal; the later ones it killed itself
        rank = pids.get(int(bad[0]))
        if rank is not None:
            status = statuses[rank] if rank < len(statuses) and statuses[rank] else 0
            return [(rank, _describe(status) if status else "died (killed by a signal)")]
    return [(r, _describe(s)) for r, s in enumerate(statuses) if s][:1]


def _report_failures(folder: str, rc: int, output: bytes = b"", first: list[int] = ()) -> None:
    records = []
    for name in os.listdir(folder):
        if name.startswith("rank-") and name.endswith(".json"):
            try:
                with open(os.path.join(folder, name)) as f:
                    records.append(json.load(f))
            except (OSError, ValueError):
                continue
    records.sort(key=lambda r: r.get("time", 0.0))
    done = {int(n[5:]) for n in os.listdir(folder) if n.startswith("done-")}
    first = [r for r in first if r not in done]
    abnormal = abnormal_ranks(output, _rank_pids(folder), first) if not records else []
    if records:
        first = records[0]
        others = ", ".join(str(r["rank"]) for r in records[1:])
        also = f" (also failed: rank {others})" if others else ""
        print(
            f"ember.distributed: rank {first['rank']} failed: {first['error']}{also}; the other ranks were stopped",
            file=sys.stderr,
        )
    elif abnormal:
        for rank, what in abnormal:
            print(f"ember.distributed: rank {rank} {what}; the other ranks were stopped", file=sys.stderr)
    else:
        print(
            f"ember.distributed: a rank ended abnormally (mpiexec exit code {rc}); see the messages above",
            file=sys.stderr,
        )


def launch(
    program: list[str],
    nproc_per_node: int,
    hostfile: str | None = None,
    master_addr: str | None = None,
    master_port: int | None = None,
) -> int:
    """Run program (a script and its arguments, or -m MODULE ...) on nproc_per_node ranks per host; the exit status."""
    if nproc_per_node < 1:
        print(f"ember run: --nproc-per-node must be at least 1, got {nproc_per_node}", file=sys.stderr)
        return 2
    try:
        mpiexec = find_mpiexec()
        hosts = _hosts(hostfile) if hostfile else None
    except (RuntimeError, OSError, ValueError) as e:
        print(f"ember run: {e}", file=sys.stderr)
        return 2
    folder = tempfile.mkdtemp(prefix="ember-dist-")
    env = dict(os.environ)
    env["MASTER_ADDR"] = master_addr or env.get("MASTER_ADDR") or (hosts[0] if hosts else "127.0.0.1")
    env["MASTER_PORT"] = str(master_port or env.get("MASTER_PORT") or DEFAULT_MASTER_PORT)
    env["LOCAL_WORLD_SIZE"] = str(nproc_per_node)
    env["TORCHELASTIC_RUN_ID"] = env.get("TORCHELASTIC_RUN_ID", "none")
    env[FAILURE_DIR_ENV] = folder
    env[LAUNCHER_PID_ENV] = str(os.getpid())
    if nproc_per_node > 1 and "OMP_NUM_THREADS" not in env:
        # as torchrun does: ranks sharing a host's cores each use one BLAS thread (several threads per rank
        # fight over the cores and over MPI's busy-waiting, and a step can take tens of times longer)
        env["OMP_NUM_THREADS"] = "1"
    cmd = launch_command(mpiexec, nproc_per_node, hostfile, program, _is_open_mpi(mpiexec))
    # mpiexec gets a process group of its own, so that Ctrl-C reaches the ranks once, through it
    # its output passes through this process, which reads mpiexec's report of how each rank ended
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    relays = (_Relay(proc.stdout, sys.stdout), _Relay(proc.stderr, sys.stderr))
    deaths = _Deaths(folder)
    try:
        rc = proc.wait()
        output = b"".join(r.join() for r in relays)
        first = deaths.stop()
    except KeyboardInterrupt:
        rc = _stop(proc)
        deaths.stop()
        for r in relays:
            r.thread.join(timeout=5.0)
        print("ember.distributed: interrupted; every rank was stopped", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        return 130
    try:
        if rc != 0:
            _report_failures(folder, rc, output, first)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rc if rc > 0 else 128 - rc if rc < 0 else 0


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> int:
    """Interrupt mpiexec (which interrupts the ranks), then kill its whole process group if it lingers."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return proc.returncode
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            except KeyboardInterrupt:
                break
    return proc.wait()


def main(argv: list[str] | None = None) -> int:
    """`python -m ember.distributed.run`: torchrun's command line for ember."""
    p = argparse.ArgumentParser(
        prog="python -m ember.distributed.run",
        description="Start N ranks of a PyTorch program (torch served by ember) through MPI, like torchrun.",
    )
    add_launch_options(p)
    p.add_argument("-m", "--module", action="store_true", help="run the program as a module, like python -m")
    p.add_argument("script", help="the program to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the program")
    a = p.parse_args(argv)
    program = (["-m"] if a.module else []) + [a.script, *a.args]
    return launch(program, a.nproc_per_node or 1, a.hostfile, a.master_addr, a.master_port)


if __name__ == "__main__":
    sys.exit(main())

"""The launcher: a torch-tutorial DDP program runs unchanged on 2 ranks; a failing rank ends the run quickly
with the rank named (also one killed by a signal or ended by os._exit); Ctrl-C stops every rank, and so does
killing the launcher; a host file (two names for this machine) places the ranks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import child_env, require_mpi

# The shape of PyTorch's DDP tutorials: gloo, DistributedSampler, DDP, a loop printing per-rank losses.
TUTORIAL = """
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    data = TensorDataset(x, x @ torch.randn(10, 5) * 0.3)
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=8, sampler=sampler)
    model = DDP(ToyModel())
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"rank {rank} (local {local_rank}) epoch {epoch} loss {total / len(loader):.4f}")
    if rank == 0:
        torch.save(model.state_dict(), "ddp.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
"""


def test_tutorial_program_runs_unchanged(ranks, tmp_path):
    done = ranks(TUTORIAL, 2, "--epochs", "6")
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.findall(r"rank (\d) \(local (\d)\) epoch (\d) loss (\d+\.\d+)", done.stdout)
    assert sorted((r, lr, e) for r, lr, e, _ in found) == [(str(r), str(r), str(e)) for r in range(2) for e in range(6)]
    losses = {(r, e): float(v) for r, _, e, v in found}
    # each rank's loss is over its own half of the data, so only the two together must fall
    assert losses[("0", "5")] + losses[("1", "5")] < 0.9 * (losses[("0", "0")] + losses[("1", "0")]), losses
    import ember

    state = ember.load(tmp_path / "ddp.pt")
    assert list(state) == ["module.net1.weight", "module.net1.bias", "module.net2.weight", "module.net2.bias"]


def test_python_m_launcher_and_torchrun_spelling(ranks):
    source = """
    import os
    print(f"rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']} local {os.environ['LOCAL_RANK']} threads {os.environ['OMP_NUM_THREADS']}")
    """
    done = ranks(source, 3, launcher=("-m", "ember.distributed.run"))
    assert done.returncode == 0, done.stderr
    # one BLAS thread per rank unless the user says otherwise, as torchrun does
    assert sorted(re.findall(r"rank (\d) of 3 local (\d) threads 1", done.stdout)) == [
        ("0", "0"),
        ("1", "1"),
        ("2", "2"),
    ]


@pytest.mark.parametrize("n", [2, 3])
def test_a_rank_that_raises_stops_the_run_naming_it(ranks, n):
    source = """
    import time
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        time.sleep(0.5)
        raise ValueError("bad batch on this rank")
    dist.barrier()  # the others wait here for a rank that never comes
    print("unreachable")
    """
    start = time.monotonic()
    done = ranks(source, n)
    took = time.monotonic() - start
    assert done.returncode != 0
    assert "unreachable" not in done.stdout
    assert "ValueError: bad batch on this rank" in done.stderr  # the rank's own traceback
    assert "ember.distributed: rank 1 failed: ValueError: bad batch on this rank" in done.stderr
    assert took < 30, took


@pytest.mark.parametrize("ending", ["raise ValueError('boom')", "sys.exit(3)"])
def test_a_rank_that_fails_before_any_rank_starts_mpi_is_named_without_a_hang(ranks, ending):
    # no process group at all: the failing rank must not start MPI just to stop the others (starting it would
    # wait for rank 0, which has already finished)
    source = f"""
    import os
    import sys

    if os.environ["RANK"] == "1":
        {ending}
    print("rank 0 finished")
    """
    start = time.monotonic()
    done = ranks(source, 2)
    assert done.returncode != 0 and time.monotonic() - start < 30
    assert "rank 0 finished" in done.stdout
    assert "ember.distributed: rank 1 failed" in done.stderr


def test_a_rank_that_exits_with_an_error_status_is_named(ranks):
    source = """
    import sys
    import torch.distributed as dist

    dist.init_process_group("gloo")
    if dist.get_rank() == 0:
        sys.exit(3)
    dist.barrier()
    """
    done = ranks(source, 2)
    assert done.returncode != 0
    assert "ember.distributed: rank 0 failed: exited with status 3" in done.stderr


def _forever_on_two_ranks(tmp_path, output):
    """Start `ember run --nproc-per-node 2` on a script that loops forever; (the launcher, the ranks' pids)."""
    require_mpi()
    script = tmp_path / "forever.py"
    script.write_text(
        "import os, time\n"
        "open(f\"pid-{os.environ['RANK']}\", 'w').write(str(os.getpid()))\n"
        "while True:\n"
        "    time.sleep(0.1)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "ember", "run", "--nproc-per-node", "2", str(script)],
        cwd=tmp_path,
        env=child_env(),
        stdout=output,
        stderr=output,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("pid-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(p.read_text()) for p in tmp_path.glob("pid-*") if p.read_text()]
    assert len(pids) == 2
    return proc, pids


def _ranks_left_after(pids: list[int], seconds: float) -> list[int]:
    """The ranks still running once seconds have passed (or none are left)."""
    deadline = time.monotonic() + seconds
    left = [pid for pid in pids if _runs(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in pids if _runs(pid)]
    return left


def test_ctrl_c_stops_every_rank(tmp_path):
    proc, pids = _forever_on_two_ranks(tmp_path, subprocess.PIPE)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; every rank was stopped" in err
    assert not _ranks_left_after(pids, 10)


def test_host_file_places_ranks_per_host(ranks, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# two names for this machine, one rank each\nlocalhost\n127.0.0.1\n")
    source = """
    import os
    import torch
    import torch.distributed as dist
    dist.init_process_group("gloo")
    t = torch.ones(1)
    dist.all_reduce(t)
    print(f"rank {os.environ['RANK']} local {os.environ['LOCAL_RANK']} node {os.environ['GROUP_RANK']} sum {t.item():.0f}")
    """
    done = ranks(source, 1, extra=("--hostfile", str(hosts)))
    assert done.returncode == 0, done.stderr
    assert sorted(re.findall(r"rank (\d) local (\d) node (\d) sum (\d)", done.stdout)) == [
        ("0", "0", "0", "2"),
        ("1", "0", "1", "2"),
    ]


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ("os.kill(os.getpid(), signal.SIGKILL)", "rank 1 died (killed by signal 9"),
        ("os._exit(3)", "rank 1 exited with status 3 before the others finished"),
    ],
)
def test_a_rank_killed_or_ended_by_os_exit_is_named(ranks, ending, message):
    source = f"""
    import os
    import signal
    import time
    import torch.distributed as dist

    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        time.sleep(0.3)
        {ending}
    dist.barrier()
    print("unreachable")
    """
    start = time.monotonic()
    done = ranks(source, 3)
    took = time.monotonic() - start
    assert done.returncode != 0
    assert "unreachable" not in done.stdout
    assert f"ember.distributed: {message}" in done.stderr, done.stderr
    assert "Exit codes:" not in done.stdout + done.stderr  # mpiexec's line for the launcher is not shown
    assert took < 30, took


def test_ranks_stop_when_the_launcher_is_killed(tmp_path):
    proc, pids = _forever_on_two_ranks(tmp_path, subprocess.DEVNULL)
    proc.kill()
    proc.wait(timeout=10)
    left = _ranks_left_after(pids, 15)
    assert not left, f"rank processes {left} still run after the launcher was killed"


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a process that has ended but not yet been reaped by its parent counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True

"""`ember train --nproc N`: data-parallel training through the launcher, checked against one process."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import LAUNCH_TIMEOUT, child_env, require_mpi

from ember.cli import train as cli
from ember.cli.main import main
from ember.distributed import _mpi
from ember.serialization import load

QUICK = ["--limit", "300", "--epochs", "2", "--no-doctor"]
# the largest difference between a 2-rank and a 1-process run's weights these settings give (measured: 7e-8)
WEIGHT_BOUND = 1e-6


def ember_train(cwd, *argv: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m ember train argv...` in a child process."""
    env = {**child_env(), **(env_extra or {})}
    cmd = [sys.executable, "-m", "ember", "train", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT, cwd=cwd, env=env)


def weights(run) -> dict[str, np.ndarray]:
    """model.pt of a run folder, as arrays."""
    return {k: v.numpy() for k, v in load(str(run / "model.pt")).items()}


def epoch_lines(run) -> list[str]:
    """The epoch and test lines of a run's metrics.jsonl."""
    return [line for line in (run / "metrics.jsonl").read_text().splitlines() if '"kind": "step"' not in line]


def test_two_ranks_match_one_process(tmp_path):
    require_mpi()
    one = ember_train(tmp_path, *QUICK, "--run-dir", "one")
    two = ember_train(tmp_path, *QUICK, "--run-dir", "two", "--nproc", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert worst < WEIGHT_BOUND
    # rank 0 alone prints: one table, one "run folder" line
    assert two.stdout.count("run folder:") == 1
    assert two.stdout.count("split ") == 1
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    for x, y in zip(epoch_lines(tmp_path / "one"), epoch_lines(tmp_path / "two"), strict=True):
        for key in ("val_loss", "train_acc", "test_loss", "test_acc"):
            if f'"{key}"' in x:
                # the summed per-rank losses differ from one process's only by rounding
                vx, vy = (float(s.split(f'"{key}": ')[1].split(",")[0].rstrip("}")) for s in (x, y))
                assert vx == pytest.approx(vy, abs=1e-5)


def test_last_batch_smaller_than_the_rank_count(tmp_path):
    """A 1-row last batch leaves rank 1 without rows: it adds zero gradients and the update stays the same."""
    require_mpi()
    flags = [*QUICK, "--batch-size", "269", "--optimizer", "sgd", "--lr", "0.1"]
    assert ember_train(tmp_path, *flags, "--run-dir", "one").returncode == 0
    two = ember_train(tmp_path, *flags, "--run-dir", "two", "--nproc", "2")
    assert two.returncode == 0, two.stderr
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < WEIGHT_BOUND


def test_killed_rank_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL to rank 1 in mid-epoch (after step 7, last checkpoint at step 6), then --resume on 2 ranks."""
    require_mpi()
    flags = [*QUICK, "--checkpoint-every", "2", "--log-every", "1", "--nproc", "2"]
    full = ember_train(tmp_path, *flags, "--run-dir", "full")
    assert full.returncode == 0, full.stderr
    killed = ember_train(tmp_path, *flags, "--run-dir", "killed", env_extra={"EMBER_TRAIN_CRASH_AT": "step:7@1"})
    assert killed.returncode != 0
    assert "ember train --nproc 2 --resume killed" in killed.stderr
    assert not (tmp_path / "killed" / "model.pt").exists()
    resumed = ember_train(tmp_path, "--resume", "killed", "--nproc", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "global step 6" in resumed.stdout
    a, b = weights(tmp_path / "full"), weights(tmp_path / "killed")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert (tmp_path / "killed" / "metrics.jsonl").read_bytes() == (tmp_path / "full" / "metrics.jsonl").read_bytes()


def test_missing_extra_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_mpi, "available", lambda: False)
    status = main(["train", *QUICK, "--run-dir", str(tmp_path / "run"), "--nproc", "2"])
    err = capsys.readouterr().err
    assert status == 2
    assert "pip install 'ember[distributed]'" in err
    assert not (tmp_path / "run").exists()


def test_nproc_1_trains_without_the_launcher(tmp_path, monkeypatch, capsys):
    def no_launch(*args, **kwargs):
        raise AssertionError("--nproc 1 must not start the launcher")

    monkeypatch.setattr(cli, "_launch", no_launch)
    assert main(["train", *QUICK, "--run-dir", str(tmp_path / "run"), "--nproc", "1"]) == 0
    assert (tmp_path / "run" / "model.pt").exists()


def test_bad_nproc_is_a_one_line_error(tmp_path, capsys):
    assert main(["train", *QUICK, "--run-dir", str(tmp_path / "run"), "--nproc", "0"]) == 2
    assert "--nproc must be at least 1" in capsys.readouterr().err

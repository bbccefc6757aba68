"""Exact resume with early stopping on: a run killed right after any epoch's checkpoint and resumed stops at the
same epoch, with the same log, best.pt and model.pt, as the uninterrupted run.

The early-stopping state (best loss, best epoch, the count of epochs without improvement) travels in the
checkpoint; the run below has epochs without improvement on both sides of a checkpoint, so a count that
were not restored (or restored as 0) would stop the resumed run later than the uninterrupted one.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.train import load_config
from ember.train.run_dir import RunDir
from ember.train.trainer import CRASH_ENV, fit

# SGD with momentum and an exponential schedule; the validation loss improves in epochs 1, 2 and 4 and not in
# 3, 5 and 6, so with patience 2 the run stops after epoch 6 of 10.
SETTINGS = {
    "data.limit": 200,
    "model.hidden": "16",
    "train.batch_size": 32,
    "train.epochs": 10,
    "train.optimizer": "sgd",
    "train.momentum": 0.9,
    "train.lr": 0.3,
    "train.schedule": "exponential",
    "train.gamma": 0.8,
    "train.patience": 2,
    "train.checkpoint_every": 0,
    "train.keep": 2,
}
STOP_EPOCH = 6


def _epochs(rd: RunDir) -> list[dict]:
    return rd.read_metrics("epoch")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> RunDir:
    folder = str(tmp_path_factory.mktemp("reference") / "run")
    fit(load_config(None, SETTINGS), folder, out=io.StringIO())
    return RunDir(folder)


def test_the_reference_run_stops_early_after_epochs_without_improvement(reference):
    losses = [r["val_loss"] for r in _epochs(reference)]
    assert len(losses) == STOP_EPOCH
    best = [min(losses[: i + 1]) for i in range(len(losses))]
    improved = [i == 0 or losses[i] < best[i - 1] for i in range(len(losses))]
    # the count of epochs without improvement is 1 at the end of epochs 3 and 5: a checkpoint written then
    # holds a count that matters after resuming
    assert improved == [True, True, False, True, False, False]
    last = json.loads(open(reference.metrics).read().splitlines()[-1])
    assert last["kind"] == "test"


def _killed_run(folder: str, crash_at: str) -> None:
    env = dict(os.environ)
    env[CRASH_ENV] = crash_at
    args = [arg for k, v in SETTINGS.items() for arg in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-m", "ember", "train", "--run-dir", folder, *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"the run was not killed at {crash_at}: {proc.stderr}"


@pytest.mark.parametrize("point", ["epoch", "saved"])
@pytest.mark.parametrize("epoch", range(1, STOP_EPOCH + 1))
def test_killed_at_an_epoch_boundary_and_resumed_stops_where_the_uninterrupted_run_stops(
    reference, tmp_path, epoch, point
):
    # "epoch:N": epoch N's line is logged and its checkpoint not yet written; "saved:STEP": right after epoch N's
    # checkpoint (STEP is the global step at the end of epoch N)
    step = _epochs(reference)[epoch - 1]["step"]
    folder = str(tmp_path / "run")
    _killed_run(folder, f"epoch:{epoch}" if point == "epoch" else f"saved:{step}")
    fit(None, folder, resume=True, out=io.StringIO())
    rd = RunDir(folder)
    assert [r["epoch"] for r in _epochs(rd)] == list(range(1, STOP_EPOCH + 1))
    assert open(rd.metrics, "rb").read() == open(reference.metrics, "rb").read()
    for mine, theirs in (
        (ember.load(rd.model), ember.load(reference.model)),
        (ember.load(rd.best)["model"], ember.load(reference.best)["model"]),
        (ember.load(rd.last)["model"], ember.load(reference.last)["model"]),
    ):
        assert list(mine) == list(theirs)
        for name in mine:
            np.testing.assert_array_equal(mine[name].numpy(), theirs[name].numpy(), err_msg=name)
    assert sorted(os.listdir(rd.checkpoints)) == sorted(os.listdir(reference.checkpoints))

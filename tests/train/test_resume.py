"""Exact resume: a training process killed with SIGKILL and resumed ends byte-identical to an uninterrupted run.

The killed runs are real subprocesses. Most kill themselves at a named point of the loop (the trainer's
EMBER_TRAIN_CRASH_AT test hook) so every delicate moment is hit for sure; one is killed from outside, twice,
while it waits after a given number of log lines.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.train import ConfigError, load_config
from ember.train.checkpoint import CheckpointError
from ember.train.run_dir import RunDir, write_json_atomic
from ember.train.trainer import CRASH_ENV, fit

# 400 digits: 360 to train on in batches of 32, i.e. 12 steps per epoch with a partial last batch. Dropout makes
# the result depend on the restored random state; the schedule, on the restored scheduler; Adam, on its moments;
# the doctor's findings, on its restored history.
SETTINGS = {
    "data.limit": 400,
    "model.hidden": "32",
    "model.dropout": 0.3,
    "train.batch_size": 32,
    "train.epochs": 3,
    "train.checkpoint_every": 5,
    "train.log_every": 4,
    "train.keep": 2,
    "train.schedule": "exponential",
    "train.gamma": 0.7,
    "train.lr": 0.1,  # high enough for the doctor to find dead units in epoch 2, from its saved history
    "train.doctor_every": 3,
}
STEPS_PER_EPOCH = 12


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> RunDir:
    """The uninterrupted run every interrupted one must match."""
    folder = str(tmp_path_factory.mktemp("reference") / "run")
    fit(load_config(None, SETTINGS), folder, out=io.StringIO())
    return RunDir(folder)


def start(folder: str, resume: bool = False, crash_at: str | None = None, settings=SETTINGS) -> subprocess.Popen:
    """`ember train` (a new run with settings, or --resume) on folder, as a child process."""
    args = [arg for k, v in (settings or {}).items() for arg in ("--set", f"{k}={v}")]
    env = dict(os.environ)
    env.pop(CRASH_ENV, None)
    if crash_at:
        env[CRASH_ENV] = crash_at
    where = ["--resume", folder] if resume else ["--run-dir", folder]
    cmd = [sys.executable, "-m", "ember", "train", *where, *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def killed_run(folder: str, crash_at: str) -> None:
    """Run training in a subprocess that dies by SIGKILL at crash_at."""
    proc = start(folder, crash_at=crash_at)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run was not killed at {crash_at}: {err}"


def resume(folder: str) -> str:
    """Resume in this process; returns what it printed."""
    out = io.StringIO()
    fit(None, folder, resume=True, out=out)
    return out.getvalue()


def assert_same_as(reference: RunDir, folder: str) -> None:
    """model.pt tensors, metrics.jsonl bytes and best.pt weights equal those of the reference run."""
    rd = RunDir(folder)
    assert open(rd.metrics, "rb").read() == open(reference.metrics, "rb").read()
    assert open(rd.doctor_json, "rb").read() == open(reference.doctor_json, "rb").read()
    for mine, theirs in (
        (ember.load(rd.model), ember.load(reference.model)),
        (ember.load(rd.best)["model"], ember.load(reference.best)["model"]),
    ):
        assert list(mine) == list(theirs)
        for name in mine:
            np.testing.assert_array_equal(mine[name].numpy(), theirs[name].numpy(), err_msg=name)
    assert [t["epoch"] for t in rd.read_timing()] == [1, 2, 3]
    assert sorted(os.listdir(rd.checkpoints)) == sorted(os.listdir(reference.checkpoints))


def test_reference_run_has_doctor_findings_after_the_first_epoch(reference):
    # Findings made from history gathered before a checkpoint show that the doctor's state is restored.
    assert any(r["epoch"] >= 2 for r in reference.read_metrics("doctor"))


@pytest.mark.parametrize(
    "crash_at, resumed_at",
    [
        ("step:3", "no checkpoint was written yet; starting from the beginning"),  # before the first checkpoint
        ("step:7", "at epoch 1, step 5/12 (global step 5)"),  # mid-epoch, two steps after a checkpoint
        ("saved:10", "at epoch 1, step 10/12 (global step 10)"),  # right after a mid-epoch checkpoint
        ("epoch:2", "at epoch 2, step 8/12 (global step 20)"),  # epoch line logged, its checkpoint not yet saved
        ("saved:24", "at epoch 3, step 0/12 (global step 24)"),  # right after an epoch-end checkpoint
        ("test", "at the final evaluation"),  # test line logged, model.pt not yet written
        ("model", "at the final evaluation"),  # model.pt written, run not yet marked finished
    ],
)
def test_killed_and_resumed_matches_uninterrupted(reference, tmp_path, crash_at, resumed_at):
    folder = str(tmp_path / "run")
    killed_run(folder, crash_at)
    printed = resume(folder)
    assert resumed_at in printed
    assert_same_as(reference, folder)


# A child that runs `ember train` in-process and, once metrics.jsonl has `lines` lines, says so on stdout and
# blocks inside the trainer's log call; the test kills it from outside there.
_BLOCK_AFTER = """
import sys, threading
from ember.cli.main import main
from ember.train import trainer
lines, metrics = int(sys.argv[1]), sys.argv[2]
log = trainer._Trainer.log
def blocking_log(self, record):
    log(self, record)
    if open(metrics, "rb").read().count(b"\\n") >= lines:
        print("blocked", flush=True)
        threading.Event().wait()
trainer._Trainer.log = blocking_log
sys.exit(main(sys.argv[3:]))
"""


def test_killed_from_outside_twice(tmp_path):
    # Smaller batches and a step line per step: a run long enough (hundreds of steps) to be killed part-way, by a
    # SIGKILL from another process, once in the first run and once in the resumed one; each child blocks after
    # a given number of log lines, so the kill points do not depend on the machine's speed.
    settings = {**SETTINGS, "data.limit": 0, "train.batch_size": 16, "train.log_every": 1, "train.checkpoint_every": 7}
    reference = RunDir(tmp_path / "reference")
    fit(load_config(None, settings), reference.path, out=io.StringIO())
    folder = str(tmp_path / "run")
    metrics = os.path.join(folder, "metrics.jsonl")
    args = [arg for k, v in settings.items() for arg in ("--set", f"{k}={v}")]
    for resuming, lines in ((False, 30), (True, 150)):
        where = ["--resume", folder] if resuming else ["--run-dir", folder, *args]
        cmd = [sys.executable, "-c", _BLOCK_AFTER, str(lines), metrics, "train", *where]
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        with open(tmp_path / "stderr.txt", "w+") as err:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
            try:
                blocked = any(line == "blocked\n" for line in proc.stdout)  # reads up to that line, or to the end
                assert blocked, "the run ended before it could be killed"
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=60)
            finally:
                proc.kill()
                proc.wait()
            err.seek(0)
            assert proc.returncode == -signal.SIGKILL, err.read()
        assert open(metrics, "rb").read().count(b"\n") >= lines
    resume(folder)
    assert_same_as(reference, folder)


def test_resume_after_the_end_does_nothing(reference, tmp_path):
    folder = str(tmp_path / "run")
    shutil.copytree(reference.path, folder)
    before = {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in ("metrics.jsonl", "model.pt")}
    printed = resume(folder)
    assert f"run {folder} already finished after 3 epochs; nothing to do" in printed
    test = reference.read_metrics("test")[0]
    assert printed.splitlines()[-1].split() == ["test", f"{test['test_loss']:.4f}", f"{test['test_acc']:.2%}"]
    assert {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in before} == before


def test_corrupt_last_checkpoint_falls_back_to_an_epoch_checkpoint(reference, tmp_path):
    folder = str(tmp_path / "run")
    killed_run(folder, f"step:{2 * STEPS_PER_EPOCH + 7}")
    rd = RunDir(folder)
    data = open(rd.last, "rb").read()
    open(rd.last, "wb").write(data[: len(data) // 2])  # as if the disk lost the end of it
    open(os.path.join(rd.checkpoints, ".last.pt.0123456789ab.tmp"), "wb").write(data[:100])  # a half-done save
    printed = resume(folder)
    assert "warning: checkpoint" in printed and "last.pt cannot be read (truncated or corrupt?)" in printed
    assert f"resuming from {rd.epoch_checkpoint(2)} instead of {rd.last}" in printed
    assert_same_as(reference, folder)
    assert not [name for name in os.listdir(rd.checkpoints) if name.endswith(".tmp")]


def test_no_readable_checkpoint_is_a_clear_error(tmp_path):
    folder = str(tmp_path / "run")
    killed_run(folder, f"step:{STEPS_PER_EPOCH + 2}")
    rd = RunDir(folder)
    for name in os.listdir(rd.checkpoints):
        open(os.path.join(rd.checkpoints, name), "wb").write(b"garbage")
    with pytest.raises(CheckpointError, match="no readable checkpoint to resume from: checkpoint .*last.pt"):
        resume(folder)


def test_modified_log_is_refused(tmp_path):
    folder = str(tmp_path / "run")
    killed_run(folder, f"step:{STEPS_PER_EPOCH + 2}")
    open(os.path.join(folder, "metrics.jsonl"), "wb").write(b"")
    with pytest.raises(ConfigError, match="metrics.jsonl has 0 bytes but the checkpoint was written when it had"):
        resume(folder)


def test_changed_data_is_refused(tmp_path):
    folder = str(tmp_path / "run")
    killed_run(folder, f"step:{STEPS_PER_EPOCH + 2}")
    rd = RunDir(folder)
    info = rd.read_data_info()
    info["sizes"]["train"] += 1
    write_json_atomic(rd.data_json, info)
    with pytest.raises(ConfigError, match=r"the data changed since the run started \(sizes differ from data.json\)"):
        resume(folder)


def test_more_epochs_for_a_finished_run_matches_a_longer_run(reference, tmp_path):
    folder = str(tmp_path / "run")
    fit(load_config(None, {**SETTINGS, "train.epochs": 2}), folder, out=io.StringIO())
    printed = io.StringIO()
    fit(load_config(None, SETTINGS), folder, resume=True, out=printed)
    assert f"continuing {folder} from epoch 2 to epoch 3" in printed.getvalue()
    assert_same_as(reference, folder)
    assert RunDir(folder).read_config().train.epochs == 3
    with pytest.raises(ConfigError, match="train.epochs = 2: it has already trained 3 epochs"):
        fit(load_config(None, {**SETTINGS, "train.epochs": 2}), folder, resume=True, out=io.StringIO())


def test_a_damaged_line_before_the_checkpoint_is_refused_before_anything_changes(tmp_path):
    folder = str(tmp_path / "run")
    fit(load_config(None, {**SETTINGS, "train.epochs": 1}), folder, out=io.StringIO())
    rd = RunDir(folder)
    lines = open(rd.metrics, "rb").read().split(b"\n")
    lines[1] = b"{bad json"  # shorter than the line it replaces: the checkpoint's offset now falls mid-line
    open(rd.metrics, "wb").write(b"\n".join(lines))
    before = {name: open(os.path.join(folder, name), "rb").read() for name in ("metrics.jsonl", "config.toml")}
    with pytest.raises(ConfigError, match="cannot resume: .*metrics.jsonl no longer holds what the checkpoint saw"):
        fit(load_config(None, {**SETTINGS, "train.epochs": 2}), folder, resume=True, out=io.StringIO())
    after = {name: open(os.path.join(folder, name), "rb").read() for name in before}
    assert after == before  # refused before the logs were cut or the config rewritten


def test_weights_that_do_not_fit_the_config_get_a_one_line_error(tmp_path):
    from ember.train.evaluate import evaluate_run

    folder = str(tmp_path / "run")
    fit(load_config(None, {**SETTINGS, "train.epochs": 1}), folder, out=io.StringIO())
    rd = RunDir(folder)
    text = open(rd.config).read()
    cfg = rd.read_config()
    hidden = cfg.model.hidden
    open(rd.config, "w").write(text.replace(f"hidden = {hidden}".replace("'", ""), "hidden = [7]"))
    assert rd.read_config().model.hidden == [7]
    with pytest.raises(ConfigError, match=r"model.pt does not fit the model described by the run's config.toml"):
        evaluate_run(folder)


def test_data_json_missing_a_key_is_named(tmp_path):
    folder = str(tmp_path / "run")
    fit(load_config(None, {**SETTINGS, "train.epochs": 1}), folder, out=io.StringIO())
    rd = RunDir(folder)
    info = rd.read_data_info()
    del info["num_classes"]
    write_json_atomic(rd.data_json, info)
    with pytest.raises(ConfigError, match="data.json: missing key 'num_classes'"):
        rd.read_data_info()


def test_overwrite_also_clears_the_plots_of_the_old_run(tmp_path):
    rd = RunDir(tmp_path / "run")
    rd.create()
    for name in ("curves.png", "confusion.png", "config.toml", "notes.txt"):
        open(rd.file(name), "w").write("x")
    rd.create(overwrite=True)
    assert sorted(os.listdir(rd.path)) == ["checkpoints", "notes.txt"]


def test_early_stopping_state_survives_a_kill(tmp_path):
    """The early-stopping counter is checkpointed: a run killed after epoch 2's checkpoint stops where an
    uninterrupted run stops (a counter reset on resume would stop it one epoch late)."""
    settings = {**SETTINGS, "train.epochs": 10, "train.patience": 2, "train.lr": 3.0, "train.doctor": False}
    settings.pop("train.doctor_every")
    uninterrupted = str(tmp_path / "uninterrupted")
    result = fit(load_config(None, settings), uninterrupted, out=io.StringIO())
    stop = result.epochs_run
    assert result.stopped_early and stop < 10 and stop - result.best_epoch == 2  # the setting must stop early
    # killed in the last epoch before stopping: once before its checkpoint, once after (one bad epoch counted)
    for crash_at in (f"epoch:{stop - 1}", f"saved:{(stop - 1) * STEPS_PER_EPOCH}"):
        folder = str(tmp_path / crash_at.replace(":", "-"))
        proc = start(folder, crash_at=crash_at, settings=settings)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, err
        resume(folder)
        assert open(RunDir(folder).metrics, "rb").read() == open(RunDir(uninterrupted).metrics, "rb").read()


def test_a_checkpoint_of_the_previous_layout_resumes_exactly(reference, tmp_path):
    """Version 1 checkpoints kept early-stopping, doctor and step-log state as top-level entries; runs left
    unfinished by an earlier ember still resume, and exactly."""
    from ember.train.checkpoint import load_checkpoint

    folder = str(tmp_path / "run")
    killed_run(folder, f"saved:{STEPS_PER_EPOCH + 8}")  # in epoch 2, with a step-log window open
    rd = RunDir(folder)
    ckpt = load_checkpoint(rd.last)
    states = ckpt.pop("extensions")
    early, doctor, window = states["early_stopping"], states["doctor"], states["step_log"]
    ckpt.update(
        version=1,
        log_window={"loss_sum": window["loss_sum"], "steps": window["steps"]},
        best_val_loss=early["best_loss"],
        best_epoch=early["best_epoch"],
        bad_epochs=early["bad_epochs"],
        stopped_early=early["stopped"],
        doctor=doctor["doctor"],
        doctor_reported=doctor["reported"],
    )
    ember.save(ckpt, rd.last)
    resume(folder)
    assert_same_as(reference, folder)


def test_a_checkpoint_missing_an_extension_state_is_refused_before_anything_changes(tmp_path):
    from ember.train.checkpoint import load_checkpoint

    folder = str(tmp_path / "run")
    killed_run(folder, f"saved:{STEPS_PER_EPOCH + 8}")
    rd = RunDir(folder)
    ckpt = load_checkpoint(rd.last)
    del ckpt["extensions"]["early_stopping"]
    ember.save(ckpt, rd.last)
    metrics_before = open(rd.metrics, "rb").read()
    with pytest.raises(CheckpointError, match=r"has no 'extensions/early_stopping' entry"):
        resume(folder)
    assert open(rd.metrics, "rb").read() == metrics_before


def test_a_previous_layout_checkpoint_missing_an_entry_names_it(tmp_path):
    """A version 1 checkpoint without one of its top-level extension entries is refused with that entry's name."""
    from ember.train.checkpoint import load_checkpoint

    folder = str(tmp_path / "run")
    killed_run(folder, f"saved:{STEPS_PER_EPOCH + 8}")
    rd = RunDir(folder)
    ckpt = load_checkpoint(rd.last)
    del ckpt["extensions"]
    ckpt.update(version=1, log_window={"loss_sum": 0.0, "steps": 0})  # best_val_loss and the rest are missing
    ember.save(ckpt, rd.last)
    with pytest.raises(CheckpointError, match=r"has no 'best_val_loss' entry"):
        resume(folder)


def test_sigterm_stops_like_ctrl_c_and_says_how_to_resume(tmp_path):
    import time

    folder = str(tmp_path / "run")
    settings = {**SETTINGS, "train.epochs": 60}  # long enough to be running when the signal comes
    proc = start(folder, settings=settings)
    metrics = os.path.join(folder, "metrics.jsonl")
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:  # wait until training has begun
        if os.path.exists(metrics) and os.path.getsize(metrics) > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert f"interrupted; continue with: ember train --resume {folder}" in err and "Traceback" not in err
    out = resume(folder)
    assert "resuming" in out and os.path.exists(os.path.join(folder, "model.pt"))


def test_a_checkpoint_with_an_older_generator_state_is_refused_in_one_line(tmp_path):
    folder = str(tmp_path / "run")
    killed_run(folder, f"step:{STEPS_PER_EPOCH + 2}")
    rd = RunDir(folder)
    for name in os.listdir(rd.checkpoints):
        path = os.path.join(rd.checkpoints, name)
        ckpt = ember.load(path)
        ckpt["rng"] = ember.from_numpy(np.frombuffer(b'{"seed": 0, "bit_generator": {}}', dtype=np.uint8).copy())
        ember.save(ckpt, path)  # what an ember from before torch's random streams stored
    weights_before = open(rd.last, "rb").read()
    with pytest.raises(CheckpointError, match="random-generator state of another format .* start a new run"):
        resume(folder)
    assert open(rd.last, "rb").read() == weights_before

"""fit(): what a run folder holds, the metrics it logs, early stopping, schedules, and evaluate_run."""

from __future__ import annotations

import io
import json
import math
import os

import numpy as np
import pytest

import ember
from ember.train import ConfigError, load_config, trainer
from ember.train.checkpoint import load_checkpoint
from ember.train.evaluate import evaluate_run, outputs_to_probs
from ember.train.extensions import finite
from ember.train.run_dir import RunDir, read_jsonl
from ember.train.trainer import FitResult, fit

# 200 digits: 180 to train on, 20 for validation; batch 50 gives 4 steps per epoch, the last one partial.
SMALL = {"data.limit": 200, "train.batch_size": 50, "train.epochs": 3, "train.log_every": 3, "train.doctor": False}


def small_cfg(**extra):
    return load_config(None, {**SMALL, **{k.replace("__", "."): v for k, v in extra.items()}})


def run(tmp_path, name="run", **extra) -> tuple[FitResult, RunDir]:
    folder = str(tmp_path / name)
    return fit(small_cfg(**extra), folder, out=io.StringIO()), RunDir(folder)


def test_run_folder_contents(tmp_path):
    result, rd = run(tmp_path)
    assert sorted(os.listdir(rd.path)) == [
        "checkpoints",
        "config.toml",
        "data.json",
        "metrics.jsonl",
        "model.pt",
        "timing.jsonl",
    ]
    assert sorted(os.listdir(rd.checkpoints)) == [
        "best.pt",
        "epoch-0001.pt",
        "epoch-0002.pt",
        "epoch-0003.pt",
        "last.pt",
    ]
    assert rd.read_config().to_dict() == small_cfg().to_dict()
    info = rd.read_data_info()
    assert info["name"] == "digits" and info["num_features"] == 64 and info["num_classes"] == 10
    assert info["class_names"] == [str(d) for d in range(10)] and info["image_shape"] == [8, 8]
    assert info["sizes"] == {"train": 180, "val": 20, "test": 360}
    assert len(info["mean"]) == 1 and info["std"][0] > 0
    timing = rd.read_timing()
    assert [t["epoch"] for t in timing] == [1, 2, 3] and all(t["seconds"] > 0 for t in timing)
    weights = ember.load(rd.model)
    assert list(weights) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "out.weight", "out.bias"]
    last = load_checkpoint(rd.last)
    assert last["finished"] is True and last["epoch"] == 3 and last["global_step"] == 12
    assert last["metrics_bytes"] == os.path.getsize(rd.metrics)
    assert result == FitResult(rd.path, 3, result.metrics, result.best_epoch, False)


def test_metrics_lines(tmp_path):
    result, rd = run(tmp_path)
    records = rd.read_metrics()
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [(r["epoch"], r["step"]) for r in steps] == [(1, 3), (2, 6), (3, 9), (3, 12)]
    assert all(set(r) == {"kind", "epoch", "step", "loss", "lr"} for r in steps)
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 4), (2, 8), (3, 12)]
    for r in epochs:
        assert set(r) == {"kind", "epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}
        assert 0 <= r["train_acc"] <= 1 and 0 <= r["val_acc"] <= 1 and r["lr"] == 0.001
        assert r["val_acc"] * 20 == pytest.approx(round(r["val_acc"] * 20))  # a share of the 20 examples
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    test = records[-1]
    assert test["kind"] == "test" and (test["epoch"], test["step"]) == (3, 12)
    assert test["test_acc"] * 360 == pytest.approx(round(test["test_acc"] * 360))
    expected = {**epochs[-1], **test}
    del expected["kind"]
    assert result.metrics == expected and result.metrics["test_loss"] == test["test_loss"]
    # every line is plain JSON (no NaN) whose float text reads back exactly
    for line in open(rd.metrics, "rb").read().splitlines():
        assert json.dumps(json.loads(line)).encode() == line


def test_step_loss_is_the_mean_since_the_previous_line(tmp_path):
    _, per_step = run(tmp_path, "a", train__log_every=1)
    _, every_two = run(tmp_path, "b", train__log_every=2)
    losses = [r["loss"] for r in per_step.read_metrics("step")]
    pairs = [r["loss"] for r in every_two.read_metrics("step")]
    assert pairs == pytest.approx([(a + b) / 2 for a, b in zip(losses[::2], losses[1::2])], rel=1e-12)


def test_same_seed_same_bytes_other_seed_other_numbers(tmp_path):
    _, a = run(tmp_path, "a", model__dropout=0.2)
    _, b = run(tmp_path, "b", model__dropout=0.2)
    _, c = run(tmp_path, "c", model__dropout=0.2, train__seed=1)
    assert open(a.metrics, "rb").read() == open(b.metrics, "rb").read()
    assert a.read_metrics("test") != c.read_metrics("test")


def test_existing_folder_is_refused_unless_overwrite(tmp_path):
    _, rd = run(tmp_path)
    with pytest.raises(ConfigError, match=r"already exists and is not empty; pass --overwrite"):
        fit(small_cfg(), rd.path, out=io.StringIO())
    notes = os.path.join(rd.path, "notes.txt")
    open(notes, "w").write("mine")
    fit(small_cfg(**{"train.epochs": 1}), rd.path, overwrite=True, out=io.StringIO())
    assert [r["epoch"] for r in rd.read_metrics("epoch")] == [1]
    assert sorted(os.listdir(rd.checkpoints)) == ["best.pt", "epoch-0001.pt", "last.pt"]
    assert open(notes).read() == "mine"  # --overwrite removes only what a run writes


def test_bad_data_leaves_no_folder_behind(tmp_path):
    with pytest.raises(ConfigError, match="unknown data set"):
        fit(small_cfg(data__name="digitz"), str(tmp_path / "run"), out=io.StringIO())
    assert not (tmp_path / "run").exists()


def test_resume_checks(tmp_path):
    with pytest.raises(ConfigError, match="cannot resume: run folder .*nothing.* does not exist"):
        fit(None, str(tmp_path / "nothing"), resume=True)
    _, rd = run(tmp_path)
    with pytest.raises(
        ConfigError, match=r"different settings: it was started with train\.lr = 0\.001 \(asked for 0\.1\)"
    ):
        fit(small_cfg(train__lr=0.1), rd.path, resume=True, out=io.StringIO())
    with pytest.raises(ConfigError, match="needs a config"):
        fit(None, str(tmp_path / "new"))


def test_early_stopping(tmp_path):
    # A learning rate far below float32 resolution leaves the weights unchanged, so the validation loss
    # never improves after epoch 1.
    cfg = {"train__optimizer": "sgd", "train__lr": 1e-30, "train__epochs": 10, "train__patience": 2}
    result, rd = run(tmp_path, **cfg)
    assert result.stopped_early and result.epochs_run == 3 and result.best_epoch == 1
    out = io.StringIO()
    fit(small_cfg(**{**cfg, "train__epochs": 20}), rd.path, resume=True, out=out)  # more epochs change nothing
    assert f"run {rd.path} already stopped early after 3 epochs; nothing to do" in out.getvalue()
    assert [r["epoch"] for r in rd.read_metrics("epoch")] == [1, 2, 3]
    assert rd.read_metrics("test")[0]["epoch"] == 3
    assert load_checkpoint(rd.best)["epoch"] == 1


def test_no_validation_split_watches_the_training_loss(tmp_path):
    out = io.StringIO()
    fit(small_cfg(data__val_fraction=0.0), str(tmp_path / "run"), out=out)
    rd = RunDir(tmp_path / "run")
    epochs = rd.read_metrics("epoch")
    assert all(r["val_loss"] is None and r["val_acc"] is None for r in epochs)
    best_epoch = min(epochs, key=lambda r: r["train_loss"])["epoch"]
    assert load_checkpoint(rd.best)["extensions"]["early_stopping"]["best_epoch"] == best_epoch
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("split "))
    assert [line.split()[0] for line in lines[header + 1 : header + 3]] == ["train", "test"]


def test_schedule_steps_once_per_epoch(tmp_path):
    _, rd = run(tmp_path, train__schedule="step", train__step_size=1, train__gamma=0.5)
    assert [r["lr"] for r in rd.read_metrics("epoch")] == pytest.approx([1e-3, 5e-4, 2.5e-4])


def test_keep_limits_epoch_checkpoints(tmp_path):
    _, rd = run(tmp_path, train__epochs=4, train__keep=2)
    assert sorted(os.listdir(rd.checkpoints)) == ["best.pt", "epoch-0003.pt", "epoch-0004.pt", "last.pt"]
    _, rd0 = run(tmp_path, "none", train__keep=0)
    assert sorted(os.listdir(rd0.checkpoints)) == ["best.pt", "last.pt"]


def test_mid_epoch_checkpoints(tmp_path, monkeypatch):
    saved = []

    def record(paths, state):
        paths = [paths] if isinstance(paths, str) else paths
        saved.append(([os.path.basename(p) for p in paths], state["global_step"], state["step_in_epoch"]))

    monkeypatch.setattr(trainer, "_save_checkpoint", record)
    run(tmp_path, train__epochs=2, train__checkpoint_every=3)
    assert saved == [
        (["last.pt"], 3, 3),  # mid-epoch: only last.pt
        (["best.pt", "epoch-0001.pt", "last.pt"], 4, 0),  # epoch end (step 4), last.pt written last
        (["last.pt"], 6, 2),
        (["best.pt", "epoch-0002.pt", "last.pt"], 8, 0),
        (["last.pt"], 8, 0),  # the final one, marked finished
    ]


def test_nan_is_written_as_null():
    assert finite(float("nan")) is None and finite(math.inf) is None and finite(0.5) == 0.5 and finite(None) is None


def test_evaluate_run(tmp_path):
    _, rd = run(tmp_path)
    test = rd.read_metrics("test")[0]
    result = evaluate_run(rd.path)
    assert result.accuracy == test["test_acc"] and result.loss == pytest.approx(test["test_loss"], rel=1e-6)
    assert result.x.shape == (360, 64) and result.image_shape == (8, 8) and result.class_names[3] == "3"
    assert result.probs.shape == (360, 10)
    np.testing.assert_allclose(result.probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(result.y_pred, result.probs.argmax(axis=1))
    assert np.mean(result.y_pred == result.y_true) == result.accuracy
    last = evaluate_run(rd.path, split="val", checkpoint="last")
    assert last.accuracy == rd.read_metrics("epoch")[-1]["val_acc"] and len(last.y_true) == 20
    best = evaluate_run(rd.path, split="train", checkpoint="best")
    assert len(best.y_true) == 180
    with pytest.raises(ConfigError, match="split must be one of train, val, test"):
        evaluate_run(rd.path, split="validation")
    with pytest.raises(ConfigError, match="checkpoint must be one of"):
        evaluate_run(rd.path, checkpoint="first")
    os.remove(rd.model)
    with pytest.raises(ConfigError, match="model.pt does not exist .*--checkpoint last"):
        evaluate_run(rd.path)


def test_probabilities_per_loss():
    outputs = np.array([[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]], dtype=np.float32)
    soft = outputs_to_probs(outputs, "cross_entropy")
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(outputs_to_probs(np.log(soft), "nll"), soft, rtol=1e-5)
    mse = outputs_to_probs(np.array([[0.9, 0.3, -0.2], [0.0, 0.0, 0.0]], dtype=np.float32), "mse")
    np.testing.assert_allclose(mse, [[0.75, 0.25, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


def test_doctor_findings_are_logged_and_saved(tmp_path):
    result, rd = run(tmp_path, train__doctor=True, model__init="randn", train__doctor_every=2)
    logged = rd.read_metrics("doctor")
    assert logged and all(set(r) == {"kind", "epoch", "step", "findings"} for r in logged)
    kinds = [(f["kind"], f["layer"]) for r in logged for f in r["findings"]]
    assert ("bad_init", "fc1") in kinds
    assert len(kinds) == len(set(kinds))  # each finding is logged once, at the end of the epoch that found it
    final = rd.read_doctor()
    assert [(f["kind"], f["layer"]) for f in final] == kinds
    ckpt = load_checkpoint(rd.last)
    doctor = ckpt["extensions"]["doctor"]
    assert doctor["doctor"]["step"] == 12 and doctor["reported"] == len(kinds)
    for line in open(rd.metrics, "rb").read().splitlines():  # NaN in a finding's numbers is written as null
        assert b"NaN" not in line and b"Infinity" not in line


def test_no_doctor_no_doctor_file(tmp_path):
    _, rd = run(tmp_path)
    assert not os.path.exists(rd.doctor_json) and "doctor" not in load_checkpoint(rd.last)["extensions"]
    assert rd.read_doctor() == [] and rd.read_metrics("doctor") == []


def test_reading_logs_while_they_are_written(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"kind": "step", "step": 1}\n{"kind": "epoch", "epoch": 1}\n{"kind": "st')
    assert read_jsonl(str(path)) == [{"kind": "step", "step": 1}, {"kind": "epoch", "epoch": 1}]
    assert read_jsonl(str(path), "epoch") == [{"kind": "epoch", "epoch": 1}]
    assert read_jsonl(str(tmp_path / "missing.jsonl")) == []
    path.write_bytes(b'{"kind": "step"}\n{broken\n{"kind": "step"}\n')
    with pytest.raises(ConfigError, match=r"metrics.jsonl, line 2: not valid JSON"):
        read_jsonl(str(path))


def test_run_folder_that_is_a_file(tmp_path):
    target = tmp_path / "run"
    target.write_text("")
    with pytest.raises(ConfigError, match="is a file; choose another --run-dir"):
        RunDir(target).create()
    with pytest.raises(ConfigError, match="has no config.toml"):
        RunDir(tmp_path).read_config()


def test_early_stopping_keeps_the_best_epochs_weights_as_the_result(tmp_path):
    import numpy as np

    from ember import load

    out = io.StringIO()
    cfg = small_cfg(train__optimizer="sgd", train__lr=3.0, train__epochs=10, train__patience=2, train__doctor=False)
    result = fit(cfg, str(tmp_path / "run"), out=out)
    rd = RunDir(tmp_path / "run")
    assert result.stopped_early and result.best_epoch < result.epochs_run
    final = load(rd.model)
    best, last = load_checkpoint(rd.best)["model"], load_checkpoint(rd.last)["model"]
    assert all(np.array_equal(final[k].numpy(), best[k].numpy()) for k in best)
    assert any(not np.array_equal(final[k].numpy(), last[k].numpy()) for k in last)  # the trainer's state stays last
    text = out.getvalue()
    assert f"the weights of epoch {result.best_epoch}, the best validation loss" in text
    assert "for 2 epochs (best" in text


def test_resume_rewrites_a_missing_data_json(tmp_path):
    """A run folder without data.json (deleted, or from before the file existed) resumes and gets it back."""
    folder = str(tmp_path / "run")
    settings = {"data.limit": 100, "model.hidden": "8", "train.epochs": 1, "train.batch_size": 32}
    fit(load_config(None, settings), folder, out=io.StringIO())
    rd = RunDir(folder)
    with open(rd.data_json, encoding="utf-8") as f:
        before = f.read()
    os.remove(rd.data_json)
    fit(load_config(None, settings), folder, resume=True, out=io.StringIO())
    with open(rd.data_json, encoding="utf-8") as f:
        assert f.read() == before


def test_fit_closes_its_extensions(tmp_path, monkeypatch):
    """The doctor's hooks and the progress display are released when fit() returns."""
    from ember.train import extensions

    closed = []
    for cls in (extensions.DoctorWatch, extensions.ProgressDisplay):
        monkeypatch.setattr(cls, "close", lambda self, name=cls.__name__: closed.append(name))
    settings = {"data.limit": 100, "model.hidden": "8", "train.epochs": 1, "train.doctor_every": 1}
    fit(load_config(None, settings), str(tmp_path / "run"), out=io.StringIO())
    assert sorted(closed) == ["DoctorWatch", "ProgressDisplay"]


def test_timing_log_keeps_a_tenth_of_a_sample_per_second(tmp_path, monkeypatch):
    """timing.jsonl: seconds to 4 decimals, samples per second to 1 (a clock of 0.37 s per reading)."""
    import itertools
    import time

    ticks = itertools.count()
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * 0.37)
    folder = str(tmp_path / "run")
    fit(load_config(None, {"data.limit": 100, "model.hidden": "8", "train.epochs": 1}), folder, out=io.StringIO())
    (record,) = read_jsonl(RunDir(folder).timing)
    assert record == {"epoch": 1, "seconds": 0.37, "samples_per_s": round(90 / 0.37, 1)}

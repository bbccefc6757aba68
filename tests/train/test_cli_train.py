"""`ember train / eval / predict / summary`: flag mapping, run-folder naming, end-to-end runs and one-line errors."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import ember.train
from ember.cli import train as cli
from ember.cli.main import build_parser, main
from ember.data import digits_arrays
from ember.train.evaluate import evaluate_run
from ember.train.predict import Prediction
from ember.train.run_dir import RunDir

QUICK = ["--limit", "300", "--epochs", "2", "--no-doctor"]


def parse(*argv):
    return build_parser().parse_args(list(argv))


def run_main(capsys, *argv):
    """(exit status, stdout, stderr) of `ember argv...`."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A finished 3-epoch digits run (trained once for the whole module)."""
    path = str(tmp_path_factory.mktemp("runs") / "digits")
    assert main(["train", "--epochs", "3", "--no-doctor", "--run-dir", path, "--hidden", "32", "--lr", "0.01"]) == 0
    return path


# ------------------------------------------------------------------------------------------------- flags


def test_every_flag_maps_to_its_config_key():
    args = parse(
        "train",
        *("--data", "mnist", "--target", "y", "--data-root", "d", "--val-fraction", "0.2", "--test-fraction", "0.3"),
        *("--limit", "5", "--hidden", "8,4", "--activation", "tanh", "--init", "xavier", "--dropout", "0.1"),
        *("--batch-norm", "--loss", "nll", "--optimizer", "sgd", "--lr", "0.5", "--momentum", "0.9"),
        *("--weight-decay", "0.01", "--schedule", "step", "--step-size", "2", "--gamma", "0.5", "--epochs", "3"),
        *("--batch-size", "16", "--seed", "7", "--patience", "2", "--checkpoint-every", "4", "--keep", "1"),
        *("--log-every", "3", "--no-doctor", "--doctor-every", "6", "--set", "train.lr=0.25"),
    )
    overrides = cli.overrides_from_args(args)
    assert overrides == {
        "data.name": "mnist",
        "data.target": "y",
        "data.root": "d",
        "data.val_fraction": "0.2",
        "data.test_fraction": "0.3",
        "data.limit": "5",
        "model.hidden": "8,4",
        "model.activation": "tanh",
        "model.init": "xavier",
        "model.dropout": "0.1",
        "train.loss": "nll",
        "train.optimizer": "sgd",
        "train.lr": "0.25",  # --set comes last, so it wins over --lr
        "train.momentum": "0.9",
        "train.weight_decay": "0.01",
        "train.schedule": "step",
        "train.step_size": "2",
        "train.gamma": "0.5",
        "train.epochs": "3",
        "train.batch_size": "16",
        "train.seed": "7",
        "train.patience": "2",
        "train.checkpoint_every": "4",
        "train.keep": "1",
        "train.log_every": "3",
        "train.doctor_every": "6",
        "model.batch_norm": True,
        "train.doctor": False,
    }


def test_no_flags_means_no_overrides():
    assert cli.overrides_from_args(parse("train")) == {}


def test_config_file_then_flags(tmp_path, capsys):
    from ember.train import load_config

    path = tmp_path / "run.toml"
    path.write_text('[model]\nhidden = [16]\nactivation = "tanh"\n[train]\nlr = 0.5\n')
    args = parse("train", str(path), "--lr", "0.1")
    cfg = load_config(args.config, cli.overrides_from_args(args))
    assert cfg.model.hidden == [16] and cfg.model.activation == "tanh" and cfg.train.lr == 0.1


def test_bad_set_item_is_a_one_line_error(capsys):
    status, _, err = run_main(capsys, "train", "--set", "lr")
    assert (
        status == 2
        and err == "ember train: error: --set 'lr': expected SECTION.KEY=VALUE, e.g. --set train.log_every=5\n"
    )


# ------------------------------------------------------------------------------------------------- run folders


def test_default_run_dir_names_and_collisions(tmp_path):
    import time

    now = time.mktime((2024, 5, 17, 13, 4, 5, 0, 0, -1))
    first = ember.train.default_run_dir("digits", str(tmp_path), now)
    assert first == str(tmp_path / "digits-20240517-130405")
    os.makedirs(first)
    second = ember.train.default_run_dir("digits", str(tmp_path), now)
    assert second == first + "-2"
    os.makedirs(second)
    assert ember.train.default_run_dir("digits", str(tmp_path), now) == first + "-3"
    assert ember.train.run_dir_label("/data/my table (v2).csv") == "my-table-v2"
    assert ember.train.run_dir_label("fashion-mnist") == "fashion-mnist"


def test_train_without_run_dir_uses_runs_data_timestamp(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run_main(capsys, "train", "--limit", "100", "--epochs", "1", "--no-doctor")
    assert status == 0
    (name,) = os.listdir(tmp_path / "runs")
    assert name.startswith("digits-") and len(name) == len("digits-YYYYmmdd-HHMMSS")
    assert f"run folder: {os.path.join('runs', name)}" in out


# ------------------------------------------------------------------------------------------------- end to end


def test_train_writes_a_complete_run_folder(digits_run):
    rd = RunDir(digits_run)
    for name in ("config.toml", "data.json", "metrics.jsonl", "model.pt"):
        assert os.path.isfile(rd.file(name)), name
    cfg = rd.read_config()
    assert cfg.model.hidden == [32] and cfg.train.epochs == 3 and cfg.train.doctor is False
    epochs = rd.read_metrics("epoch")
    assert [r["epoch"] for r in epochs] == [1, 2, 3]
    (test,) = rd.read_metrics("test")
    assert test["test_acc"] > 0.85  # three epochs of a small MLP on the digits


def test_eval_prints_accuracy_and_per_class_table(digits_run, capsys):
    status, out, _ = run_main(capsys, "eval", digits_run)
    result = evaluate_run(digits_run)
    lines = out.splitlines()
    correct = int((result.y_true == result.y_pred).sum())
    assert status == 0 and f"accuracy {result.accuracy:.4f} ({correct}/360)" in lines[0]
    assert lines[1].split() == ["class", "n", "accuracy"] and len(lines) == 2 + 10
    assert sum(int(line.split()[1]) for line in lines[2:]) == 360


def test_predict_csv_and_float_idx_match_evaluate(digits_run, tmp_path, capsys):
    images, _ = digits_arrays("test")
    raw = images[:5].astype(np.float32) / 16
    csv_path = tmp_path / "rows.csv"
    np.savetxt(csv_path, raw.reshape(5, 64), delimiter=",", fmt="%.6f")
    idx_path = tmp_path / "five-idx3-float"
    idx_path.write_bytes(bytes([0, 0, 0x0D, 3]) + struct.pack(">III", 5, 8, 8) + raw.astype(">f4").tobytes())
    status, out, _ = run_main(capsys, "predict", digits_run, str(csv_path), str(idx_path))
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 10
    expected = evaluate_run(digits_run).probs[:5]
    for k in range(5):
        best = int(expected[k].argmax())
        for line, source in ((lines[k], f"{csv_path}:{k + 1}"), (lines[5 + k], f"{idx_path}:{k}")):
            assert line.startswith(f"{source}  -> {best}  (p={expected[k, best]:.2f}; next: ")


def test_predict_png_image(digits_run, tmp_path, capsys):
    from PIL import Image

    images, _ = digits_arrays("test")
    expected = evaluate_run(digits_run).probs
    agree = 0
    paths = []
    for k in range(10):
        path = tmp_path / f"digit{k}.png"
        # 4x larger, as a user's picture would be; predict shrinks it back to 8x8
        Image.fromarray(np.round(images[k].astype(np.float64) * 255 / 16).astype(np.uint8)).resize(
            (32, 32), Image.NEAREST
        ).save(path)
        paths.append(str(path))
    status, out, _ = run_main(capsys, "predict", digits_run, *paths)
    assert status == 0
    for k, line in enumerate(out.splitlines()):
        assert line.startswith(f"{paths[k]}  -> ")
        agree += line.split("  -> ")[1].split()[0] == str(expected[k].argmax())
    assert agree >= 8  # resizing blurs a little; nearly all predictions stay the same


def test_prediction_line_format():
    p = Prediction("a.png", np.array([0.01, 0.93, 0.04, 0.02]), ["cat", "dog", "owl", "emu"])
    assert p.line() == "a.png  -> dog  (p=0.93; next: owl 0.04, emu 0.02)"
    two = Prediction("t.csv:3", np.array([0.25, 0.75]), ["no", "yes"])
    assert two.line() == "t.csv:3  -> yes  (p=0.75; next: no 0.25)"


def test_summary_of_a_run_and_of_a_config(digits_run, tmp_path, capsys):
    status, out, _ = run_main(capsys, "summary", digits_run)
    assert status == 0 and "Linear-1                   [-1, 32]           2,080" in out
    assert "Total params: 2,410" in out and "(fc1): Linear(in_features=64, out_features=32, bias=True)" in out
    config = tmp_path / "c.toml"
    config.write_text('[data]\nname = "mnist"\n[model]\nhidden = [100]\nbatch_norm = true\n')
    status, out, _ = run_main(capsys, "summary", str(config))
    assert status == 0 and "784 features -> 10 classes" in out and "BatchNorm1d-2" in out
    assert f"Total params: {784 * 100 + 100 + 200 + 100 * 10 + 10:,}" in out


def test_csv_train_and_predict_with_and_without_label_column(flowers_csv, tmp_path, capsys):
    run = str(tmp_path / "flowers-run")
    status, _, _ = run_main(capsys, "train", "--data", flowers_csv, "--run-dir", run, "--epochs", "2", "--no-doctor")
    assert status == 0
    info = json.loads(open(RunDir(run).data_json).read())
    assert info["class_names"] == ["setosa", "versicolor", "virginica"] and info["image_shape"] is None
    with_label = tmp_path / "new.csv"
    with_label.write_text("sepal,petal,stem,species\n0.1,0.2,0.0,setosa\n2.0,1.9,2.1,virginica\n")
    without = tmp_path / "bare.csv"
    without.write_text("0.1,0.2,0.0\n2.0,1.9,2.1\n")
    status, out, _ = run_main(capsys, "predict", run, str(with_label), str(without))
    lines = out.splitlines()
    assert status == 0 and len(lines) == 4
    assert lines[0].startswith(f"{with_label}:2  -> ") and lines[2].startswith(f"{without}:1  -> ")
    assert lines[0].split("  -> ")[1] == lines[2].split("  -> ")[1]  # the label column is dropped, not used
    status, _, err = run_main(capsys, "predict", run, str(tmp_path / "digit.png"))
    assert status == 2 and "no such file" in err
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    status, _, err = run_main(capsys, "predict", run, str(png))
    assert (
        err
        == f"ember predict: error: {png}: this run was trained on table data, so it classifies CSV rows, not image files\n"
    )


# ------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--lr", "fast"], "--lr: train.lr must be a finite number, got 'fast'"),
        (["train", "--lr", "inf"], "--lr: train.lr must be a finite number, got 'inf'"),
        (["train", "--data", "digts"], "data.name: unknown data set 'digts' (did you mean 'digits'?)"),
        (["train", "--activation", "relu6"], "model.activation must be one of relu, leaky_relu"),
        (["eval", "nowhere"], "run folder 'nowhere' does not exist"),
        (["summary", "nothing.toml"], "'nothing.toml' is neither a run folder nor a config file"),
    ],
)
def test_config_errors_are_one_line_with_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_main(capsys, *argv)
    command = argv[0]
    assert status == 2 and out == ""
    assert err.startswith(f"ember {command}: error: {message}") and err.count("\n") == 1
    assert not os.path.exists(tmp_path / "runs")  # nothing was written


def test_existing_run_dir_is_refused_without_overwrite(digits_run, capsys):
    status, _, err = run_main(capsys, "train", "--run-dir", digits_run, *QUICK)
    assert status == 2 and "already exists and is not empty; pass --overwrite" in err


def test_resume_refuses_other_flags(digits_run, capsys):
    status, _, err = run_main(capsys, "train", "--resume", digits_run, "--lr", "0.1", "--overwrite")
    assert status == 2
    assert err == (
        f"ember train: error: --resume continues {digits_run} with its saved config.toml; only --epochs and "
        "--threads may change (got --lr, --overwrite)\n"
    )


def test_predict_idx_of_the_wrong_image_size(digits_run, tmp_path, capsys):
    path = tmp_path / "big-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 1, 28, 28) + bytes(784))
    status, _, err = run_main(capsys, "predict", digits_run, str(path))
    assert status == 2 and "holds an array of shape (1, 28, 28); the model takes 8x8 images" in err


def test_python_dash_m_ember_train(tmp_path):
    run = tmp_path / "sub"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}
    done = subprocess.run(
        [sys.executable, "-m", "ember", "train", "--run-dir", str(run), *QUICK],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert f"run folder: {run}" in done.stdout and (run / "model.pt").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "ember", "train", "--run-dir", str(run), *QUICK],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("ember train: error: ")


def test_relative_csv_path_is_saved_absolute(flowers_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, _, _ = run_main(
        capsys, "train", "--data", "flowers.csv", "--run-dir", "rel", "--epochs", "1", "--no-doctor"
    )
    assert status == 0
    assert RunDir(str(tmp_path / "rel")).read_config().data.name == str(tmp_path / "flowers.csv")
    # so the run can be evaluated from any folder
    monkeypatch.chdir(tmp_path.parent)
    status, out, _ = run_main(capsys, "eval", str(tmp_path / "rel"))
    assert status == 0 and "on test: accuracy" in out


def test_a_diverging_run_fails_loudly_and_writes_no_model(capsys, tmp_path):
    path = str(tmp_path / "diverged")
    argv = ["train", "--optimizer", "sgd", "--lr", "50", "--momentum", "0.9", "--epochs", "3", "--no-doctor"]
    status, _, err = run_main(capsys, *argv, "--run-dir", path)
    assert status == 1
    assert err.startswith("ember train: error: training diverged by the end of epoch 1: the training loss is nan")
    assert "Try a lower learning rate (train.lr is 50)" in err and err.count("\n") == 1
    assert not os.path.exists(os.path.join(path, "model.pt"))
    assert os.path.exists(os.path.join(path, "checkpoints", "last.pt"))  # kept, to look into
    status, _, err = run_main(capsys, "train", "--resume", path)  # resuming does not carry on with NaN weights
    assert status == 1 and "weights are not finite" in err
    assert not os.path.exists(os.path.join(path, "model.pt"))


def test_writes_killed_part_way_leave_nothing_that_blocks_or_lingers(capsys, tmp_path):
    # killed during the first config.toml write: only a temporary file and an empty checkpoints/ folder
    first = tmp_path / "first"
    (first / "checkpoints").mkdir(parents=True)
    (first / ".config.toml.0123456789ab.tmp").write_text("[data]\nna")
    status, _, err = run_main(capsys, "train", *QUICK, "--run-dir", str(first))
    assert status == 0, err
    assert not [n for n in os.listdir(first) if n.endswith(".tmp")]
    # killed during the model.pt and a checkpoint write of a run that is resumed later
    (first / ".model.pt.0123456789ab.tmp").write_bytes(b"PK\x03")
    (first / "checkpoints" / ".last.pt.ba9876543210.tmp").write_bytes(b"PK")
    status, _, err = run_main(capsys, "train", "--resume", str(first))
    assert status == 0, err
    leftovers = [n for n in os.listdir(first) + os.listdir(first / "checkpoints") if n.endswith(".tmp")]
    assert leftovers == []
    # a folder with anything else in it is still refused
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    status, _, err = run_main(capsys, "train", *QUICK, "--run-dir", str(tmp_path / "other"))
    assert status == 2 and "already exists and is not empty" in err


def test_version_and_the_hidden_list_are_checked(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("ember 0.1.0 (PyTorch's API as of torch 2.13.0)")
    status, _, err = run_main(capsys, "train", "--hidden", "12,,3")
    assert status == 2 and "model.hidden must be a list of integers, got '12,,3'" in err


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    # `ember train | head -1`: the reader leaves after one line; no BrokenPipeError traceback
    cmd = f"{sys.executable} -m ember train --limit 200 --epochs 3 --no-doctor --run-dir {tmp_path / 'r'} | head -1"
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert r.stdout.count("\n") == 1 and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr


def test_report_and_plot_never_write_over_a_runs_own_files(digits_run, capsys):
    before = {n: os.path.getmtime(os.path.join(digits_run, n)) for n in ("model.pt", "config.toml")}
    for argv in (
        ["report", digits_run, "-o", os.path.join(digits_run, "model.pt")],
        ["plot", "curves", digits_run, "-o", os.path.join(digits_run, "config.toml")],
        ["plot", "curves", digits_run, "-o", os.path.join(digits_run, "checkpoints", "last.pt")],
    ):
        status, _, err = run_main(capsys, *argv)
        assert status == 2 and err.startswith(f"ember {argv[0]}: error: ") and "refusing to write over" in err
    assert before == {n: os.path.getmtime(os.path.join(digits_run, n)) for n in ("model.pt", "config.toml")}


def test_a_file_given_for_a_run_folder_is_named_as_such(digits_run, capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    status, _, err = run_main(capsys, "eval", str(tmp_path / "notes.txt"))
    assert status == 2 and "notes.txt' is a file, not a run folder" in err
    status, _, err = run_main(capsys, "train", "--resume", os.path.join(digits_run, "config.toml"))
    assert status == 2 and f"is a file of the run folder '{os.path.abspath(digits_run)}'; give the folder itself" in err


def test_train_help_states_every_settings_default(capsys):
    with pytest.raises(SystemExit, match="^0$"):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # help lines are wrapped
    for flag, default in (("--lr X", "0.001"), ("--hidden 128,64", "128,64"), ("--init I", "default"),
                          ("--optimizer O", "adam"), ("--limit N", "0, all"), ("--patience P", "0, off")):  # fmt: skip
        start = text.rindex(flag)  # the options list, after the usage line
        assert f"(default: {default})" in text[start : text.index("--", start + len(flag))], flag


def test_the_doctor_speaks_when_it_finds_something_and_says_when_it_found_nothing(capsys, tmp_path):
    status, out, _ = run_main(capsys, "train", "--limit", "300", "--epochs", "2", "--init", "zeros",
                              "--run-dir", str(tmp_path / "zeros"))  # fmt: skip
    assert status == 0
    lines = out.splitlines()
    found = next(i for i, line in enumerate(lines) if line.startswith("doctor: error in epoch 1: bad initialisation"))
    assert found < next(i for i, line in enumerate(lines) if line.startswith("split "))  # before the final table
    status, out, _ = run_main(capsys, "train", "--limit", "300", "--epochs", "2", "--run-dir", str(tmp_path / "ok"))
    assert status == 0 and "Training doctor: no problems found in" in out


def test_the_doctors_advice_names_the_flags_and_groups_layers(capsys, tmp_path):
    status, out, _ = run_main(capsys, "train", "--epochs", "2", "--init", "zeros",  # 42 steps: the doctor samples steps 20 and 40 too
                              "--run-dir", str(tmp_path / "zeros"))  # fmt: skip
    report = out[out.index("Training doctor:") :]
    assert "Try: --init default (PyTorch's) or --init kaiming; never --init zeros." in " ".join(report.split())
    assert "nn.init" not in report  # advice for people writing their own loop stays out of ember train
    assert report.count("bad initialisation") == 1 and "The same in layer fc2." in " ".join(report.split())
    # the other findings point at the initialisation, not at the learning rate
    assert "--lr" not in report and "Try: fix the initialisation first" in " ".join(report.split())

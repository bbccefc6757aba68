"""The layout of a run folder: where each file lives, creating the folder, and reading its logs back."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Any

from .._atomic import is_temporary, remove_stale_temporaries, write_text_atomic
from .._jsonl import parse_jsonl
from .config import ConfigError, RunConfig, load_config

# What a run writes (ember train, plot, report); --overwrite removes exactly these, never anything else there.
RUN_FILES = (
    "config.toml",
    "data.json",
    "metrics.jsonl",
    "timing.jsonl",
    "model.pt",
    "doctor.json",
    "report.html",
    "curves.png",
    "confusion.png",
)
RUN_FOLDERS = ("checkpoints",)


def check_output_path(path: str | os.PathLike, produces: str) -> None:
    """Refuse an output path that would write over one of a run's own files (its model, config, logs,
    checkpoints); `produces` is the run file the command itself writes (report.html, curves.png, ...)."""
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    if os.path.basename(folder) == "checkpoints" and os.path.isfile(
        os.path.join(os.path.dirname(folder), "config.toml")
    ):
        raise ConfigError(f"{path}: refusing to write over a checkpoint of the run in {os.path.dirname(folder)}")
    if name in RUN_FILES and name != produces and os.path.isfile(os.path.join(folder, "config.toml")):
        raise ConfigError(f"{path}: refusing to write over the run's own {name} (choose another -o)")


# Where `ember train` puts a run that is not given a folder: runs/<data>-<YYYYmmdd-HHMMSS>.
RUNS_PARENT = "runs"
# The keys of data.json that evaluation, prediction and reports rely on.
DATA_INFO_KEYS = ("num_features", "num_classes", "class_names", "mean", "std")


class _InRun:
    """A path property of RunDir: one file or folder of the run (relative path with '/'), and what it holds."""

    def __init__(self, relative: str, doc: str) -> None:
        self.relative, self.__doc__ = relative, f"{relative}: {doc}"

    def __get__(self, run, owner=None):
        return self if run is None else os.path.join(run.path, *self.relative.split("/"))


class RunDir:
    """Paths inside one run folder, plus helpers to create it and read what training logged there."""

    config = _InRun("config.toml", "the resolved settings")
    data_json = _InRun("data.json", "what eval, predict and report need to know about the data")
    metrics = _InRun("metrics.jsonl", "deterministic step/epoch/doctor/test lines")
    timing = _InRun("timing.jsonl", "wall-clock seconds per epoch (not deterministic)")
    model = _InRun("model.pt", "the final model's state_dict")
    doctor_json = _InRun("doctor.json", "the training doctor's findings")
    report = _InRun("report.html", "written by `ember report`")
    checkpoints = _InRun("checkpoints", "the checkpoint folder")
    last = _InRun("checkpoints/last.pt", "the latest full training state")
    best = _InRun("checkpoints/best.pt", "the state at the best validation loss")

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"RunDir({self.path!r})"

    def file(self, name: str) -> str:
        """The path of name inside the run folder."""
        return os.path.join(self.path, name)

    def epoch_checkpoint(self, epoch: int) -> str:
        """checkpoints/epoch-NNNN.pt for a 1-based epoch number."""
        return os.path.join(self.checkpoints, f"epoch-{epoch:04d}.pt")

    def exists(self) -> bool:
        """Whether the folder holds a run (has a config.toml)."""
        return os.path.isfile(self.config)

    def is_empty(self) -> bool:
        """True when the folder does not exist or holds no run yet: nothing but an empty checkpoints/ and the
        temporary files of a write that was killed (the first config.toml, say)."""
        if not os.path.isdir(self.path):
            return True
        for name in os.listdir(self.path):
            if is_temporary(name):
                continue
            if name == "checkpoints" and os.path.isdir(self.checkpoints):
                if all(is_temporary(n) for n in os.listdir(self.checkpoints)):
                    continue
            return False
        return True

    def remove_stale_temporaries(self) -> None:
        """Remove what writes killed part-way left behind here (model.pt, doctor.json, checkpoint temporaries)."""
        remove_stale_temporaries(self.path)
        remove_stale_temporaries(self.checkpoints)

    def check_new(self, overwrite: bool = False) -> None:
        """Raise ConfigError unless a new run may start here: the folder is missing or empty, or overwrite."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ConfigError(f"run folder {self.path!r} is a file; choose another --run-dir")
        if not overwrite and not self.is_empty():
            raise ConfigError(
                f"run folder {self.path!r} already exists and is not empty; pass --overwrite to replace it, "
                f"--resume {self.path} to continue it, or choose another --run-dir"
            )

    def create(self, overwrite: bool = False) -> None:
        """Make the folder (and checkpoints/); a non-empty folder is refused unless overwrite, which clears it."""
        self.check_new(overwrite)
        if not self.is_empty():
            self.clear()
        os.makedirs(self.checkpoints, exist_ok=True)
        self.remove_stale_temporaries()

    def clear(self) -> None:
        """Remove what a previous run wrote here (only the files and folders a run creates)."""
        for name in RUN_FILES:
            try:
                os.remove(self.file(name))
            except FileNotFoundError:
                pass
        for name in RUN_FOLDERS:
            shutil.rmtree(self.file(name), ignore_errors=True)

    # ------------------------------------------------------------------ reading
    def not_a_run(self) -> str | None:
        """Why this path is not a run folder, in words (None when it is one)."""
        if os.path.isfile(self.path):
            inside = os.path.dirname(os.path.abspath(self.path))
            if os.path.isfile(os.path.join(inside, "config.toml")):
                return f"{self.path!r} is a file of the run folder {inside!r}; give the folder itself"
            return f"{self.path!r} is a file, not a run folder"
        if not os.path.isdir(self.path):
            return f"run folder {self.path!r} does not exist (train one with `ember train`)"
        if not os.path.isfile(self.config):
            return f"{self.path!r} is not a run folder: it has no config.toml"
        return None

    def read_config(self) -> RunConfig:
        """The run's config.toml as a RunConfig."""
        problem = self.not_a_run()
        if problem is not None:
            raise ConfigError(problem)
        return load_config(self.config)

    def read_data_info(self) -> dict[str, Any]:
        """The contents of data.json (checked to hold what eval, predict and report read from it)."""
        try:
            with open(self.data_json, encoding="utf-8") as f:
                info = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"{self.path!r} has no data.json; was the run started by `ember train`?") from None
        except ValueError as e:
            raise ConfigError(f"{self.data_json}: not valid JSON ({e}); the file is damaged") from None
        for key in DATA_INFO_KEYS:
            if not isinstance(info, dict) or key not in info:
                raise ConfigError(f"{self.data_json}: missing key {key!r}; the file is damaged, re-run ember train")
        return info

    def read_metrics(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The metrics.jsonl records (only those of one kind when given); a half-written last line is skipped."""
        return read_jsonl(self.metrics, kind)

    def read_timing(self) -> list[dict[str, Any]]:
        """The timing.jsonl records."""
        return read_jsonl(self.timing)

    def read_doctor(self) -> list[dict[str, Any]]:
        """The findings in doctor.json ([] when the doctor did not run)."""
        try:
            with open(self.doctor_json, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return []
        except ValueError as e:
            raise ConfigError(f"{self.doctor_json}: not valid JSON ({e}); the file is damaged") from None


def read_jsonl(path: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The JSON objects of a .jsonl file (only those of one kind when given), skipping a trailing line still
    being written; [] if there is no file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    records = parse_jsonl(text, path, ConfigError)
    return records if kind is None else [r for r in records if r.get("kind") == kind]


def write_json_atomic(path: str, obj: Any) -> None:
    """Write obj as indented JSON atomically, so readers never see half a file."""
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def run_dir_label(data_name: str) -> str:
    """The data part of a default run folder name: the data set name, or a CSV file's stem, made filename-safe."""
    from .data import BUILTIN_DATA

    label = data_name if data_name in BUILTIN_DATA else os.path.splitext(os.path.basename(data_name))[0]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "data"


def default_run_dir(data_name: str, parent: str = RUNS_PARENT, now: float | None = None) -> str:
    """runs/<data>-<YYYYmmdd-HHMMSS>, with -2, -3, ... appended when that folder is already taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = os.path.join(parent, f"{run_dir_label(data_name)}-{stamp}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path

"""Reading what a training run leaves in its folder: metrics.jsonl, data.json, config.toml and doctor.json."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from ember.train import RunDir

from .._jsonl import parse_jsonl


class RunFolderError(ValueError):
    """A run folder that is missing, or lacks a file the command needs; the message is one line."""


@dataclasses.dataclass
class RunMetrics:
    """The lines of metrics.jsonl sorted by kind."""

    epochs: list[dict[str, Any]]  # {"kind": "epoch", ...} in file order
    steps: list[dict[str, Any]]  # {"kind": "step", ...}
    doctor: list[dict[str, Any]]  # {"kind": "doctor", ...}
    test: dict[str, Any] | None  # the final {"kind": "test", ...} line, when training finished

    def steps_per_epoch(self) -> float | None:
        """Optimizer steps in one epoch, read from the first epoch line (None before an epoch has ended)."""
        for line in self.epochs:
            if line.get("epoch") and line.get("step"):
                return line["step"] / line["epoch"]
        return None


def run_path(run_dir: str | os.PathLike) -> Path:
    """The run folder as a Path; raises RunFolderError when it is not a folder holding metrics.jsonl."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"run folder {str(path)!r} does not exist (train one with `ember train`)")
    if not Path(RunDir(path).metrics).is_file():
        raise RunFolderError(
            f"{str(path)!r} is not a run folder: it has no metrics.jsonl (train one with `ember train`)"
        )
    return path


# The values the curves and tables read as numbers (a missing one, or null, is fine: it leaves a gap).
NUMERIC_KEYS = ("epoch", "step", "loss", "train_loss", "val_loss", "train_acc", "val_acc", "test_loss", "test_acc")


def parse_metrics_text(text: str, source: str = "metrics.jsonl") -> list[dict[str, Any]]:
    """Every complete JSON line of the text (a torn last line, a run still writing, is left out), each checked
    to hold numbers where the report reads numbers."""
    records = parse_jsonl(text, source, RunFolderError)
    for number, record in enumerate(records, start=1):
        for key in NUMERIC_KEYS:
            value = record.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise RunFolderError(
                    f"{source}: record {number} ({record.get('kind', '?')}) has {key} = {value!r}, not a number; "
                    "was the file edited by hand?"
                )
    return records


def split_metrics(records: list[dict[str, Any]]) -> RunMetrics:
    """Sort metrics records by their "kind"; unknown kinds are ignored so newer files stay readable."""
    metrics = RunMetrics(epochs=[], steps=[], doctor=[], test=None)
    for record in records:
        kind = record.get("kind")
        if kind == "epoch":
            metrics.epochs.append(record)
        elif kind == "step":
            metrics.steps.append(record)
        elif kind == "doctor":
            metrics.doctor.append(record)
        elif kind == "test":
            metrics.test = record
    return metrics


def read_metrics(run_dir: str | os.PathLike) -> RunMetrics:
    """The run's metrics.jsonl, parsed and sorted by kind."""
    path = Path(RunDir(run_path(run_dir)).metrics)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RunFolderError(f"{path}: not UTF-8 text at byte {e.start}; the file is damaged") from None
    return split_metrics(parse_metrics_text(text, source=str(path)))


def read_json(path: str | os.PathLike) -> Any | None:
    """A run file (e.g. RunDir(run).doctor_json) parsed as JSON, or None when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{path}: not valid JSON ({e.msg}); delete it or re-create the run")


def read_config(run_dir: str | os.PathLike) -> dict[str, dict[str, Any]] | None:
    """RUN/config.toml as nested dicts (section -> key -> value), or None when the file does not exist."""
    path = Path(RunDir(run_dir).config)
    if not path.is_file():
        return None
    from ember.train import load_config

    return load_config(path).to_dict()

"""The layout of a run folder: where each file lives, creating the folder, and reading its logs back."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from typing import Any

from .config import ConfigError, RunConfig, load_config

# What a run writes; --overwrite removes exactly these, never anything else the folder may hold.
RUN_FILES = ("config.toml", "data.json", "metrics.jsonl", "timing.jsonl", "model.pt", "doctor.json", "report.html")
RUN_FOLDERS = ("checkpoints",)


class RunDir:
    """Paths inside one run folder, plus helpers to create it and read what training logged there."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"RunDir({self.path!r})"

    def file(self, name: str) -> str:
        """The path of name inside the run folder."""
        return os.path.join(self.path, name)

    @property
    def config(self) -> str:
        """config.toml: the resolved settings."""
        return self.file("config.toml")

    @property
    def data_json(self) -> str:
        """data.json: what eval, predict and report need to know about the data."""
        return self.file("data.json")

    @property
    def metrics(self) -> str:
        """metrics.jsonl: deterministic step/epoch/doctor/test lines."""
        return self.file("metrics.jsonl")

    @property
    def timing(self) -> str:
        """timing.jsonl: wall-clock seconds per epoch (not deterministic)."""
        return self.file("timing.jsonl")

    @property
    def model(self) -> str:
        """model.pt: the final model's state_dict."""
        return self.file("model.pt")

    @property
    def doctor_json(self) -> str:
        """doctor.json: the training doctor's findings."""
        return self.file("doctor.json")

    @property
    def report(self) -> str:
        """report.html: written by `ember report`."""
        return self.file("report.html")

    @property
    def checkpoints(self) -> str:
        """The checkpoints/ folder."""
        return self.file("checkpoints")

    @property
    def last(self) -> str:
        """checkpoints/last.pt: the latest full training state."""
        return os.path.join(self.checkpoints, "last.pt")

    @property
    def best(self) -> str:
        """checkpoints/best.pt: the state at the best validation loss."""
        return os.path.join(self.checkpoints, "best.pt")

    def epoch_checkpoint(self, epoch: int) -> str:
        """checkpoints/epoch-NNNN.pt for a 1-based epoch number."""
        return os.path.join(self.checkpoints, f"epoch-{epoch:04d}.pt")

    def exists(self) -> bool:
        """Whether the folder holds a run (has a config.toml)."""
        return os.path.isfile(self.config)

    def is_empty(self) -> bool:
        """True when the folder does not exist or has nothing in it."""
        return not os.path.isdir(self.path) or not os.listdir(self.path)

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
    def read_config(self) -> RunConfig:
        """The run's config.toml as a RunConfig."""
        if not os.path.isfile(self.config):
            raise ConfigError(f"{self.path!r} is not a run folder: it has no config.toml")
        return load_config(self.config)

    def read_data_info(self) -> dict[str, Any]:
        """The contents of data.json."""
        try:
            with open(self.data_json, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"{self.path!r} has no data.json; was the run started by `ember train`?") from None
        except ValueError as e:
            raise ConfigError(f"{self.data_json}: not valid JSON ({e}); the file is damaged") from None

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
    """The JSON objects of a .jsonl file, skipping a trailing line still being written; [] if there is no file."""
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        return []
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):  # no newline yet: a writer is in the middle of this line
                break
            raise ConfigError(f"{path}, line {number}: not valid JSON; the file is damaged") from None
        if kind is None or record.get("kind") == kind:
            records.append(record)
    return records


def write_json_atomic(path: str, obj: Any) -> None:
    """Write obj as indented JSON through a temporary file renamed into place, so readers never see half a file."""
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Write text through a temporary file renamed into place."""
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise

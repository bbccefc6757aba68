"""Training checkpoints: atomic save, load with a clear error, keep-k pruning, and picking the one to resume from."""

from __future__ import annotations

import glob
import io
import os
import re
from typing import Any

from .._atomic import remove_quietly, sync_folder, temporary_beside
from ..serialization import load, save

FORMAT = "ember-train-checkpoint"
VERSION = 2  # 2: extension states under "extensions"; version 1 kept them as top-level entries
READABLE_VERSIONS = (1, 2)
_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read or is not a training checkpoint; the message names the file."""


def save_checkpoint(paths: str | list[str], state: dict[str, Any]) -> None:
    """Write a training state dict to one or more paths, each atomically (a temporary file renamed into place).

    The state is serialised once and written to each path as a file of its own (never hard links: damage to
    one file, in place, must leave the others whole). They are placed in the order given, so list last.pt
    last: a crash part-way then leaves last.pt at the previous state, and resuming from it rewrites the others.
    """
    buffer = io.BytesIO()
    save({"format": FORMAT, "version": VERSION, **state}, buffer)
    data = buffer.getvalue()
    paths = [paths] if isinstance(paths, str) else list(paths)
    for path in paths:
        _write_file(path, data)
    for folder in {os.path.dirname(os.path.abspath(p)) for p in paths}:
        sync_folder(folder)


def _write_file(path: str, data: bytes) -> None:
    """Atomically make path hold data: written to a temporary file beside it, flushed, renamed into place."""
    tmp = temporary_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read a training checkpoint; a missing, truncated or foreign file raises CheckpointError naming it."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = load(path)
    except Exception as e:  # noqa: BLE001 - any failure to parse means the file is unusable
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(f"checkpoint {path} cannot be read (truncated or corrupt?): {reason}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an ember training checkpoint (no format = {FORMAT!r} entry)")
    if state.get("version") not in READABLE_VERSIONS:
        raise CheckpointError(
            f"checkpoint {path} has version {state.get('version')!r}; this ember reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    return state


def epoch_checkpoints(folder: str) -> list[tuple[int, str]]:
    """(epoch, path) of every epoch-NNNN.pt in folder, oldest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(folder), "epoch-*.pt")):
        match = _EPOCH_FILE.match(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def prune_epoch_checkpoints(folder: str, keep: int) -> list[str]:
    """Delete all but the newest `keep` epoch-NNNN.pt files; returns the deleted paths."""
    files = epoch_checkpoints(folder)
    doomed = [path for _, path in files[: max(len(files) - keep, 0)]]
    for path in doomed:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    return doomed


def find_resume_checkpoint(folder: str) -> tuple[str | None, dict[str, Any] | None, list[str]]:
    """The checkpoint to resume from: last.pt, else the most advanced readable epoch checkpoint or best.pt.

    Returns (path, state, notes); path and state are None when no checkpoint was ever written. notes are
    one-line messages about unreadable files that were skipped. When checkpoints exist but none can be read,
    CheckpointError is raised naming them.
    """
    last = os.path.join(folder, "last.pt")
    notes: list[str] = []
    if os.path.isfile(last):
        try:
            return last, load_checkpoint(last), notes
        except CheckpointError as e:
            notes.append(str(e))
    # The newest readable epoch checkpoint, or best.pt if that one got further.
    fallback: tuple[str, dict[str, Any]] | None = None
    for _, path in reversed(epoch_checkpoints(folder)):
        try:
            fallback = (path, load_checkpoint(path))
            break
        except CheckpointError as e:
            notes.append(str(e))
    best = os.path.join(folder, "best.pt")
    if os.path.isfile(best):
        try:
            state = load_checkpoint(best)
            if fallback is None or state["global_step"] > fallback[1]["global_step"]:
                fallback = (best, state)
        except CheckpointError as e:
            notes.append(str(e))
    if fallback is not None:
        return fallback[0], fallback[1], notes
    if notes:
        raise CheckpointError("no readable checkpoint to resume from: " + "; ".join(notes))
    return None, None, notes

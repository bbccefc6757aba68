"""A dashboard server running in a thread over temporary run folders, and metrics lines to feed it."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from ember.dashboard import make_server


def epoch_line(epoch: int, steps_per_epoch: int = 5) -> str:
    """One "epoch" metrics line as training writes it (loss falling, accuracy rising with the epoch)."""
    record = {
        "kind": "epoch",
        "epoch": epoch,
        "step": epoch * steps_per_epoch,
        "train_loss": round(2.0 / epoch, 6),
        "train_acc": min(1.0, 0.3 + 0.1 * epoch),
        "val_loss": round(2.2 / epoch, 6),
        "val_acc": min(1.0, 0.25 + 0.1 * epoch),
        "lr": 0.001,
    }
    return json.dumps(record) + "\n"


def step_line(epoch: int, step: int) -> str:
    return json.dumps({"kind": "step", "epoch": epoch, "step": step, "loss": 2.5 / step, "lr": 0.001}) + "\n"


def write_run(folder: Path, epochs: int) -> Path:
    """A run folder whose metrics.jsonl has a step line and an epoch line for each of `epochs` epochs."""
    folder.mkdir(parents=True)
    text = "".join(step_line(e, 5 * e - 2) + epoch_line(e) for e in range(1, epochs + 1))
    (folder / "metrics.jsonl").write_text(text)
    return folder


@contextlib.contextmanager
def running_server(*paths):
    """A dashboard on 127.0.0.1 with a free port, serving from a background thread; yields the server."""
    server = make_server(list(paths), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

"""The parts of `ember train`'s loop besides the update itself: each is an Extension with the same few hooks.

The trainer runs the update (forward, loss, backward, optimizer step) and the epoch bookkeeping; after each
step, at the end of each epoch and when training ends it calls its extensions in order. An extension whose
state must survive a crash returns it from state_dict(); checkpoints keep those states under the
extensions' names, and a resume hands each its own back. What an extension may use of the loop is the
small `Loop` interface below (the trainer implements it), so an extension needs nothing else of the
trainer and the trainer nothing of any extension beyond these hooks.
"""

from __future__ import annotations

import math
from typing import Any, Protocol


class Loop(Protocol):
    """What an extension sees of the training loop."""

    epoch: int  # completed epochs (during an epoch: the ones before it)
    global_step: int  # optimizer steps so far

    def log(self, record: dict[str, Any]) -> None:
        """Append one line to metrics.jsonl."""

    def message(self, text: str) -> None:
        """Print a line for the user (above the progress bar)."""

    def learning_rate(self) -> float:
        """The first parameter group's current learning rate."""

    def epoch_sums(self) -> tuple[int, float, int]:
        """The epoch in progress so far: (samples, sum of batch loss x batch size, correct predictions)."""


class Extension:
    """One part of the loop: hooks called in order, and state kept in checkpoints under `name`."""

    name = ""

    def start_epoch(self, loop: Loop, epoch: int, done: int) -> None:
        """An epoch begins (or resumes after `done` of its samples)."""

    def after_step(self, loop: Loop, loss: Any, loss_value: float, optimizer: Any) -> None:
        """One optimizer step is done; loss is the step's loss tensor, loss_value its float."""

    def after_epoch(self, loop: Loop, record: dict[str, Any]) -> None:
        """An epoch ended; record is its metrics line (already logged)."""

    def after_training(self, loop: Loop, run_dir: Any) -> None:
        """Training ended (the test line is logged and model.pt saved)."""

    def state_dict(self) -> dict[str, Any] | None:
        """What a resumed run needs to continue exactly; None when nothing."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a state returned by state_dict."""

    def close(self) -> None:
        """Release what the extension holds (hooks, files)."""


def finite(value: float | None) -> float | None:
    """A float for metrics.jsonl; NaN and infinities become null so every JSON reader accepts the file."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class StepLog(Extension):
    """A "step" line in metrics.jsonl every `every` steps: the mean loss of those steps and the learning rate."""

    name = "step_log"

    def __init__(self, every: int) -> None:
        self.every = every
        self.loss_sum, self.steps = 0.0, 0

    def after_step(self, loop: Loop, loss: Any, loss_value: float, optimizer: Any) -> None:
        self.loss_sum += loss_value
        self.steps += 1
        if loop.global_step % self.every == 0:
            mean = self.loss_sum / self.steps
            record = {"kind": "step", "epoch": loop.epoch + 1, "step": loop.global_step}
            loop.log({**record, "loss": finite(mean), "lr": loop.learning_rate()})
            self.loss_sum, self.steps = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        return {"loss_sum": self.loss_sum, "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss_sum, self.steps = float(state["loss_sum"]), int(state["steps"])


class EarlyStopping(Extension):
    """Follows the validation loss (the training loss without a validation split): which epoch was best, and
    whether `patience` epochs in a row brought no improvement (patience 0: never stop)."""

    name = "early_stopping"

    def __init__(self, patience: int, validation: bool) -> None:
        self.patience = patience
        self.validation = validation  # whether there is a validation split to follow
        self.best_loss: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.stopped = False
        self.improved = False  # whether the epoch that just ended was the best so far

    def after_epoch(self, loop: Loop, record: dict[str, Any]) -> None:
        # (the record holds None for a NaN or infinite loss, which never counts as better)
        monitored = record["val_loss"] if self.validation else record["train_loss"]
        self.improved = monitored is not None and (self.best_loss is None or monitored < self.best_loss)
        if self.improved:
            self.best_loss, self.best_epoch, self.bad_epochs = float(monitored), record["epoch"], 0
        else:
            self.bad_epochs += 1
            self.stopped = bool(self.patience) and self.bad_epochs >= self.patience

    def stop_message(self) -> str:
        """Why training stopped, for the user."""
        what = "validation" if self.validation else "training"
        return (
            f"stopping early: no better {what} loss for {self.bad_epochs} epoch{'s' if self.bad_epochs != 1 else ''} "
            f"(best {self.best_loss:.4f} at epoch {self.best_epoch})"
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "stopped": self.stopped,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_loss, self.best_epoch = state["best_loss"], state["best_epoch"]
        self.bad_epochs, self.stopped = int(state["bad_epochs"]), bool(state["stopped"])


# What to change, for each kind of finding, in the words of `ember train`'s own flags
FLAG_ADVICE = {
    "dead_relu": "--init kaiming, --activation leaky_relu (or elu), or a lower --lr.",
    "saturation": "--init xavier for tanh/sigmoid, --activation relu, or --batch-norm.",
    "vanishing_gradients": "--init kaiming, --activation relu or leaky_relu, or --batch-norm.",
    "exploding_gradients": "a lower --lr (divide it by 10), --batch-norm, or --schedule step.",
    "loss_not_decreasing": "another --lr (try 10x higher and 10x lower), or --optimizer adam.",
    "nan": "a lower --lr (divide it by 10 or more), or --batch-norm.",
    "lr_too_high": "a lower --lr (divide it by 10), or --schedule cosine.",
    "lr_too_low": "a higher --lr (10x to 100x), or --optimizer adam.",
    "bad_init": "--init default (PyTorch's) or --init kaiming; never --init zeros.",
}
AFTER_BAD_INIT = "fix the initialisation first (the bad_init finding above): --init default or --init kaiming."


class DoctorWatch(Extension):
    """The training doctor: statistics after each step, new findings logged at each epoch's end, doctor.json
    and the printed report when training ends."""

    name = "doctor"

    def __init__(self, doctor: Any) -> None:
        self.doctor = doctor
        self.reported = 0  # findings already written to metrics.jsonl

    def after_step(self, loop: Loop, loss: Any, loss_value: float, optimizer: Any) -> None:
        self.doctor.step(loss, optimizer)  # after the update, so its update-size check sees this step's update

    def after_epoch(self, loop: Loop, record: dict[str, Any]) -> None:
        findings = self.doctor.findings()
        new = findings[self.reported :]
        if new:
            rows = [json_safe(f.to_dict()) for f in new]
            loop.log({"kind": "doctor", "epoch": record["epoch"], "step": loop.global_step, "findings": rows})
            self.reported = len(findings)
            for f in new:  # said when found, not only at the end (the full advice follows the final table)
                where = f" in layer {f.layer}" if f.layer is not None else ""
                when = f" at step {f.step}" if f.step is not None else ""
                loop.message(f"doctor: {f.severity} in epoch {record['epoch']}: {f.title}{where}{when}")

    def after_training(self, loop: Loop, run_dir: Any) -> None:
        from .run_dir import write_json_atomic

        findings = self.doctor.findings()
        write_json_atomic(run_dir.doctor_json, [json_safe(f.to_dict()) for f in findings])

    def report(self, loop: Loop) -> None:
        """Print the doctor's findings (with the flags of `ember train` to change), or one line saying it found nothing."""
        advice = FLAG_ADVICE
        if any(f.kind == "bad_init" for f in self.doctor.findings()):
            # a broken initialisation causes the rest: the learning rate is not what to change
            advice = {**FLAG_ADVICE, **{kind: AFTER_BAD_INIT for kind in FLAG_ADVICE if kind != "bad_init"}}
        loop.message(self.doctor.report(advice=advice))

    def state_dict(self) -> dict[str, Any]:
        return {"doctor": self.doctor.state_dict(), "reported": self.reported}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("doctor") is not None:
            self.doctor.load_state_dict(state["doctor"])
        self.reported = int(state["reported"])

    def close(self) -> None:
        self.doctor.close()


class ProgressDisplay(Extension):
    """The progress bar (or one line per epoch) on the terminal; it keeps no state of its own."""

    name = "progress"

    def __init__(self, progress: Any, epoch_seconds: Any) -> None:
        self.progress = progress
        self.epoch_seconds = epoch_seconds  # () -> (seconds, samples per second) of the epoch that just ended

    def start_epoch(self, loop: Loop, epoch: int, done: int) -> None:
        self.progress.start_epoch(epoch, done)

    def after_step(self, loop: Loop, loss: Any, loss_value: float, optimizer: Any) -> None:
        count, loss_sum, correct = loop.epoch_sums()
        self.progress.update(count, loss_sum / count, correct / count)

    def after_epoch(self, loop: Loop, record: dict[str, Any]) -> None:
        seconds, samples_per_s = self.epoch_seconds()
        self.progress.end_epoch(record, seconds, samples_per_s)

    def close(self) -> None:
        self.progress.close()


def json_safe(value: Any) -> Any:
    """value with NaN and infinities replaced by None, at any depth, so the JSON written is standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def legacy_states(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The extension states of a version-1 checkpoint, which kept them as top-level entries."""
    return {
        "step_log": {"loss_sum": ckpt["log_window"]["loss_sum"], "steps": ckpt["log_window"]["steps"]},
        "early_stopping": {
            "best_loss": ckpt["best_val_loss"],
            "best_epoch": ckpt["best_epoch"],
            "bad_epochs": ckpt["bad_epochs"],
            "stopped": ckpt["stopped_early"],
        },
        "doctor": {"doctor": ckpt.get("doctor"), "reported": ckpt.get("doctor_reported", 0)},
    }

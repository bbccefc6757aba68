"""What `ember train` prints: a live bar per epoch on a terminal (tqdm), else one line per epoch; a final table."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

REFRESH_SECONDS = 0.1  # redraw the bar at most ~10 times a second: drawing costs more than a training step


def _tqdm_class():
    """tqdm's bar class, or None when tqdm is not installed (then plain lines are printed)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def format_duration(seconds: float) -> str:
    """A short human duration: '0.4 s', '12 s', '3 min 05 s', '1 h 02 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _loss_acc(loss: float | None, acc: float | None) -> str:
    loss_text = "nan" if loss is None else f"{loss:.4f}"
    acc_text = "-" if acc is None else f"{acc:.1%}"
    return f"loss {loss_text} acc {acc_text}"


def epoch_summary(record: dict[str, Any]) -> str:
    """'train loss 0.4123 acc 87.1%  val loss 0.4410 acc 86.0%  lr 0.001' from an epoch metrics record."""
    parts = ["train " + _loss_acc(record.get("train_loss"), record.get("train_acc"))]
    if record.get("val_loss") is not None:
        parts.append("val " + _loss_acc(record["val_loss"], record.get("val_acc")))
    parts.append(f"lr {record['lr']:.3g}")
    return "  ".join(parts)


def format_epoch_line(record: dict[str, Any], total_epochs: int, seconds: float, samples_per_s: float) -> str:
    """The one-line epoch report printed when the output is not a terminal."""
    return (
        f"epoch {record['epoch']}/{total_epochs}  {epoch_summary(record)}  "
        f"{format_duration(seconds)}  {samples_per_s:,.0f} samples/s"
    )


def fit_epoch_line(record: dict[str, Any], total_epochs: int, seconds: float, eta: str, width: int) -> str:
    """The epoch's line for a terminal `width` columns wide: epoch, training and validation numbers always
    (short forms), then the learning rate, the time and the ETA while they fit."""

    def pair(loss, acc) -> str:
        return ("nan" if loss is None else f"{loss:.4f}") + " " + ("-" if acc is None else f"{acc:.1%}")

    line = f"epoch {record['epoch']}/{total_epochs}  train {pair(record.get('train_loss'), record.get('train_acc'))}"
    if record.get("val_loss") is not None or record.get("val_acc") is not None:
        line += f"  val {pair(record.get('val_loss'), record.get('val_acc'))}"
    for extra in (f"lr {record['lr']:.3g}", format_duration(seconds), eta):
        if extra and len(line) + 2 + len(extra) <= width:
            line += "  " + extra
    return line


def format_table(rows: list[tuple[str, float | None, float | None]]) -> str:
    """The final results table: one row (split, loss, accuracy) per split; None prints as '-'."""
    width = max([len("split")] + [len(name) for name, _, _ in rows])
    lines = [f"{'split':<{width}}  {'loss':>8}  {'accuracy':>8}"]
    for name, loss, acc in rows:
        loss_text = "-" if loss is None else f"{loss:.4f}"
        acc_text = "-" if acc is None else f"{acc:.2%}"
        lines.append(f"{name:<{width}}  {loss_text:>8}  {acc_text:>8}")
    return "\n".join(lines)


class Progress:
    """Reports training progress to out: a tqdm bar per epoch on a terminal, else exactly one line per epoch."""

    def __init__(self, out: TextIO | None, total_epochs: int, samples_per_epoch: int, bar: bool | None = None) -> None:
        self.out = sys.stdout if out is None else out
        self.total_epochs = total_epochs
        self.samples_per_epoch = samples_per_epoch
        tqdm = _tqdm_class() if (bar is None or bar) else None
        if bar and tqdm is None:
            raise ImportError("a progress bar needs the optional 'tqdm' package (pip install ember[progress])")
        self._tqdm = tqdm if (bar or (bar is None and _is_terminal(self.out))) else None
        self._bar = None
        self._epoch = 0
        self._shown = 0  # samples the bar has been told about
        self._next_refresh = 0.0
        self._epoch_seconds: list[float] = []

    @property
    def uses_bar(self) -> bool:
        """Whether a live tqdm bar is drawn."""
        return self._tqdm is not None

    def message(self, text: str) -> None:
        """Print a line of its own (resume notes, early stopping, where files went)."""
        if self._bar is not None:
            self._bar.write(text, file=self.out)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def start_epoch(self, epoch: int, samples_done: int = 0) -> None:
        """Begin the bar of a 1-based epoch; samples_done > 0 when resuming in the middle of it."""
        self._epoch = epoch
        self._shown = samples_done
        self._next_refresh = 0.0
        if self._tqdm is not None:
            self._bar = self._tqdm(
                total=self.samples_per_epoch,
                initial=samples_done,
                desc=f"epoch {epoch}/{self.total_epochs}",
                unit="sample",
                unit_scale=True,
                file=self.out,
                leave=False,  # the finished epoch is reported by a line sized to the terminal instead
                mininterval=REFRESH_SECONDS,
                dynamic_ncols=True,
            )

    def update(self, samples_done: int, loss: float, acc: float) -> None:
        """Called after every step with the epoch's running mean loss and accuracy; redraws at most ~10 times/s."""
        if self._bar is None:
            return
        now = time.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + REFRESH_SECONDS
        self._bar.set_postfix_str(_loss_acc(loss, acc), refresh=False)
        self._bar.update(samples_done - self._shown)
        self._shown = samples_done

    def end_epoch(self, record: dict[str, Any], seconds: float, samples_per_s: float) -> None:
        """Finish the epoch: the bar gets the epoch summary and stays on screen, or one line is printed."""
        self._epoch_seconds.append(seconds)
        remaining = self.total_epochs - record["epoch"]
        eta = f"ETA {format_duration(remaining * self._mean_epoch_seconds())}" if remaining > 0 else ""
        if self._tqdm is not None:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            width = shutil.get_terminal_size((80, 24)).columns - 1  # the last column would wrap on some terminals
            line = fit_epoch_line(record, self.total_epochs, seconds, eta, width)
        else:
            line = format_epoch_line(record, self.total_epochs, seconds, samples_per_s) + ("  " + eta if eta else "")
        self.out.write(line + "\n")
        self.out.flush()

    def _mean_epoch_seconds(self) -> float:
        return sum(self._epoch_seconds) / len(self._epoch_seconds)

    def table(self, rows: list[tuple[str, float | None, float | None]]) -> None:
        """Print the final train/validation/test table."""
        self.message(format_table(rows))

    def close(self) -> None:
        """Close a bar left open (training stopped by an error)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

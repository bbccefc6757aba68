"""LossHistory: the few numbers about the loss curve the doctor keeps (first window, latest window, best window)."""

from __future__ import annotations

import math
from collections import deque


class LossHistory:
    """Tracks the mean of the first `window` finite losses, the latest `window` losses and the best window mean."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.count = 0  # finite losses seen
        self.first_sum = 0.0
        self.first_count = 0
        self.recent: deque[float] = deque(maxlen=window)
        self.best: float | None = None  # lowest latest-window mean seen at a check

    def add(self, value: float) -> None:
        """Record one step's loss; NaN/inf losses are left out (the NaN check reports them)."""
        if not math.isfinite(value):
            return
        self.count += 1
        if self.first_count < self.window:
            self.first_sum += value
            self.first_count += 1
        self.recent.append(value)

    @property
    def ready(self) -> bool:
        """Whether the first window is complete and the latest window no longer overlaps it."""
        return self.count >= 2 * self.window

    @property
    def first_mean(self) -> float:
        """Mean loss of the first window."""
        return self.first_sum / max(self.first_count, 1)

    @property
    def last_mean(self) -> float:
        """Mean loss of the latest window."""
        return sum(self.recent) / max(len(self.recent), 1)

    @property
    def last_std(self) -> float:
        """Standard deviation of the losses in the latest window."""
        m = self.last_mean
        return math.sqrt(sum((v - m) ** 2 for v in self.recent) / max(len(self.recent), 1))

    def update_best(self) -> float:
        """Fold the latest window mean into the best one seen and return the best."""
        m = self.last_mean
        self.best = m if self.best is None else min(self.best, m)
        return self.best

    def state_dict(self) -> dict:
        """Plain values for exact resume."""
        return {
            "count": self.count,
            "first_sum": self.first_sum,
            "first_count": self.first_count,
            "recent": list(self.recent),
            "best": self.best,
        }

    def load_state_dict(self, d: dict) -> None:
        """Restore what state_dict returned."""
        self.count = int(d["count"])
        self.first_sum = float(d["first_sum"])
        self.first_count = int(d["first_count"])
        self.recent = deque((float(v) for v in d["recent"]), maxlen=self.window)
        self.best = None if d["best"] is None else float(d["best"])

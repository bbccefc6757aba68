"""Finding: one diagnosis of the training doctor, in plain words, with the numbers behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "dead_relu",
    "saturation",
    "vanishing_gradients",
    "exploding_gradients",
    "loss_not_decreasing",
    "nan",
    "lr_too_high",
    "lr_too_low",
    "bad_init",
)
SEVERITIES = ("warning", "error")

# Short titles used when a finding is printed.
TITLES = {
    "dead_relu": "dead ReLU units",
    "saturation": "saturated activations",
    "vanishing_gradients": "vanishing gradients",
    "exploding_gradients": "exploding gradients",
    "loss_not_decreasing": "loss not decreasing",
    "nan": "NaN/inf",
    "lr_too_high": "learning rate too high",
    "lr_too_low": "learning rate too low",
    "bad_init": "bad initialisation",
}


@dataclass
class Finding:
    """A diagnosis: what kind, how bad, what was measured (message), what to try (suggestion), where and when.

    `step` is the step (0-based count of doctor.step calls) where the problem was first seen; `data` holds the
    numbers behind the message as plain JSON values.
    """

    kind: str
    severity: str
    message: str
    suggestion: str
    layer: str | None = None
    step: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Finding kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding severity must be 'warning' or 'error'; got {self.severity!r}")
        if self.message[:1].islower():
            self.message = self.message[0].upper() + self.message[1:]  # messages read as sentences

    @property
    def title(self) -> str:
        """A short human title for the kind, e.g. 'dead ReLU units'."""
        return TITLES[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
            "layer": self.layer,
            "step": self.step,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        """Rebuild a finding written by to_dict."""
        if not isinstance(d, dict):
            raise TypeError(f"Finding.from_dict expects a dict, got {type(d).__name__}")
        missing = [k for k in ("kind", "severity", "message", "suggestion") if k not in d]
        if missing:
            raise ValueError(f"Finding.from_dict: missing key(s) {', '.join(missing)} in {sorted(d)}")
        return cls(
            kind=d["kind"],
            severity=d["severity"],
            message=d["message"],
            suggestion=d["suggestion"],
            layer=d.get("layer"),
            step=d.get("step"),
            data=dict(d.get("data") or {}),
        )

    def __str__(self) -> str:
        where = f" in layer {self.layer}" if self.layer is not None else ""
        when = f" (first seen at step {self.step})" if self.step is not None else ""
        return f"{self.severity.capitalize()}: {self.title}{where}{when}. {self.message} Try: {self.suggestion}"

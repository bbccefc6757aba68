"""The training doctor: watches activations, gradients, updates and the loss, and explains problems in plain words."""

from __future__ import annotations

from .doctor import Doctor
from .finding import KINDS, Finding
from .thresholds import Thresholds

__all__ = ["Doctor", "Finding", "KINDS", "Thresholds"]

"""Warnings attributed to the user's line, as torch's are: the first frame outside ember, however deep the call."""

from __future__ import annotations

import sys
import warnings


def _inside_ember(frame) -> bool:
    name = frame.f_globals.get("__name__", "")
    return name == "ember" or name.startswith("ember.")


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue a warning located at the nearest caller outside the ember package."""
    frame, level = sys._getframe(1), 2  # stacklevel 2 is the caller of this function
    while frame is not None and _inside_ember(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)

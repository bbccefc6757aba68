"""NumPy's floating-point warnings are off while ember computes, because torch computes inf and NaN quietly.

`ember.tensor([1.0]) / 0` is inf in both libraries, but NumPy would also print "RuntimeWarning: divide by
zero encountered". The ops turn NumPy's error state to "ignore" around their own computations and back
afterwards, so the user's NumPy code keeps its settings, and no warnings filter (which an import inside
`warnings.catch_warnings()` would lose) is involved.

NumPy keeps its error state in a context variable; setting it directly costs about 0.3 µs per op (0.5 µs
as a with block), where `np.errstate` costs 1-2 µs. That variable is not public NumPy API, so where it
is missing (or EMBER_FALLBACKS names "errstate") `np.errstate` does the same job. Inside ember's
computations NumPy's buffer size is its default (it changes speed, never results).

Entry points that call back into user code (backward, with its hooks and custom Functions; an optimizer
step, with its closure) keep the caller's state, and the callbacks run under it (`as_user`).
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable

import numpy as np

from ._machine import forced

try:
    from numpy._core._multiarray_umath import _extobj_contextvar, _make_extobj
except ImportError:  # another NumPy layout
    _extobj_contextvar = _make_extobj = None

FAST = _extobj_contextvar is not None and not forced("errstate")

# The caller's NumPy error state, kept by entry points that call back into user code (backward with its hooks
# and custom Functions, an optimizer step with its closure), so that those callbacks run under it.
_user_state: contextvars.ContextVar = contextvars.ContextVar("ember_user_float_state", default=None)

if FAST:
    _QUIET = _make_extobj(all="ignore")
    _set, _reset = _extobj_contextvar.set, _extobj_contextvar.reset
    _current_state = _extobj_contextvar.get
    # For the hottest ops, inline: token = enter_quiet() ... finally: leave_quiet(token) (no extra frame).
    enter_quiet = functools.partial(_set, _QUIET)
    leave_quiet = _reset
    _enter_state = _set

else:

    def enter_quiet() -> Any:
        """Start ignoring NumPy's float errors; returns what leave_quiet needs."""
        return _enter_state({"all": "ignore"})

    def leave_quiet(token: Any) -> None:
        """Undo enter_quiet (or _enter_state)."""
        token.__exit__(None, None, None)

    def _current_state() -> Any:
        return np.geterr()

    def _enter_state(state: dict) -> Any:
        token = np.errstate(**state)
        token.__enter__()
        return token


class quiet:
    """A context in which NumPy computes inf, NaN and subnormals without a warning."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = enter_quiet()

    def __exit__(self, *exc: Any) -> None:
        leave_quiet(self._token)


def quietly(fn: Callable) -> Callable:
    """fn, computing without NumPy's floating-point warnings."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        token = enter_quiet()
        try:
            return fn(*args, **kwargs)
        finally:
            leave_quiet(token)

    return run


def quietly_around_user_code(fn: Callable) -> Callable:
    """fn, computing quietly; user code it calls back runs under the caller's error state (see as_user)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        saved = _user_state.set(_current_state())
        token = enter_quiet()
        try:
            return fn(*args, **kwargs)
        finally:
            leave_quiet(token)
            _user_state.reset(saved)

    return run


class as_user:
    """A context for calling user code from inside quietly_around_user_code: the caller's error state."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        state = _user_state.get()
        self._token = None if state is None else _enter_state(state)

    def __exit__(self, *exc: Any) -> None:
        if self._token is not None:
            leave_quiet(self._token)

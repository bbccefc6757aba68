"""NumPy's floating-point warnings are off while ember computes, because torch computes inf and NaN quietly.

`ember.tensor([1.0]) / 0` is inf in both libraries, but NumPy would also print "RuntimeWarning: divide by
zero encountered". The ops turn NumPy's error state to "ignore" around their own computations and back
afterwards, so the user's NumPy code keeps its settings, and no warnings filter (which an import inside
`warnings.catch_warnings()` would lose) is involved.

NumPy keeps its error state in a context variable; setting it directly costs about 0.15 µs, where
`np.errstate` costs about 1 µs. That variable is not public NumPy API, so where it is missing (or
EMBER_FALLBACKS names "errstate") `np.errstate` does the same job.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ._machine import forced

try:
    from numpy._core._multiarray_umath import _extobj_contextvar, _make_extobj
except ImportError:  # another NumPy layout
    _extobj_contextvar = _make_extobj = None

FAST = _extobj_contextvar is not None and not forced("errstate")

if FAST:
    _QUIET = _make_extobj(all="ignore")
    _set, _reset = _extobj_contextvar.set, _extobj_contextvar.reset

    class quiet:
        """A context in which NumPy computes inf, NaN and subnormals without a warning."""

        __slots__ = ("_token",)

        def __enter__(self) -> None:
            self._token = _set(_QUIET)

        def __exit__(self, *exc: Any) -> None:
            _reset(self._token)

    def quietly(fn: Callable) -> Callable:
        """fn, computing without NumPy's floating-point warnings."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            token = _set(_QUIET)
            try:
                return fn(*args, **kwargs)
            finally:
                _reset(token)

        return run

else:

    def quiet() -> np.errstate:  # type: ignore[no-redef]
        """A context in which NumPy computes inf, NaN and subnormals without a warning."""
        return np.errstate(all="ignore")

    def quietly(fn: Callable) -> Callable:  # type: ignore[no-redef]
        """fn, computing without NumPy's floating-point warnings."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)

        return run

"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd right now."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    """Whether an inference_mode block is active."""
    return _state.inference


class _GradModeContext:
    """Base for the grad-mode switches: usable as `with` block and as decorator."""

    _target: bool = True

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self._target

    def __exit__(self, *exc) -> None:
        _state.enabled = self._prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__.__new__(self.__class__)._clone_of(self):
                return func(*args, **kwargs)

        return wrapper

    def _clone_of(self, other):
        self.__dict__.update({k: v for k, v in other.__dict__.items() if k != "_prev"})
        return self

    def clone(self):
        """A fresh copy of this context manager."""
        return self.__class__.__new__(self.__class__)._clone_of(self)


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block or decorated function."""

    _target = False

    def __init__(self, orig_func=None) -> None:
        if orig_func is not None and callable(orig_func):
            raise TypeError("use @no_grad() with parentheses, or `with no_grad():`")


class enable_grad(_GradModeContext):
    """Enable gradient recording inside the block or decorated function."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Turn gradient recording on or off; also works as a plain function call."""

    def __init__(self, mode: bool) -> None:
        self._prev = _state.enabled
        self._target = bool(mode)
        _state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __call__(self, func):
        mode = self._target
        _state.enabled = self._prev

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _state.enabled = prev

        return wrapper


class inference_mode(_GradModeContext):
    """Like no_grad, for inference: nothing inside is recorded."""

    def __init__(self, mode: bool = True) -> None:
        self._target = not mode
        self._mode = bool(mode)

    def __enter__(self) -> None:
        super().__enter__()
        self._prev_inf = _state.inference
        _state.inference = self._mode

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        _state.inference = self._prev_inf

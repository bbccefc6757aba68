"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import contextvars
import functools

from .._tensor import _inference_mode

# Grad mode is per thread, as in torch: a new thread starts from the defaults. Context variables
# give that (each thread runs in its own context) at a fraction of a threading.local's lookup cost,
# which every recorded operation pays. (asyncio tasks also get their own copy.)
_enabled_var = contextvars.ContextVar("ember_grad_enabled", default=True)
_inference_var = _inference_mode  # tensors made while it is set are inference tensors

grad_enabled = _enabled_var.get  # the fast read for the ops: grad_enabled() -> bool
set_enabled = _enabled_var.set  # the fast write: set_enabled(flag)


class _State:
    """`_state.enabled` / `_state.inference`: read and write the current thread's grad mode."""

    __slots__ = ()

    @property
    def enabled(self) -> bool:
        return _enabled_var.get()

    @enabled.setter
    def enabled(self, value: bool) -> None:
        _enabled_var.set(value)

    @property
    def inference(self) -> bool:
        return _inference_var.get()

    @inference.setter
    def inference(self, value: bool) -> None:
        _inference_var.set(value)


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd right now."""
    return _enabled_var.get()


def is_inference_mode_enabled() -> bool:
    """Whether an inference_mode block is active."""
    return _inference_var.get()


class _GradModeContext:
    """Base for the grad-mode switches: usable as `with` block and as decorator."""

    _target: bool = True

    def __enter__(self) -> None:
        self._prev = _enabled_var.get()
        _enabled_var.set(self._target)

    def __exit__(self, *exc) -> None:
        _enabled_var.set(self._prev)

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


class _BareDecoratorContext(_GradModeContext):
    """A switch without arguments: @switch works like @switch()."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecoratorContext):
    """Disable gradient recording inside the block or decorated function."""

    _target = False


class enable_grad(_BareDecoratorContext):
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

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used bare, as @inference_mode

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

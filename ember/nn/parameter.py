"""Parameter: a Tensor that a Module registers as learnable when assigned as an attribute."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is collected by Module.parameters()."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
            version = None
        elif isinstance(data, Tensor):
            arr = data._data
            version = data._version
        else:
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        self = object.__new__(cls)
        Tensor._init(self, arr)
        if version is not None:
            self._version = version
        if requires_grad:
            self.requires_grad = True
        return self

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # all set up in __new__, so that Tensor.__init__ never runs

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data.copy(), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = Parameter(Tensor._wrap(self._data.copy()), self._requires_grad)  # without .grad, as torch
        for k, v in self.__dict__.items():
            import copy

            setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new


def _rebuild_parameter(arr, requires_grad):
    return Parameter(Tensor._wrap(arr), requires_grad)


class UninitializedParameter(Parameter):
    """Lazy modules are not supported; this name exists only so isinstance checks work."""

    def __new__(cls, *args, **kwargs):
        raise NotImplementedError("ember does not implement torch.nn.parameter.UninitializedParameter (lazy modules)")


class _BufferMeta(type):
    """isinstance(t, Buffer) is true for any tensor made by Buffer(...), which is a plain tensor with a flag."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and getattr(obj, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    As in torch, the result is the tensor detached (keeping requires_grad), flagged as a buffer, not a subclass."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = Tensor._wrap(np.empty((0,), dtype=np.float32))
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


def is_lazy(param) -> bool:
    """Always False: ember has no lazy parameters."""
    return False

"""Python's operators on tensors (`a + b`, `2 * a`, `a @ b` aside, `a += b`, `a < b`, `~a`, ...): each dunder
method and the op it calls, in one table.

`a + b` is `Tensor.__add__`, which calls `ember.ops.elementwise.add`; `a += b` calls the in-place method
`add_`. A forward operator returns NotImplemented for operands it does not know, so Python can try the
other operand's reflected method (NumPy arrays are taken as tensors)."""

from __future__ import annotations

import numbers

import numpy as np

from .._tensor import Tensor
from . import elementwise as E
from ._op import wrap


def _scalar_or_tensor(x) -> bool:
    return isinstance(x, (Tensor, numbers.Number, np.bool_))


def _forward(fn):
    """self <op> other."""

    def method(self, other):
        if isinstance(other, Tensor) or other.__class__ is float or other.__class__ is int:
            return fn(self, other)
        if isinstance(other, np.ndarray):
            return fn(self, wrap(other))
        if not _scalar_or_tensor(other):
            return NotImplemented
        return fn(self, other)

    method.applies = fn  # the op behind the operator, for tools/gen_where.py
    return method


def _reflected(fn):
    """other <op> self, for a Python number (or another scalar) on the left."""

    def method(self, other):
        # Python floats and ints are the common case; the general check handles the rest.
        if other.__class__ is not float and other.__class__ is not int and not _scalar_or_tensor(other):
            return NotImplemented
        return fn(other, self)

    method.applies = fn
    return method


def _augmented(name: str):
    """self <op>= other, through the in-place method (e.g. add_)."""
    inplace = E.TENSOR_METHODS[name + "_"]

    def method(self, other):
        return inplace(self, other)

    method.applies = inplace
    return method


TENSOR_METHODS = {
    "__add__": _forward(E.add),
    "__radd__": _reflected(E.add),
    "__sub__": _forward(E.sub),
    "__rsub__": _reflected(E.sub),
    "__mul__": _forward(E.mul),
    "__rmul__": _reflected(E.mul),
    "__truediv__": _forward(E.div),
    "__rtruediv__": _reflected(E.div),
    "__floordiv__": _forward(E.floor_divide),
    "__rfloordiv__": _reflected(E.floor_divide),
    "__mod__": _forward(E.remainder),
    "__rmod__": _reflected(E.remainder),
    "__pow__": _forward(E.pow),
    "__rpow__": _reflected(E.pow),
    "__neg__": E.neg,
    "__pos__": lambda self: self,
    "__abs__": E.abs,
    "__invert__": E.bitwise_not,
    "__eq__": _forward(E.eq),
    "__ne__": _forward(E.ne),
    "__lt__": _forward(E.lt),
    "__le__": _forward(E.le),
    "__gt__": _forward(E.gt),
    "__ge__": _forward(E.ge),
    "__and__": _forward(E.bitwise_and),
    "__rand__": _reflected(E.bitwise_and),
    "__or__": _forward(E.bitwise_or),
    "__ror__": _reflected(E.bitwise_or),
    "__xor__": _forward(E.bitwise_xor),
    "__rxor__": _reflected(E.bitwise_xor),
    "__iadd__": _augmented("add"),
    "__isub__": _augmented("sub"),
    "__imul__": _augmented("mul"),
    "__itruediv__": _augmented("div"),
    "__ifloordiv__": _augmented("floor_divide"),
    "__imod__": _augmented("remainder"),
    "__ipow__": _augmented("pow"),
    "__iand__": _augmented("bitwise_and"),
    "__ior__": _augmented("bitwise_or"),
    "__ixor__": _augmented("bitwise_xor"),
}

"""What every op shares: turning arguments into tensors, recording a node, reducing broadcast grads."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd import engine
from ..autograd.grad_mode import grad_enabled
from ..autograd.graph import Node, grad_node_of

__all__ = [
    "Node",
    "Tensor",
    "record",
    "attach",
    "Adjoint",
    "record_adjoint",
    "grad_node_of",
    "unbroadcast",
    "as_tensor_arg",
    "float_array",
    "wrap",
    "wrap_dim",
    "as_ndarray",
    "check_float",
]

wrap = Tensor._wrap


def as_tensor_arg(x, like: Tensor | None = None) -> Tensor:
    """A tensor for x: tensors pass through, Python numbers become 0-dim tensors."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float, bool)):
        return wrap(np.asarray(x, dtype=dt.result_type(like, x).np))
    from .._tensor import _array_from_data

    return wrap(_array_from_data(x))


def float_array(t: Tensor) -> np.ndarray:
    """t's data, converted to the default float type if it is an integer or bool tensor."""
    a = t._data
    if a.dtype.kind != "f":
        return a.astype(dt.get_default_dtype().np)
    return a


_anomaly = engine._state_anomaly  # anomaly mode state; slot 0 is on or off


def record(out: Tensor, node_cls, *inputs):
    """Make out the output of a new node_cls node if grad mode is on and any input requires grad.

    Returns the node (so the op can save what its backward needs) or None. inputs are the op's
    differentiable operands in order; a None or a Python number takes a slot that gets no gradient."""
    if not grad_enabled():
        return None
    for t in inputs:
        if t.__class__ is not Tensor and not isinstance(t, Tensor):
            continue
        if t._requires_grad:
            return attach(out, node_cls, *inputs)
    return None


def attach(out: Tensor, node_cls, *inputs):
    """record() for an op that has already checked grad mode is on and some input requires grad."""
    node = node_cls()
    if len(inputs) == 1:
        t = inputs[0]
        node.next_nodes = ((t.grad_fn or grad_node_of(t)) if t._requires_grad else None,)
    else:
        node.next_nodes = tuple(
            [(t.grad_fn or grad_node_of(t)) if getattr(t, "_requires_grad", False) else None for t in inputs]
        )
    out._requires_grad = True
    out.grad_fn = node
    if _anomaly[0]:
        _remember_traceback(node)
    return node


class Adjoint(Node):
    """The node of a linear op whose gradient is another op, its adjoint, called with the same settings
    (unfold and fold, pooling and spreading, gathering and scattering); the adjoint records a node that
    calls this op back, so derivatives of any order follow."""

    def backward(self, g):
        return (self.adjoint(g, *self.settings),)


def record_adjoint(out: Tensor, node_cls, input: Tensor, adjoint, *settings) -> None:
    """record() an Adjoint node for out, keeping the adjoint op and its settings."""
    node = record(out, node_cls, input)
    if node is not None:
        node.adjoint, node.settings = adjoint, settings


def _remember_traceback(node) -> None:
    """Anomaly mode: keep where the forward op was called, for the backward error message."""
    import traceback

    node.metadata["traceback"] = "".join(traceback.format_stack(limit=13)[:-3])


def _float_sum():
    """ember.ops.reduction.float_sum, imported on first use (reduction imports this module)."""
    from .reduction import float_sum

    globals()["_float_sum"] = lambda: float_sum
    return float_sum


def unbroadcast(grad: Tensor, shape) -> Tensor:
    """Sum grad over the dimensions broadcasting added, so it has the input's shape."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    shape = tuple(shape)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = list(range(lead))
    stretched = [lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1]
    if (dims or stretched) and not grad_enabled() and grad._data.dtype.kind == "f":
        # No graph to record: what grad.sum(...) computes for a float tensor, straight on the array.
        arr = _float_sum()(grad._data, tuple(dims + stretched), bool(stretched), None)
        return wrap(arr if arr.shape == shape else arr.reshape(shape))
    if not stretched and lead:
        # Only leading dims were added: summing them away gives the shape directly (a fresh array, no view).
        grad = grad.sum(dim=tuple(dims))
    elif dims or stretched:
        grad = grad.sum(dim=tuple(dims + stretched), keepdim=True)
    if grad._data.shape != shape:
        grad = grad.reshape(shape)
    return grad


def wrap_dim(dim: int, ndim: int) -> int:
    """dim as a non-negative axis of an ndim-dimensional tensor (a 0-d one has axis 0), with torch's range error."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def as_ndarray(x) -> np.ndarray:
    """x as an array (NumPy gives scalars for 0-dim results)."""
    return x if x.__class__ is np.ndarray else np.asarray(x)


def check_float(input: Tensor, kernel: str) -> None:
    """Refuse a non-float input with torch's message, which names the kernel that has no integer version."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt.scalar_type_name(input._data.dtype)}'")

"""What every op shares: turning arguments into tensors, recording a node, reducing broadcast grads."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd import engine
from ..autograd.grad_mode import _state
from ..autograd.graph import Node, grad_node_of

__all__ = ["Node", "Tensor", "record", "unbroadcast", "as_tensor_arg", "float_array", "wrap"]

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


def record(out: Tensor, node_cls, *inputs):
    """Attach a new node_cls node to out if grad mode is on and any input requires grad.

    Returns the node (so the op can save what its backward needs) or None."""
    if not _state.enabled:
        return None
    for t in inputs:
        if t is not None and t._requires_grad:
            break
    else:
        return None
    node = node_cls()
    node.next_nodes = tuple(grad_node_of(t) if t is not None and t._requires_grad else None for t in inputs)
    out._requires_grad = True
    out.grad_fn = node
    if engine._state_anomaly[0]:
        import traceback

        node.metadata["traceback"] = "".join(traceback.format_stack(limit=12)[:-2])
    return node


def unbroadcast(grad: Tensor, shape) -> Tensor:
    """Sum grad over the dimensions broadcasting added, so it has the input's shape."""
    gshape = grad._data.shape
    if gshape == tuple(shape):
        return grad
    lead = len(gshape) - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gshape[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        grad = grad.sum(dim=tuple(dims), keepdim=True) if lead == 0 else grad.sum(dim=tuple(dims), keepdim=True)
    if grad._data.shape != tuple(shape):
        grad = grad.reshape(tuple(shape))
    return grad

"""Dtype conversion (`Tensor.to`, `.float()`, `.long()`, ...) as a recorded op: float results pass gradients back
in the source dtype."""

from __future__ import annotations

from .. import _dtype as dt
from .._quiet_floats import quietly
from .._tensor import Tensor
from ._op import Node, record, wrap


class ToCopyBackward0(Node):
    def backward(self, g):
        return (g.to(self.src_dtype),)


@quietly  # inf and NaN cast to integers without a word, as in torch
def cast(t: Tensor, d: dt.dtype) -> Tensor:
    """t converted to dtype d (always a new array)."""
    res = wrap(t._data.astype(d.np))
    if d.is_floating_point:
        node = record(res, ToCopyBackward0, t)
        if node is not None:
            node.src_dtype = t.dtype
    return res

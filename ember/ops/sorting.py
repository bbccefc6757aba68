"""Sorting and searching along a dimension: sort, argsort, msort, topk, kthvalue, mode, unique,
unique_consecutive, searchsorted, bucketize."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._inplace import maybe_out
from ._op import Node, record, wrap, wrap_dim
from .reduction import ValueSelectingBackward
from .return_types import values_indices


# ---------------------------------------------------------------------------- sorting
class SortBackward0(ValueSelectingBackward):
    """sort/topk/kthvalue-style selections: each output value's gradient goes back to its source."""


class TopkBackward0(SortBackward0):
    pass


class KthvalueBackward0(SortBackward0):
    pass


class ModeBackward0(SortBackward0):
    pass


def _order(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """Stable sort order along d; NaN counts as the largest value, as in torch."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    # reverse, sort ascending stably, reverse back: ties keep their original order
    n = a.shape[d]
    rev = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return (n - 1) - np.flip(rev, d)


def _selection(name: str, node_cls, input: Tensor, values: np.ndarray, idx: np.ndarray, d: int, keepdim: bool):
    res, index = wrap(np.require(values, requirements="C")), wrap(np.require(idx.astype(np.int64), requirements="C"))
    node = record(res, node_cls, input)
    if node is not None:
        node.save(index)
        node.shape, node.dim, node.keepdim, node.ndim = input._data.shape, d, keepdim, input._data.ndim
    return values_indices(name, res, index)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None):
    """Sorted values along dim and the indices they came from (ties keep their order)."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _selection("sort", SortBackward0, input, a.copy(), np.zeros((), np.int64), 0, True)
    order = _order(a, d, descending)
    return _selection("sort", SortBackward0, input, np.take_along_axis(a, order, d), order, d, True)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort input along dim."""
    return sort(input, dim, descending, stable).indices


def msort(input: Tensor) -> Tensor:
    """input sorted along its first dimension."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (or smallest) values along dim, with their indices."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    size = a.shape[d] if a.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return _selection("topk", TopkBackward0, input, a.copy(), np.zeros((), np.int64), 0, True)
    order = _order(a, d, largest)
    order = np.take(order, np.arange(k), axis=d)
    return _selection("topk", TopkBackward0, input, np.take_along_axis(a, order, d), order, d, True)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest value along dim (k counts from 1) and its index."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    size = a.shape[d] if a.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if a.ndim == 0:
        return _selection("kthvalue", KthvalueBackward0, input, a.copy(), np.zeros((), np.int64), 0, keepdim)
    order = np.take(_order(a, d, False), [k - 1], axis=d)
    vals = np.take_along_axis(a, order, d)
    if not keepdim:
        vals, order = vals.squeeze(d), order.squeeze(d)
    return _selection("kthvalue", KthvalueBackward0, input, vals, order, d, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along dim (the smallest on ties) and an index where it occurs."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _selection("mode", ModeBackward0, input, a.copy(), np.zeros((), np.int64), 0, keepdim)
    moved = np.moveaxis(a, d, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    vals = np.empty(flat.shape[0], dtype=a.dtype)
    idx = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals[r] = v
        idx[r] = np.nonzero(row == v)[0][-1]
    vals = np.moveaxis(vals.reshape(moved.shape[:-1] + (1,)), -1, d)
    idx = np.moveaxis(idx.reshape(moved.shape[:-1] + (1,)), -1, d)
    if not keepdim:
        vals, idx = vals.squeeze(d), idx.squeeze(d)
    return _selection("mode", ModeBackward0, input, vals, idx, d, keepdim)


# ---------------------------------------------------------------------------- unique
class Unique2Backward0(Node):
    """unique has no derivative; like torch, the output stays in the graph and backward refuses."""

    def backward(self, g):
        raise RuntimeError("the derivative for 'unique' is not implemented.")


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):  # noqa: A002
    """The distinct elements (or slices along dim), sorted, optionally with inverse indices and counts."""
    a = input._data
    if dim is None:
        vals, inv, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = wrap_dim(dim, a.ndim)
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = [wrap(np.require(vals, requirements="C"))]
    record(out[0], Unique2Backward0, input)
    if return_inverse:
        out.append(wrap(inv.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along dim) to one."""
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        change = np.ones(flat.size, dtype=bool)
        change[1:] = flat[1:] != flat[:-1]
        vals = flat[change]
        inv = (np.cumsum(change) - 1).reshape(a.shape)
    else:
        d = wrap_dim(dim, a.ndim)
        moved = np.moveaxis(a, d, 0)
        n = moved.shape[0]
        change = np.ones(n, dtype=bool)
        if n > 1:
            change[1:] = (moved[1:] != moved[:-1]).reshape(n - 1, -1).any(axis=1)
        vals = np.moveaxis(moved[change], 0, d)
        inv = np.cumsum(change) - 1
    starts = np.nonzero(change)[0]
    counts = np.diff(np.append(starts, change.size))
    out = [wrap(np.require(vals, requirements="C"))]
    if return_inverse:
        out.append(wrap(inv.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# ---------------------------------------------------------------------------- searching
def searchsorted(
    sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False, side=None, sorter=None, out=None
) -> Tensor:
    """Indices where input's values would be inserted into the innermost rows of sorted_sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    scalar = not isinstance(input, Tensor)
    vals = np.asarray(input) if scalar else input._data
    how = "right" if right else "left"
    if seq.ndim <= 1:
        res = np.searchsorted(seq.reshape(-1), vals, side=how)
    else:
        if scalar or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
                f"{list(seq.shape)} and input value tensor {list(vals.shape)}"
            )
        s2 = seq.reshape(-1, seq.shape[-1])
        v2 = vals.reshape(-1, vals.shape[-1])
        res = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(s2, v2)]).reshape(vals.shape)
    res = wrap(np.asarray(res, dtype=np.int32 if out_int32 else np.int64))
    if out is not None:
        return maybe_out(res, out)
    return res


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False, out=None) -> Tensor:
    """Index of the bucket (defined by 1-D sorted boundaries) each input value falls in."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


TENSOR_FUNCS = {
    "sort": sort,
    "argsort": argsort,
    "msort": msort,
    "topk": topk,
    "kthvalue": kthvalue,
    "mode": mode,
    "unique": unique,
    "unique_consecutive": unique_consecutive,
}
TENSOR_METHODS = dict(TENSOR_FUNCS)
PUBLIC = dict(TENSOR_FUNCS)
PUBLIC.update({"searchsorted": searchsorted, "bucketize": bucketize})

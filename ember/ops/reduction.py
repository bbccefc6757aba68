"""Reductions over all elements or chosen dimensions: sum, mean, and friends."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._op import Node, record, wrap


def normalize_dims(dim, ndim: int) -> tuple:
    """dim (None, int, or a sequence) as a sorted tuple of non-negative axes, checked against ndim."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = dim
    else:
        dims = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dims:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        d %= n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def expand_reduced(g: Tensor, shape, dims: tuple, keepdim: bool) -> Tensor:
    """Bring a reduced gradient back to the input shape (re-inserting reduced dims, then expanding)."""
    if not keepdim and dims:
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        g = g.reshape(tuple(kept))
    return g.expand(tuple(shape))


class SumBackward0(Node):
    def backward(self, g):
        return (g.expand(self.shape),)


class SumBackward1(Node):
    def backward(self, g):
        return (expand_reduced(g, self.shape, self.dims, self.keepdim),)


def _sum_dtype(t: Tensor, dtype):
    if dtype is not None:
        return dt.to_dtype(dtype).np
    if t._data.dtype.kind in "biu":
        return np.int64
    return None


def sum(input, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A001
    """Sum of all elements, or over dim."""
    a = input._data
    if dim is None:
        res = wrap(np.asarray(a.sum(dtype=_sum_dtype(input, dtype))))
        node = record(res, SumBackward0, input)
        if node is not None:
            node.shape = a.shape
        return res
    dims = normalize_dims(dim, a.ndim)
    res = wrap(np.asarray(a.sum(axis=dims, keepdims=keepdim, dtype=_sum_dtype(input, dtype))))
    node = record(res, SumBackward1, input)
    if node is not None:
        node.shape, node.dims, node.keepdim = a.shape, dims, keepdim
    return res


class MeanBackward0(Node):
    def backward(self, g):
        return ((g / self.count).expand(self.shape),)


class MeanBackward1(Node):
    def backward(self, g):
        return (expand_reduced(g / self.count, self.shape, self.dims, self.keepdim),)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Average of all elements, or over dim (floating-point tensors only)."""
    a = input._data
    if dtype is not None:
        a = a.astype(dt.to_dtype(dtype).np)
    elif a.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {input.dtype.name.capitalize() if input.dtype is not dt.int64 else 'Long'}"
        )
    if dim is None:
        res = wrap(np.asarray(a.mean(), dtype=a.dtype))
        node = record(res, MeanBackward0, input)
        if node is not None:
            node.shape, node.count = a.shape, max(a.size, 1) if a.size else 0
        return res
    dims = normalize_dims(dim, a.ndim)
    res = wrap(np.asarray(a.mean(axis=dims, keepdims=keepdim), dtype=a.dtype))
    node = record(res, MeanBackward1, input)
    if node is not None:
        count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        node.shape, node.dims, node.keepdim, node.count = a.shape, dims, keepdim, count
    return res


TENSOR_FUNCS = {"sum": sum, "mean": mean}
TENSOR_METHODS = dict(TENSOR_FUNCS)
PUBLIC = dict(TENSOR_FUNCS)

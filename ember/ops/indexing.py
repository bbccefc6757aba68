"""Indexing and assignment: ints, slices, ..., None, bool masks and integer tensors."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ._op import Node, record, unbroadcast, wrap


def convert_index(key):
    """Turn a torch-style index into one NumPy understands, checking index dtypes."""
    if isinstance(key, tuple):
        return tuple(_convert_one(k) for k in key)
    return _convert_one(key)


def _convert_one(k):
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if a.dtype == np.uint8:
            return a.astype(bool)
        if a.ndim == 0 and a.dtype != np.bool_:
            return int(a)
        return a
    if isinstance(k, list):
        flat = np.asarray(k)
        if flat.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return [_convert_one(x) if isinstance(x, Tensor) else x for x in k] if flat.dtype == object else flat
    if isinstance(k, (float, np.floating)):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices")
    return k


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) and not isinstance(i, bool) for i in items)


def _raise_index_error(a: np.ndarray, idx, err: Exception):
    msg = str(err)
    items = idx if isinstance(idx, tuple) else (idx,)
    dim = 0
    for it in items:
        if it is None:
            continue
        if it is Ellipsis:
            dim = a.ndim - (len([x for x in items if x is not None and x is not Ellipsis]) - dim) + 1
            continue
        if isinstance(it, (int, np.integer)) and dim < a.ndim:
            size = a.shape[dim]
            if not -size <= it < size:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {size}") from None
        if isinstance(it, np.ndarray) and it.dtype != np.bool_ and it.size and dim < a.ndim:
            size = a.shape[dim]
            bad = it[(it >= size) | (it < -size)]
            if bad.size:
                raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}") from None
        dim += it.ndim if isinstance(it, np.ndarray) and it.dtype == np.bool_ else 1
    if "too many indices" in msg:
        raise IndexError(f"too many indices for tensor of dimension {a.ndim}") from None
    raise IndexError(msg) from None


class IndexBackward0(Node):
    def backward(self, g):
        return (index_put_accumulate_zeros(self.shape, self.idx, g),)


class IndexPutZerosBackward(Node):
    """Backward of scattering g into zeros: gather it back."""

    def backward(self, g):
        return (getitem(g, self.idx, converted=True),)


def index_put_accumulate_zeros(shape, idx, g: Tensor) -> Tensor:
    """zeros(shape) with g added at idx (repeated indices accumulate); differentiable in g."""
    out = np.zeros(shape, dtype=g._data.dtype)
    if _is_basic(idx):
        out[idx] += g._data
    else:
        np.add.at(out, idx, g._data)
    res = wrap(out)
    node = record(res, IndexPutZerosBackward, g)
    if node is not None:
        node.idx = idx
    return res


def getitem(self: Tensor, key, converted: bool = False) -> Tensor:
    """self[key], a view for basic indexing and a copy for advanced indexing."""
    idx = key if converted else convert_index(key)
    a = self._data
    try:
        arr = a[idx]
    except IndexError as e:
        _raise_index_error(a, idx, e)
    if _is_basic(idx):
        res = self._view_of(arr)
    else:
        res = wrap(np.asarray(arr))
    node = record(res, IndexBackward0, self)
    if node is not None:
        node.shape, node.idx = a.shape, idx
    return res


class IndexPutBackward0(Node):
    def backward(self, g):
        gs = gv = None
        if self.next_nodes[0] is not None:
            mask = np.ones(self.shape, dtype=g._data.dtype)
            mask[self.idx] = 0
            gs = g * wrap(mask)
        if self.next_nodes[1] is not None:
            gv = unbroadcast(getitem(g, self.idx, converted=True), self.v_shape)
        return gs, gv


def _index_put(self: Tensor, idx, value) -> Tensor:
    out = self._data.copy()
    v = value._data if isinstance(value, Tensor) else value
    out[idx] = v
    res = wrap(out)
    node = record(res, IndexPutBackward0, self, value if isinstance(value, Tensor) else None)
    if node is not None:
        node.shape, node.idx = out.shape, idx
        node.v_shape = value._data.shape if isinstance(value, Tensor) else ()
    return res


def setitem(self: Tensor, key, value) -> None:
    """self[key] = value, in place, recorded for autograd when needed."""
    idx = convert_index(key)
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        value = wrap(value)
    recording = _state.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if not recording:
        try:
            self._data[idx] = value._data if isinstance(value, Tensor) else value
        except IndexError as e:
            _raise_index_error(self._data, idx, e)
        except ValueError as e:
            if "read-only" in str(e):
                raise RuntimeError("cannot write into an expanded (broadcast) tensor; call .clone() first") from None
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value._data if isinstance(value, Tensor) else value))} "
                               f"cannot be broadcast to indexing result of shape {list(np.shape(self._data[idx]))}") from None
        self._version.value += 1
        return
    from .elementwise import apply_inplace

    apply_inplace(self, lambda s, v: _index_put(s, idx, v), value)


TENSOR_METHODS = {"__getitem__": getitem, "__setitem__": setitem}
PUBLIC: dict = {}

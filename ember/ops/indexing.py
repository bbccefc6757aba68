"""Indexing and assignment (ints, slices, ..., None, bool masks and integer tensors), and indexed reads and
writes along a dimension: index_select/add/copy/fill/put, masked_select/scatter, take, gather, scatter."""

from __future__ import annotations

import numpy as np

from .._quiet_floats import quietly
from .._tensor import Tensor
from .._warn import warn_user
from ..autograd.grad_mode import grad_enabled
from ._inplace import apply_inplace, inplace_method, maybe_out
from ._op import Node, attach, record, unbroadcast, wrap, wrap_dim
from .shape import SelectBackward0, SliceBackward0, UnsqueezeBackward0


def convert_index(key):
    """Turn a torch-style index into one NumPy understands, checking index dtypes."""
    if (
        isinstance(key, list)
        and key
        and any(isinstance(k, (list, tuple, Tensor, slice)) or k is None or k is Ellipsis for k in key)
    ):
        # torch still reads a list holding sequences/slices as a tuple of indices (deprecated there)
        warn_user(
            "Using a non-tuple sequence for multidimensional indexing is deprecated; use x[tuple(seq)] instead of x[seq]."
        )
        key = tuple(key)
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
        if flat.size == 0:
            return flat.astype(np.int64)  # an empty list is an empty long index in torch (NumPy makes it float)
        if flat.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return [_convert_one(x) if isinstance(x, Tensor) else x for x in k] if flat.dtype == object else flat
    if isinstance(k, (float, np.floating)):
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices"
        )
    return k


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) and not isinstance(i, bool) for i in items
    )


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
                raise IndexError(
                    f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}"
                ) from None
        dim += it.ndim if isinstance(it, np.ndarray) and it.dtype == np.bool_ else 1
    if "too many indices" in msg:
        raise IndexError(f"too many indices for tensor of dimension {a.ndim}") from None
    raise IndexError(msg) from None


class IndexBackward0(Node):
    def backward(self, g):
        return (index_put_accumulate_zeros(self.shape, self.idx, g),)


class AliasBackward0(Node):
    """x[...] or x[:, :]: an index that selects everything is recorded as an alias of the whole tensor."""

    def backward(self, g):
        return (g,)


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


def _is_bool_scalar(k) -> bool:
    return isinstance(k, (bool, np.bool_)) or (isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype == np.bool_)


def _is_basic_scalar(k) -> bool:
    """An int or a bool: torch makes a view step of it (select, or unsqueeze for a bool) before advanced indexing."""
    return isinstance(k, (int, np.integer, np.bool_)) or (isinstance(k, np.ndarray) and k.ndim == 0)


_ALL = slice(None)


def _view_steps(shape: tuple, idx) -> list:
    """The view ops torch applies, in order, for a basic index: (node class, attributes) per op.

    An int is a select, a slice a slice (inside a tuple, one that keeps a whole dim is skipped),
    None an unsqueeze; an index that applies none of them is an alias."""
    if not isinstance(idx, tuple):
        idx, whole_slices = (idx,), True
    else:
        whole_slices = False
    ellipsis_dims = len(shape) - sum(1 for it in idx if it is not None and it is not Ellipsis)
    shape = list(shape)
    dim = 0
    steps = []
    for it in idx:
        if it is None:
            steps.append((UnsqueezeBackward0, {"shape": tuple(shape)}))
            shape.insert(dim, 1)
            dim += 1
        elif it is Ellipsis:
            dim += ellipsis_dims
        elif isinstance(it, slice):
            size = shape[dim]
            whole = it.start in (None, 0) and it.step in (None, 1) and (it.stop is None or it.stop >= size)
            if not whole or whole_slices:
                start, stop, step = it.indices(size)
                attrs = {"shape": tuple(shape), "dim": dim, "start": start, "stop": stop, "step": step}
                steps.append((SliceBackward0, attrs))
                shape[dim] = len(range(start, stop, step))
            dim += 1
        else:
            steps.append((SelectBackward0, {"shape": tuple(shape), "dim": dim, "index": int(it) % shape[dim]}))
            del shape[dim]
    return steps


_LINK_DATA = np.empty(0)


def _record_view_steps(self: Tensor, res: Tensor, steps: list) -> None:
    """Record torch's chain of view nodes from self to res (the last node is res.grad_fn)."""
    if not steps:
        steps = [(AliasBackward0, {})]
    prev = self
    last = len(steps) - 1
    for i, (cls, attrs) in enumerate(steps):
        out = res if i == last else wrap(_LINK_DATA)  # an intermediate result only carries its node
        node = attach(out, cls, prev)
        node.__dict__.update(attrs)
        prev = out


def _split_advanced(idx: tuple):
    """torch applies the basic part of a mixed index first: (the basic index, the advanced index into its result)."""
    basic, rest = [], []
    for it in idx:
        if it is None or isinstance(it, slice):
            basic.append(it)
            rest.append(slice(None))
        elif it is Ellipsis:
            basic.append(it)
            rest.append(it)
        elif _is_bool_scalar(it):
            basic.append(None)
            rest.append(np.array([bool(it)]))
        elif isinstance(it, (int, np.integer)):
            basic.append(it)
        else:
            basic.extend([slice(None)] * (it.ndim if isinstance(it, np.ndarray) and it.dtype == np.bool_ else 1))
            rest.append(it)
    return tuple(basic), tuple(rest)


def getitem(self: Tensor, key, converted: bool = False) -> Tensor:
    """self[key], a view for basic indexing and a copy for advanced indexing."""
    idx = key if converted else convert_index(key)
    a = self._data
    if not _is_basic(idx):
        return _advanced_getitem(self, idx)
    try:
        arr = a[idx]
    except IndexError as e:
        _raise_index_error(a, idx, e)
    if arr.__class__ is not np.ndarray:  # an element: NumPy returns a scalar, torch a 0-d view
        arr = a[(*idx, Ellipsis)] if isinstance(idx, tuple) else a[idx, ...]
    res = self._view_of(arr)
    if self._requires_grad and grad_enabled():
        _record_view_steps(self, res, _view_steps(a.shape, idx))
    return res


def _advanced_getitem(self: Tensor, idx) -> Tensor:
    """self[idx] for an index with tensors, lists or bools: a copy, recorded as IndexBackward0."""
    a = self._data
    items = idx if isinstance(idx, tuple) else (idx,)
    if any(it is None or it.__class__ is slice and it != _ALL or _is_basic_scalar(it) for it in items):
        basic, rest = _split_advanced(items)
        try:
            view = a[basic]
        except IndexError as e:
            _raise_index_error(a, idx, e)
        if _view_steps(a.shape, basic):
            # ints, None, bools or partial slices beside the tensors: index the view they make, as torch does
            self, idx, a = getitem(self, basic, converted=True), rest, view
    try:
        arr = a[idx]
    except IndexError as e:
        _raise_index_error(a, idx, e)
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


def _write_index(a: np.ndarray, idx, v) -> None:
    """a[idx] = v in torch's order of dims: ints, None, bools and partial slices beside tensor indices are applied
    first (a NumPy view), and the tensors index what they leave, as getitem reads (NumPy would move the dims of
    separated advanced indices to the front: x[0, :, [0, 1]] is (2, n) there, (n, 2) in torch)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    if not _is_basic(idx) and any(
        it is None or it.__class__ is slice and it != _ALL or _is_basic_scalar(it) for it in items
    ):
        basic, idx = _split_advanced(items)
        a = a[basic]
    a[idx] = v


def _index_put(self: Tensor, idx, value) -> Tensor:
    out = self._data.copy()
    v = value._data if isinstance(value, Tensor) else value
    try:
        _write_index(out, idx, v)
    except IndexError as e:
        _raise_index_error(self._data, idx, e)
    except ValueError:
        _refuse_value_shape(self, idx, v)
    res = wrap(out)
    node = record(res, IndexPutBackward0, self, value if isinstance(value, Tensor) else None)
    if node is not None:
        node.shape, node.idx = out.shape, idx
        node.v_shape = value._data.shape if isinstance(value, Tensor) else ()
    return res


def _refuse_value_shape(self: Tensor, idx, v) -> None:
    target = getitem(wrap(self._data), idx, converted=True).shape
    raise RuntimeError(
        f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to indexing result of shape "
        f"{list(target)}"
    ) from None


@quietly
def setitem(self: Tensor, key, value) -> None:
    """self[key] = value, in place, recorded for autograd when needed."""
    idx = convert_index(key)
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        value = wrap(value)
    recording = grad_enabled() and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if not recording:
        v = value._data if isinstance(value, Tensor) else value
        try:
            _write_index(self._data, idx, v)
        except IndexError as e:
            _raise_index_error(self._data, idx, e)
        except ValueError as e:
            if "read-only" in str(e):
                raise RuntimeError("cannot write into an expanded (broadcast) tensor; call .clone() first") from None
            _refuse_value_shape(self, idx, v)
        self._version.value += 1
        return

    apply_inplace(self, lambda s, v: _index_put(s, idx, v), value)


TENSOR_METHODS = {"__getitem__": getitem, "__setitem__": setitem}
PUBLIC: dict = {}


# ---------------------------------------------------------------------------- index_* along one dim
def _index_vector(index, name: str) -> np.ndarray:
    """The int64 index array of an index_* op, checked for dtype and rank."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    a = index._data
    if a.dtype.kind not in "iu" or a.dtype == np.uint8:
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if a.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return a.reshape(-1).astype(np.int64, copy=False)


def _check_range(idx: np.ndarray, size: int, dim: int, prefix: str = "", exc=IndexError) -> np.ndarray:
    bad = idx[(idx < -size) | (idx >= size)]
    if bad.size:
        raise exc(f"{prefix}index {int(bad[0])} is out of bounds for dimension {dim} with size {size}")
    return np.where(idx < 0, idx + size, idx)


def _take_dim(a: np.ndarray, d: int, idx: np.ndarray) -> tuple:
    """A NumPy index selecting positions idx along axis d."""
    key = [slice(None)] * a.ndim
    key[d] = idx
    return tuple(key)


class IndexSelectBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        zeros = g.new_zeros(self.shape)
        if len(self.shape) == 0:
            return (g.reshape(()),)
        return (zeros.index_add(self.dim, index, g.reshape(self.g_shape)),)


def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """The entries at index (a 1-D integer tensor) along dim, as a copy."""
    idx = _index_vector(index, "index_select")
    a = input._data
    d = input._wrap_dim(dim)
    size = a.shape[d] if a.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if a.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        res = wrap(a.copy())
    else:
        res = wrap(np.take(a, idx, axis=d))
    node = record(res, IndexSelectBackward0, input)
    if node is not None:
        node.save(wrap(idx))
        node.shape, node.dim = a.shape, d
        node.g_shape = res._data.shape if a.ndim else (1,)
    if out is not None:
        return maybe_out(res, out)
    return res


def _check_source(name: str, input: Tensor, d: int, idx: np.ndarray, source: Tensor) -> None:
    a, s = input._data, source._data
    n = s.shape[d] if s.ndim else 1
    if idx.size != n:
        raise RuntimeError(
            f"{name}(): Number of indices ({idx.size}) should be equal to source.size(dim): ({n}), for dim: {d}"
        )
    if s.ndim and a.ndim and s.shape[:d] + s.shape[d + 1 :] != a.shape[:d] + a.shape[d + 1 :]:
        raise RuntimeError(
            f"{name}(): source shape {list(s.shape)} must match self shape {list(a.shape)} except at dimension {d}"
        )
    if s.dtype != a.dtype:
        raise RuntimeError(f"{name}(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type")


class IndexAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gs = g if self.next_nodes[0] is not None else None
        gsrc = None
        if self.next_nodes[1] is not None:
            gsrc = g.index_select(self.dim, index).reshape(self.src_shape)
            if self.alpha != 1:
                gsrc = gsrc * self.alpha
        return gs, gsrc


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with alpha * source added at index along dim (repeated indices accumulate)."""
    idx = _index_vector(index, "index_add")
    a = input._data
    d = input._wrap_dim(dim)
    _check_source("index_add_", input, d, idx, source)
    idx = _check_range(idx, a.shape[d] if a.ndim else 1, d, exc=RuntimeError)
    out = a.copy()
    src = source._data if alpha == 1 else source._data * alpha
    if a.ndim == 0:
        out += src.sum()
    else:
        np.add.at(out, _take_dim(out, d, idx), src.reshape(a.shape[:d] + (idx.size,) + a.shape[d + 1 :]))
    res = wrap(out.astype(a.dtype, copy=False))
    node = record(res, IndexAddBackward0, input, source)
    if node is not None:
        node.save(wrap(idx))
        node.dim, node.alpha, node.src_shape = d, alpha, source._data.shape
    return res


class IndexCopyBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gs = g.index_fill(self.dim, index, 0.0) if self.next_nodes[0] is not None else None
        gsrc = g.index_select(self.dim, index).reshape(self.src_shape) if self.next_nodes[1] is not None else None
        return gs, gsrc


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """input with source's slices written at index along dim."""
    idx = _index_vector(index, "index_copy")
    a = input._data
    d = input._wrap_dim(dim)
    _check_source("index_copy_", input, d, idx, source)
    idx = _check_range(idx, a.shape[d] if a.ndim else 1, d, "index_copy_(): ")
    out = a.copy()
    if a.ndim == 0:
        out[...] = source._data.reshape(())
    else:
        out[_take_dim(out, d, idx)] = source._data.reshape(a.shape[:d] + (idx.size,) + a.shape[d + 1 :])
    res = wrap(out)
    node = record(res, IndexCopyBackward0, input, source)
    if node is not None:
        node.save(wrap(idx))
        node.dim, node.src_shape = d, source._data.shape
    return res


class IndexFillBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gs = g.index_fill(self.dim, index, 0.0) if self.next_nodes[0] is not None else None
        gv = g.index_select(self.dim, index).sum() if self.next_nodes[1] is not None else None
        return gs, gv


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """input with value written at index along dim."""
    idx = _index_vector(index, "index_fill")
    a = input._data
    d = input._wrap_dim(dim)
    idx = _check_range(idx, a.shape[d] if a.ndim else 1, d)
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {vt._data.ndim} dimension(s)."
        )
    v = vt._data if vt is not None else value
    out = a.copy()
    if a.ndim == 0:
        if idx.size:
            out[...] = v
    else:
        out[_take_dim(out, d, idx)] = v
    res = wrap(out)
    node = record(res, IndexFillBackward0, input, vt)
    if node is not None:
        node.save(wrap(idx))
        node.dim = d
    return res


# ---------------------------------------------------------------------------- masks and flat indices
class MaskedSelectBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        full = g.new_zeros(self.b_shape).masked_scatter(mask.expand(self.b_shape), g)
        return (unbroadcast(full, self.shape),)


def _check_bool_mask(name: str, mask) -> None:
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask")


def _broadcast_pair(a_shape, b_shape) -> tuple:
    try:
        return np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        for i in range(1, max(len(a_shape), len(b_shape)) + 1):
            x = a_shape[-i] if i <= len(a_shape) else 1
            y = b_shape[-i] if i <= len(b_shape) else 1
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension "
                    f"{max(len(a_shape), len(b_shape)) - i}"
                ) from None
        raise


def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """A 1-D tensor of the elements where mask (broadcast with input) is True."""
    _check_bool_mask("masked_select", mask)
    shape = _broadcast_pair(input._data.shape, mask._data.shape)
    a = np.broadcast_to(input._data, shape)
    m = np.broadcast_to(mask._data, shape)
    res = wrap(np.require(a[m], requirements="C"))
    node = record(res, MaskedSelectBackward0, input)
    if node is not None:
        node.save(mask)
        node.shape, node.b_shape = input._data.shape, shape
    if out is not None:
        return maybe_out(res, out)
    return res


class MaskedScatterBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        gs = unbroadcast(g.masked_fill(mask, 0.0), self.shape) if self.next_nodes[0] is not None else None
        gsrc = None
        if self.next_nodes[1] is not None:
            picked = g.masked_select(mask)
            rest = self.src_numel - picked.shape[0]
            if rest:
                from .shape import cat

                picked = cat([picked, picked.new_zeros((rest,))])
            gsrc = picked.reshape(self.src_shape)
        return gs, gsrc


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with the True positions of mask filled, in order, from source's leading elements."""
    _check_bool_mask("masked_scatter_", mask)
    shape = _broadcast_pair(input._data.shape, mask._data.shape)
    m = np.broadcast_to(mask._data, shape)
    n = int(m.sum())
    if source._data.size < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"masked_scatter_: expected self and source to have same dtypes but got {input.dtype} and {source.dtype}"
        )
    out = np.array(np.broadcast_to(input._data, shape))
    out[m] = source._data.reshape(-1)[:n]
    res = wrap(out)
    node = record(res, MaskedScatterBackward0, input, source)
    if node is not None:
        node.save(wrap(np.require(m, requirements="C")))
        node.shape, node.src_shape, node.src_numel = input._data.shape, source._data.shape, source._data.size
    return res


def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    a = input._data
    if as_tuple:
        if a.ndim == 0:
            return (wrap(np.zeros(int(a != 0), dtype=np.int64)),)
        return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(a))
    if a.ndim == 0:
        return wrap(np.zeros((int(a != 0), 0), dtype=np.int64))
    res = wrap(np.argwhere(a).astype(np.int64))
    if out is not None:
        return maybe_out(res, out)
    return res


def argwhere(input: Tensor) -> Tensor:
    """Indices of the nonzero elements as an (n, ndim) int64 tensor."""
    return nonzero(input)


class TakeBackward0(Node):
    def backward(self, g):
        flat = index_put_accumulate_zeros((self.numel,), (self.idx,), g)
        return (flat.reshape(self.shape),)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened input at index; the result has index's shape."""
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise RuntimeError(
            "take(): Expected a long tensor for index, but got "
            + (str(index.dtype) if isinstance(index, Tensor) else type(index).__name__)
        )
    a = input._data.reshape(-1)
    idx = index._data
    bad = idx[(idx < -a.size) | (idx >= a.size)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {int(bad.flat[0])} on a tensor of {a.size} elements.")
    idx = np.where(idx < 0, idx + a.size, idx)
    res = wrap(a[idx])
    node = record(res, TakeBackward0, input)
    if node is not None:
        node.idx, node.numel, node.shape = idx, a.size, input._data.shape
    return res


# ---------------------------------------------------------------------------- index_put
class IndexPutAccumulateBackward(Node):
    def backward(self, g):
        gs = g if self.next_nodes[0] is not None else None
        gv = None
        if self.next_nodes[1] is not None:
            gv = unbroadcast(getitem(g, self.idx, converted=True), self.v_shape)
        return gs, gv


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """input with values written (or added, if accumulate) at the tuple of index tensors."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    idx = convert_index(tuple(indices))
    values = values if isinstance(values, Tensor) else wrap(np.asarray(values, dtype=input._data.dtype))
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {input.dtype} for the destination "
            f"and {values.dtype} for the source."
        )
    if not accumulate:
        return _index_put(input, idx, values)
    out = input._data.copy()
    try:
        np.add.at(out, idx, values._data)
    except IndexError as e:
        _raise_index_error(out, idx, e)
    res = wrap(out)
    node = record(res, IndexPutAccumulateBackward, input, values)
    if node is not None:
        node.idx, node.v_shape = idx, values._data.shape
    return res


# ---------------------------------------------------------------------------- gather / scatter
def _at_least_1d(a: np.ndarray) -> np.ndarray:
    """a, or a 0-d array seen as one element of a 1-D one (torch's gather and scatter treat 0-d operands so)."""
    return a if a.ndim else a.reshape(1)


def _check_index(name: str, input: Tensor, d: int, index: Tensor, src: Tensor | None = None) -> np.ndarray:
    """Validate a gather/scatter index (dtype, rank, sizes, range); return it as int64 with negatives refused.

    As in torch, a 0-d input, index or src counts as 1-D with one element."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = _at_least_1d(index._data)
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    a = _at_least_1d(input._data)
    if not idx.size:
        return idx.astype(np.int64, copy=False)
    if idx.ndim != a.ndim:
        operand = "input" if name == "gather" else "self"
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {operand} tensor")
    s = None if src is None else _at_least_1d(src._data)
    for k in range(idx.ndim):
        if s is not None and k >= s.ndim:
            n = s.ndim
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {k})")
        too_big_for_self = k != d and idx.shape[k] > a.shape[k]
        if s is not None and (too_big_for_self or idx.shape[k] > s.shape[k]):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                f"dimension {d} and to be no larger size than src {list(src.shape)}"
            )
        if too_big_for_self:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(index.shape)} to be no larger than self "
                f"{list(input.shape)} apart from dimension {d}"
            )
    if s is not None and s.ndim != idx.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    size = a.shape[d]
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise RuntimeError(f"index {int(bad.flat[0])} is out of bounds for dimension {d} with size {size}")
    return idx.astype(np.int64, copy=False)


def _full_index(idx: np.ndarray, d: int) -> tuple:
    """NumPy advanced index addressing input[..., idx[i], ...] for every position i of idx."""
    grids = list(np.indices(idx.shape, sparse=True))
    grids[d] = idx
    return tuple(grids)


class GatherBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        return (g.new_zeros(self.shape).scatter_add(self.dim, index, g),)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out=None) -> Tensor:
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim=0): values picked along dim by index."""
    a = input._data
    d = wrap_dim(dim, a.ndim)
    idx = _check_index("gather", input, d, index)
    if idx.size:
        picked = _at_least_1d(a)[_full_index(idx, d)]
    else:
        picked = np.empty(idx.shape, dtype=a.dtype)
    res = wrap(np.require(picked.reshape(index._data.shape), requirements="C"))
    node = record(res, GatherBackward0, input)
    if node is not None:
        node.save(index)
        node.shape, node.dim = a.shape, d
    if out is not None:
        return maybe_out(res, out)
    return res


def _src_piece(src: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The leading block of src with index's shape (torch only reads that much of src)."""
    return _at_least_1d(src)[tuple(slice(0, n) for n in idx.shape)]


class ScatterBackward0(Node):
    """scatter with a scalar value: positions written get no gradient."""

    def backward(self, g):
        (index,) = self.saved_tensors
        return (g.scatter(self.dim, index, 0.0),)


class ScatterBackward1(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gs = g.scatter(self.dim, index, 0.0) if self.next_nodes[0] is not None else None
        gsrc = None
        if self.next_nodes[1] is not None:
            gsrc = _pad_to(g.gather(self.dim, index), self.src_shape)
        return gs, gsrc


class ScatterAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gsrc = _pad_to(g.gather(self.dim, index), self.src_shape) if self.next_nodes[1] is not None else None
        return (g if self.next_nodes[0] is not None else None), gsrc


def _pad_to(t: Tensor, shape) -> Tensor:
    """t placed in the leading corner of zeros(shape) (src can be larger than index; either may be 0-d)."""
    shape = tuple(shape)
    if tuple(t.shape) == shape:
        return t
    if not shape:  # a 0-d src: index had one element
        return t.reshape(())
    if t.dim() == 0:
        t = t.reshape((1,) * len(shape))
        if tuple(t.shape) == shape:
            return t
    return index_put_accumulate_zeros(shape, tuple(slice(0, n) for n in t.shape), t)


def _scatter_common(name: str, input: Tensor, dim: int, index: Tensor, src):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    src_t = src if isinstance(src, Tensor) else None
    idx = _check_index(name, input, d, index, src_t)
    if src_t is not None and src_t._data.dtype != a.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    return a, d, idx, src_t


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """input with src's values (or a scalar value) written along dim at index."""
    if reduce is not None:
        if reduce == "add" and isinstance(src, Tensor):
            return scatter_add(input, dim, index, src)
        raise NotImplementedError(f"torch.scatter(reduce={reduce!r}) is not supported by ember; use scatter_add")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    a, d, idx, src_t = _scatter_common("scatter", input, dim, index, src)
    out = a.copy()
    if idx.size:
        _at_least_1d(out)[_full_index(idx, d)] = _src_piece(src_t._data, idx) if src_t is not None else src
    res = wrap(out)
    if src_t is None:
        node = record(res, ScatterBackward0, input)
    else:
        node = record(res, ScatterBackward1, input, src_t)
    if node is not None:
        node.save(index)
        node.dim = d
        if src_t is not None:
            node.src_shape = src_t._data.shape
    return res


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """input with src's values added along dim at index (repeated indices accumulate)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    a, d, idx, src_t = _scatter_common("scatter_add", input, dim, index, src)
    out = a.copy()
    if idx.size:
        np.add.at(_at_least_1d(out), _full_index(idx, d), _src_piece(src_t._data, idx))
    res = wrap(out)
    node = record(res, ScatterAddBackward0, input, src_t)
    if node is not None:
        node.save(index)
        node.dim, node.src_shape = d, src_t._data.shape
    return res


TENSOR_FUNCS = {
    "gather": gather,
    "scatter": scatter,
    "scatter_add": scatter_add,
    "index_select": index_select,
    "index_add": index_add,
    "index_copy": index_copy,
    "index_fill": index_fill,
    "masked_select": masked_select,
    "masked_scatter": masked_scatter,
    "nonzero": nonzero,
    "argwhere": argwhere,
    "take": take,
    "index_put": index_put,
}
TENSOR_METHODS.update(TENSOR_FUNCS)
TENSOR_METHODS.update(
    {
        "scatter_": inplace_method(scatter, "scatter_"),
        "scatter_add_": inplace_method(scatter_add, "scatter_add_"),
        "index_add_": inplace_method(index_add, "index_add_"),
        "index_copy_": inplace_method(index_copy, "index_copy_"),
        "index_fill_": inplace_method(index_fill, "index_fill_"),
        "masked_scatter_": inplace_method(masked_scatter, "masked_scatter_"),
        "index_put_": inplace_method(index_put, "index_put_"),
    }
)
PUBLIC.update(TENSOR_FUNCS)

"""Shape operations: view/reshape, transpose/permute, expand, squeeze/unsqueeze, cat/stack and more."""

from __future__ import annotations

import math

import numpy as np

from .._size import Size
from .._tensor import Tensor
from ._op import Node, record, wrap


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def infer_shape(shape: tuple, numel: int, src_shape) -> tuple:
    """Resolve a single -1 in shape and check the element count."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    if neg:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


class ReshapeAliasBackward0(ViewBackward0):
    pass


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(self: Tensor, *shape) -> Tensor:
    """A tensor with the same data and a new shape (no copy; the layout must allow it)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, Size, int)):
        from .. import _dtype as dt

        d = dt.to_dtype(shape[0])
        return self._view_of(self._data.view(d.np))
    shape = infer_shape(_shape_arg(shape), self._data.size, self._data.shape)
    a = self._data
    try:
        arr = a.view()
        arr.shape = shape
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    res = self._view_of(arr)
    node = record(res, ViewBackward0, self)
    if node is not None:
        node.shape = a.shape
    return res


def reshape(input: Tensor, *shape) -> Tensor:
    """A tensor with the given shape, sharing data when possible."""
    shape = infer_shape(_shape_arg(shape), input._data.size, input._data.shape)
    a = input._data
    if a.shape == shape:
        arr = a.view()
    else:
        arr = a.reshape(shape)
    res = input._view_of(arr) if np.shares_memory(arr, a) or arr.size == 0 else wrap(arr)
    node = record(res, ViewBackward0 if res._base is not None else UnsafeViewBackward0, input)
    if node is not None:
        node.shape = a.shape
    return res


def view_as(self: Tensor, other: Tensor) -> Tensor:
    """view(other.shape)."""
    return view(self, other._data.shape)


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    """reshape(other.shape)."""
    return reshape(self, other._data.shape)


class ExpandBackward0(Node):
    def backward(self, g):
        from ._op import unbroadcast

        return (unbroadcast(g, self.shape),)


def expand(self: Tensor, *sizes) -> Tensor:
    """A broadcast view with size-1 dims repeated (-1 keeps a size)."""
    sizes = _shape_arg(sizes)
    a = self._data
    if len(sizes) < a.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(a.shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({a.ndim})"
        )
    lead = len(sizes) - a.ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            target.append(s)
        else:
            cur = a.shape[i - lead]
            if s == -1:
                s = cur
            if cur != s and cur != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at non-singleton "
                    f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(a.shape)}"
                )
            target.append(s)
    target = tuple(target)
    if target == a.shape:
        res = self._view_of(a.view())
    else:
        res = self._view_of(np.broadcast_to(a, target))
    node = record(res, ExpandBackward0, self)
    if node is not None:
        node.shape = a.shape
    return res


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    """expand(other.shape)."""
    return expand(self, other._data.shape)


class PermuteBackward0(Node):
    def backward(self, g):
        return (g.permute(*np.argsort(self.dims).tolist()),)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions (a view)."""
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(input._wrap_dim(d) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    res = input._view_of(input._data.transpose(dims))
    node = record(res, PermuteBackward0, input)
    if node is not None:
        node.dims = dims
    return res


class TransposeBackward0(Node):
    def backward(self, g):
        return (g.transpose(self.d0, self.d1),)


class TBackward0(Node):
    def backward(self, g):
        return (g.t(),)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    a = input._data
    if a.ndim == 0:
        d0 = d1 = 0
        input._wrap_dim(dim0), input._wrap_dim(dim1)
        res = input._view_of(a.view())
    else:
        d0, d1 = input._wrap_dim(dim0), input._wrap_dim(dim1)
        res = input._view_of(np.swapaxes(a, d0, d1))
    node = record(res, TransposeBackward0, input)
    if node is not None:
        node.d0, node.d1 = d0, d1
    return res


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors are returned as they are)."""
    a = input._data
    if a.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    res = input._view_of(a.T)
    record(res, TBackward0, input)
    return res


class SqueezeBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dimensions (all, or the ones named by dim)."""
    a = input._data
    if dim is None:
        arr = a.reshape(tuple(s for s in a.shape if s != 1))
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {input._wrap_dim(d) for d in dims} if a.ndim else set()
        arr = a.reshape(tuple(s for i, s in enumerate(a.shape) if not (i in dims and s == 1)))
    res = input._view_of(arr)
    node = record(res, SqueezeBackward0, input)
    if node is not None:
        node.shape = a.shape
    return res


class UnsqueezeBackward0(SqueezeBackward0):
    pass


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at dim."""
    a = input._data
    n = a.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    res = input._view_of(np.expand_dims(a, dim % n))
    node = record(res, UnsqueezeBackward0, input)
    if node is not None:
        node.shape = a.shape
    return res


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    a = input._data
    if a.ndim == 0:
        return reshape(input, (1,))
    s, e = input._wrap_dim(start_dim), input._wrap_dim(end_dim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = a.shape[:s] + (math.prod(a.shape[s : e + 1]),) + a.shape[e + 1 :]
    return reshape(input, shape)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension dim into the given sizes."""
    a = input._data
    d = input._wrap_dim(dim)
    sizes = tuple(sizes)
    sizes = infer_shape(sizes, a.shape[d], (a.shape[d],))
    return reshape(input, a.shape[:d] + sizes + a.shape[d + 1 :])


class CloneBackward0(Node):
    def backward(self, g):
        return (g,)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that stays in the graph."""
    res = wrap(input._data.copy())
    record(res, CloneBackward0, input)
    return res


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """Self if already row-major, else a row-major copy."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


class CatBackward0(Node):
    def backward(self, g):
        out = []
        start = 0
        for n in self.sizes:
            out.append(g.narrow(self.dim, start, n) if n else None)
            start += n
        return tuple(out)


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dimension."""
    from .. import _dtype as dt

    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    parts = [x for x in tensors if not (x._data.ndim == 1 and x._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]
    if ref._data.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = ref._wrap_dim(dim)
    for i, x in enumerate(parts):
        if x._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {x._data.ndim}"
            )
        for k in range(ref._data.ndim):
            if k != d and x._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref._data.shape[k]} but "
                    f"got size {x._data.shape[k]} for tensor number {i} in the list."
                )
    rt = parts[0].dtype
    for x in parts[1:]:
        rt = dt.promote_types(rt, x.dtype)
    arr = np.concatenate([x._data for x in parts], axis=d).astype(rt.np, copy=False)
    res = wrap(arr)
    node = record(res, CatBackward0, *parts)
    if node is not None:
        node.dim, node.sizes = d, [x._data.shape[d] for x in parts]
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(res, out)
    return res


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(x._data.shape)} at entry {i}"
            )
    n = len(shape) + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return cat([unsqueeze(x, dim % n) for x in tensors], dim % n, out=out)


class NarrowBackward(Node):
    def backward(self, g):
        full = g.new_zeros(self.shape)
        idx = [slice(None)] * len(self.shape)
        idx[self.dim] = slice(self.start, self.start + self.length)
        full[tuple(idx)] = g
        return (full,)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The slice start:start+length of dimension dim (a view)."""
    d = input._wrap_dim(dim)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = [slice(None)] * input._data.ndim
    idx[d] = slice(start, start + length)
    res = input._view_of(input._data[tuple(idx)])
    node = record(res, NarrowBackward, input)
    if node is not None:
        node.shape, node.dim, node.start, node.length = input._data.shape, d, start, length
    return res


TENSOR_FUNCS = {
    "reshape": reshape, "permute": permute, "transpose": transpose, "t": t, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "flatten": flatten, "unflatten": unflatten, "clone": clone, "narrow": narrow,
    "swapaxes": transpose, "swapdims": transpose,
}
TENSOR_METHODS = dict(TENSOR_FUNCS)
TENSOR_METHODS.update(
    {
        "view": view, "view_as": view_as, "reshape_as": reshape_as, "expand": expand, "expand_as": expand_as,
        "contiguous": contiguous,
        "T": property(lambda self: permute(self, *reversed(range(self._data.ndim)))),
        "mT": property(lambda self: transpose(self, -2, -1)),
        "H": property(lambda self: permute(self, *reversed(range(self._data.ndim)))),
        "mH": property(lambda self: transpose(self, -2, -1)),
    }
)
PUBLIC = dict(TENSOR_FUNCS)
PUBLIC.update({"cat": cat, "concat": cat, "concatenate": cat, "stack": stack})

"""Shape operations: view/reshape, transpose/permute, expand, squeeze/unsqueeze, cat/stack and more."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dt
from .._size import Size
from .._tensor import Tensor
from ._inplace import maybe_out
from ._op import Node, record, unbroadcast, wrap


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
    # a.reshape either returns a view of a or a fresh copy, so the cheap bounds test is exact here
    res = input._view_of(arr) if np.may_share_memory(arr, a) or arr.size == 0 else wrap(arr)
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
        return (unbroadcast(g, self.shape),)


def broadcast_view(a: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only view of a broadcast to shape (which must be a valid broadcast target), like np.broadcast_to.

    For contiguous arrays the view is built directly from a's buffer with zero strides on the
    repeated axes, which costs a fraction of np.broadcast_to's setup."""
    if not a.flags.c_contiguous:
        return np.broadcast_to(a, shape)
    lead = len(shape) - a.ndim
    strides = [0] * lead
    for size, target, stride in zip(a.shape, shape[lead:], a.strides):
        strides.append(stride if size == target else 0)
    view = np.ndarray(shape, a.dtype, a, 0, tuple(strides))
    view.flags.writeable = False
    return view


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
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                )
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
        res = self._view_of(broadcast_view(a, target))
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
    def backward_arrays(self, g):
        # A gradient is never differentiated or changed in place here, so a plain tensor over the
        # transposed array serves; it lets a weight keep a freshly computed gradient as .grad.
        return (wrap(g._data.T),)

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
    node_cls = (
        SqueezeBackward0 if dim is None else SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1
    )
    node = record(res, node_cls, input)
    if node is not None:
        node.shape = a.shape
    return res


class SqueezeBackward1(SqueezeBackward0):
    """squeeze(dim): torch names the node by the form of the call."""


class SqueezeBackward2(SqueezeBackward0):
    """squeeze(dims) with a tuple of dims."""


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
        for n, dtype in zip(self.sizes, self.dtypes):
            if n is None:  # a skipped legacy empty 1-D input
                out.append(g.new_zeros((0,)).to(dtype))
                continue
            piece = g.narrow(self.dim, start, n)
            out.append(piece if piece.dtype is dtype or not dtype.is_floating_point else piece.to(dtype))
            start += n
        return tuple(out)


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
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
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref._data.ndim} and {x._data.ndim}")
        for k in range(ref._data.ndim):
            if k != d and x._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref._data.shape[k]} but "
                    f"got size {x._data.shape[k]} for tensor number {i} in the list."
                )
    rt = tensors[0].dtype
    for x in tensors[1:]:
        rt = dt.promote_types(rt, x.dtype)
    arr = np.concatenate([x._data for x in parts], axis=d).astype(rt.np, copy=False)
    res = wrap(arr)
    node = record(res, CatBackward0, *tensors)
    if node is not None:
        kept = {id(x) for x in parts}
        node.dim = d
        node.sizes = [x._data.shape[d] if id(x) in kept else None for x in tensors]
        node.dtypes = [x.dtype for x in tensors]
    if out is not None:
        return maybe_out(res, out)
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
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    d = dim % n
    rt = tensors[0].dtype
    for x in tensors[1:]:
        rt = dt.promote_types(rt, x.dtype)
    res = wrap(np.stack([x._data for x in tensors], axis=d).astype(rt.np, copy=False))
    node = record(res, StackBackward0, *tensors)
    if node is not None:
        node.dim = d
        node.dtypes = [x.dtype for x in tensors]
    if out is not None:
        return maybe_out(res, out)
    return res


class StackBackward0(Node):
    """The node of stack: each input's gradient is its slice of g along the new dim."""

    def backward(self, g):
        pieces = [g.select(self.dim, i) for i in range(len(self.dtypes))]
        return tuple(p if p.dtype is d or not d.is_floating_point else p.to(d) for p, d in zip(pieces, self.dtypes))


class SliceBackward0(Node):
    """The node of a slice start:stop:step along one dim (narrow, x[a:b]): g placed back into zeros."""

    def backward(self, g):
        from .indexing import index_put_accumulate_zeros

        idx = [slice(None)] * len(self.shape)
        idx[self.dim] = slice(self.start, self.stop, self.step)
        return (index_put_accumulate_zeros(self.shape, tuple(idx), g),)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The slice start:start+length of dimension dim (a view)."""
    d = input._wrap_dim(dim)
    size = input._data.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = [slice(None)] * input._data.ndim
    idx[d] = slice(start, start + length)
    res = input._view_of(input._data[tuple(idx)])
    node = record(res, SliceBackward0, input)
    if node is not None:
        node.shape, node.dim, node.start, node.stop, node.step = input._data.shape, d, start, start + length, 1
    return res


class SelectBackward0(Node):
    def backward(self, g):
        from .indexing import index_put_accumulate_zeros

        idx = [slice(None)] * len(self.shape)
        idx[self.dim] = self.index
        return (index_put_accumulate_zeros(self.shape, tuple(idx), g),)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at index along dim, with that dimension removed (a view)."""
    a = input._data
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = input._wrap_dim(dim)
    size = a.shape[d]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(a.shape)} at dimension {d}")
    index %= size
    idx = [slice(None)] * a.ndim
    idx[d] = index
    res = input._view_of(a[(*idx, Ellipsis)])  # the trailing ... keeps a 0-d result an array view, not a scalar
    node = record(res, SelectBackward0, input)
    if node is not None:
        node.shape, node.dim, node.index = a.shape, d, index
    return res


def _split_sizes(input: Tensor, split_size_or_sections, d: int) -> list:
    size = input._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension "
                f"{d}), but got split_sizes={sizes}"
            )
        return sizes
    step = int(split_size_or_sections)
    if step < 0 or (step == 0 and size != 0):
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    if size == 0:
        return [0]
    return [min(step, size - s) for s in range(0, size, step)]


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of tensor along dim: equal chunks of a given size (the last may be smaller) or given sizes."""
    d = tensor._wrap_dim(dim)
    out, start = [], 0
    for n in _split_sizes(tensor, split_size_or_sections, d):
        out.append(narrow(tensor, d, start, n))
        start += n
    return tuple(out)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """split with an explicit list of sizes."""
    return split(input, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into at most chunks pieces of ceil(size / chunks) along dim."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = input._wrap_dim(dim)
    size = input._data.shape[d]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return tuple(narrow(input, d, 0, 0) for _ in range(min(chunks, 1) if size else chunks))
    return split(input, step, d)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into n nearly equal pieces, or at the given indices, along dim."""
    d = input._wrap_dim(dim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [0] + [min(max(int(i) + (size if int(i) < 0 else 0), 0), size) for i in indices_or_sections] + [size]
    else:
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        bounds = [0]
        for i in range(n):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    return tuple(narrow(input, d, s, max(e - s, 0)) for s, e in zip(bounds[:-1], bounds[1:]))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """All slices along dim, with that dimension removed."""
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = input._wrap_dim(dim)
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dimension(s) source to position(s) destination, keeping the others in order."""
    n = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number of "
            f"dims as destination ({dst} dims)"
        )
    src = [input._wrap_dim(s) for s in src]
    dst = [input._wrap_dim(s) for s in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    order = [None] * n
    for s, t_ in zip(src, dst):
        order[t_] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    if n == 0:
        return permute(input)
    return permute(input, *order)


class FlipBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dims),)


def flip(input: Tensor, *dims) -> Tensor:
    """Reverse the order of elements along the given dims (a copy, as in torch)."""
    dims = _shape_arg(dims) if dims else ()
    a = input._data
    wrapped = tuple(input._wrap_dim(d) for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(
            f"dims has duplicates, original flip dims size={len(dims)}, but unique flip dims size={len(set(wrapped))}"
        )
    res = wrap(np.flip(a, wrapped).copy() if a.ndim else a.copy())
    node = record(res, FlipBackward0, input)
    if node is not None:
        node.dims = wrapped if a.ndim else ()
    return res


def fliplr(input: Tensor) -> Tensor:
    """Flip the columns (dim 1); needs at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Flip the rows (dim 0); needs at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class RollBackward0(Node):
    def backward(self, g):
        return (g.roll(tuple(-s for s in self.shifts), self.dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along dims (the flattened tensor when dims is None)."""
    a = input._data
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts_t) != 1:
            raise RuntimeError(f"`shifts` required to be of size 1 when `dims` is not specified, got {len(shifts_t)}")
        res = roll(flatten(input), shifts_t[0], 0)
        return reshape(res, a.shape)
    dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts_t) != len(dims_t):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, dims:{len(dims_t)}")
    dims_t = tuple(input._wrap_dim(d) for d in dims_t)
    res = wrap(np.roll(a, shifts_t, dims_t) if a.ndim else a.copy())
    node = record(res, RollBackward0, input)
    if node is not None:
        node.shifts, node.dims = shifts_t, dims_t
    return res


class RepeatBackward0(Node):
    def backward(self, g):
        inter = []
        for r, s in zip(self.reps, self.padded):
            inter += [r, s]
        summed = g.reshape(tuple(inter)).sum(tuple(range(0, 2 * len(self.reps), 2))) if self.reps else g
        return (summed.reshape(self.shape),)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor: dimension i is repeated sizes[i] times (extra leading sizes add dims)."""
    reps = _shape_arg(sizes)
    a = input._data
    if len(reps) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)}")
    padded = (1,) * (len(reps) - a.ndim) + a.shape
    res = wrap(np.tile(a.reshape(padded), reps) if reps else a.copy())
    node = record(res, RepeatBackward0, input)
    if node is not None:
        node.reps, node.padded, node.shape = reps, padded, a.shape
    return res


def tile(input: Tensor, dims) -> Tensor:
    """Like repeat, but a short dims is padded with leading 1s."""
    dims = tuple(dims) if isinstance(dims, (list, tuple, Size)) else (int(dims),)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input: Tensor, repeats, dim=None, *, output_size=None) -> Tensor:
    """Repeat each element (along dim, or of the flattened tensor) repeats times."""
    if isinstance(input, Tensor) and isinstance(repeats, type(None)):
        raise TypeError("repeat_interleave() missing required argument 'repeats'")
    if dim is None:
        input = flatten(input)
        dim = 0
    d = input._wrap_dim(dim)
    if isinstance(repeats, Tensor):
        reps = repeats._data.astype(np.int64).reshape(-1)
    else:
        reps = np.asarray([int(repeats)], dtype=np.int64)
    size = input._data.shape[d]
    if reps.size == 1:
        reps = np.full(size, reps[0], dtype=np.int64)
    if reps.size != size:
        raise RuntimeError("repeats must have the same size as input along dim")
    if (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    index = wrap(np.repeat(np.arange(size, dtype=np.int64), reps))
    return input.index_select(d, index)


def ravel(input: Tensor) -> Tensor:
    """The flattened tensor (a view when possible)."""
    return reshape(input, (-1,))


def atleast_1d(*tensors):
    """Each tensor with at least one dimension."""
    out = [reshape(x, (1,)) if x._data.ndim == 0 else x for x in _tensor_list(tensors)]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (1-D become rows)."""
    out = [x if x._data.ndim >= 2 else reshape(x, (1, -1) if x._data.ndim else (1, 1)) for x in _tensor_list(tensors)]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions."""
    out = []
    for x in _tensor_list(tensors):
        n = x._data.ndim
        if n == 0:
            x = reshape(x, (1, 1, 1))
        elif n == 1:
            x = reshape(x, (1, -1, 1))
        elif n == 2:
            x = unsqueeze(x, -1)
        out.append(x)
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def _tensor_list(tensors) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def hstack(tensors, *, out=None) -> Tensor:
    """Concatenate horizontally: along dim 0 for 1-D tensors, else dim 1."""
    ts = atleast_1d(list(tensors))
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """Concatenate vertically (1-D tensors become rows)."""
    return cat(atleast_2d(list(tensors)), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None) -> Tensor:
    """Concatenate along the third dimension."""
    return cat(atleast_3d(list(tensors)), 2, out=out)


def column_stack(tensors, *, out=None) -> Tensor:
    """Stack 1-D tensors as columns (2-D ones are concatenated along dim 1)."""
    cols = [reshape(x, (-1, 1)) if x._data.ndim <= 1 else x for x in tensors]
    return cat(cols, 1, out=out)


TENSOR_FUNCS = {
    "reshape": reshape,
    "permute": permute,
    "transpose": transpose,
    "t": t,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "flatten": flatten,
    "unflatten": unflatten,
    "clone": clone,
    "narrow": narrow,
    "swapaxes": transpose,
    "swapdims": transpose,
    "select": select,
    "split": split,
    "split_with_sizes": split_with_sizes,
    "chunk": chunk,
    "tensor_split": tensor_split,
    "unbind": unbind,
    "movedim": movedim,
    "moveaxis": movedim,
    "flip": flip,
    "fliplr": fliplr,
    "flipud": flipud,
    "roll": roll,
    "tile": tile,
    "repeat_interleave": repeat_interleave,
    "ravel": ravel,
}
TENSOR_METHODS = dict(TENSOR_FUNCS)
TENSOR_METHODS.update(
    {
        "view": view,
        "view_as": view_as,
        "reshape_as": reshape_as,
        "expand": expand,
        "expand_as": expand_as,
        "contiguous": contiguous,
        "repeat": repeat,
        "T": property(lambda self: permute(self, *reversed(range(self._data.ndim)))),
        "mT": property(lambda self: transpose(self, -2, -1)),
        "H": property(lambda self: permute(self, *reversed(range(self._data.ndim)))),
        "mH": property(lambda self: transpose(self, -2, -1)),
    }
)
PUBLIC = dict(TENSOR_FUNCS)
PUBLIC.update(
    {
        "cat": cat,
        "concat": cat,
        "concatenate": cat,
        "stack": stack,
        "hstack": hstack,
        "vstack": vstack,
        "row_stack": vstack,
        "dstack": dstack,
        "column_stack": column_stack,
        "atleast_1d": atleast_1d,
        "atleast_2d": atleast_2d,
        "atleast_3d": atleast_3d,
    }
)

"""Reductions over all elements or chosen dimensions: sum, mean, prod, max/min, var/std, norms,
logsumexp, any/all, cumulative sums and products, median."""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtype as dt
from .._quiet_floats import quietly
from .._tensor import Tensor
from .._warn import warn_user
from ..autograd.grad_mode import grad_enabled
from ._cascade_sum import SERIAL_LIMIT, plan_of, torch_order_sum
from ._inplace import apply_inplace, maybe_out
from ._op import Node, attach, record, wrap, wrap_dim
from .return_types import values_indices
from .shape import broadcast_view

_INF = math.inf


def normalize_dims(dim, ndim: int) -> tuple:
    """dim (None, int, or a sequence) as a sorted tuple of non-negative axes, checked against ndim."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = dim
    else:
        dims = (dim,)
    n = builtins.max(ndim, 1)
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


def _dims_or_all(dim, ndim: int) -> tuple:
    """Like normalize_dims, but an empty tuple/list also means every dimension (torch's convention)."""
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    return normalize_dims(dim, ndim)


def expand_reduced(g: Tensor, shape, dims: tuple, keepdim: bool) -> Tensor:
    """Bring a reduced gradient back to the input shape (re-inserting reduced dims, then expanding)."""
    if not keepdim and dims:
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        g = g.reshape(tuple(kept))
    return g.expand(tuple(shape))


def _keep(arr: np.ndarray, shape, dims: tuple, keepdim: bool) -> np.ndarray:
    """A reduced array with its reduced dims kept as size 1 (for broadcasting against the input)."""
    if keepdim or not dims:
        return arr
    kept = list(shape)
    for d in dims:
        kept[d] = 1
    return arr.reshape(kept)


def _keep_t(t: Tensor, shape, dims: tuple, keepdim: bool) -> Tensor:
    if keepdim or not dims:
        return t
    kept = list(shape)
    for d in dims:
        kept[d] = 1
    return t.reshape(tuple(kept))


def _int_name(t: Tensor) -> str:
    return dt.scalar_type_name(t.dtype)


def _check_nonempty(name: str, a: np.ndarray, dims: tuple) -> None:
    """torch refuses max-like reductions over empty dimensions."""
    if a.size == 0:
        if not dims and a.ndim:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                "dim with the 'dim' argument."
            )
        for d in dims:
            if a.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if a.ndim == 0 or not dims:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                "dim with the 'dim' argument."
            )


# ---------------------------------------------------------------------------- sum / mean / prod
def _expanded(a: np.ndarray, shape: tuple, dims: tuple = (), keepdim: bool = True) -> np.ndarray:
    """expand_reduced on an array: the reduced dims put back as size 1, then broadcast to shape (as
    Tensor.expand does: a plain view when nothing is repeated, else a read-only broadcast view)."""
    if not keepdim and dims:
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        a = a.reshape(kept)
    return a.view() if a.shape == shape else broadcast_view(a, shape)


class SumBackward0(Node):
    def backward_arrays(self, g):
        return (wrap(_expanded(g._data, self.shape)),)

    def backward(self, g):
        return (g.expand(self.shape),)


class SumBackward1(Node):
    def backward_arrays(self, g):
        return (wrap(_expanded(g._data, self.shape, self.dims, self.keepdim)),)

    def backward(self, g):
        return (expand_reduced(g, self.shape, self.dims, self.keepdim),)


def _sum_dtype(t: Tensor, dtype):
    if dtype is not None:
        return dt.to_dtype(dtype).np
    if t._data.dtype.kind in "biu":
        return np.int64
    return None


def _cast_for(input: Tensor, dtype) -> Tensor:
    """input converted to dtype= (differentiably) before a reduction."""
    if dtype is None or dt.to_dtype(dtype) is input.dtype:
        return input
    return input.to(dt.to_dtype(dtype))


def float_sum(a: np.ndarray, dims: tuple, keepdim: bool, dtype) -> np.ndarray:
    """a summed over dims; float32/float64 in torch's own addition order where it can be reproduced."""
    if a.dtype.char in "fd":  # float32, float64
        if len(dims) != a.ndim and 0 < a.size <= SERIAL_LIMIT and a.flags.c_contiguous:
            # Partial reductions of small contiguous arrays: straight to the cached summation plan.
            plan = plan_of(a.shape, dims, a.itemsize, keepdim)
            if plan is not None:
                return plan(a)
        res = torch_order_sum(a, dims)
        if res is not None:
            return np.asarray(_keep(res, a.shape, dims, False) if keepdim else res)
    return np.asarray(a.sum(axis=dims, keepdims=keepdim, dtype=dtype))


@quietly
def sum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):  # noqa: A001
    """Sum of all elements, or over dim (integers and bools sum to int64)."""
    input = _cast_for(input, dtype)
    a = input._data
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        res = wrap(float_sum(a, tuple(range(a.ndim)), False, _sum_dtype(input, None)))
        if keepdim:
            res = wrap(res._data.reshape((1,) * a.ndim))
        if input._requires_grad and grad_enabled():
            attach(res, SumBackward0, input).shape = a.shape
        return res if out is None else _out(res, out)
    if dim.__class__ is int and 0 <= dim < a.ndim:
        dims = (dim,)  # the common cases, already normalized
    elif dim.__class__ is tuple and len(dim) == 1 and dim[0].__class__ is int and 0 <= dim[0] < a.ndim:
        dims = dim
    else:
        dims = normalize_dims(dim, a.ndim)
    res = wrap(float_sum(a, dims, keepdim, _sum_dtype(input, None)))
    if input._requires_grad and grad_enabled():
        node = attach(res, SumBackward1, input)
        node.shape, node.dims, node.keepdim = a.shape, dims, keepdim
    return res if out is None else _out(res, out)


def _out(res: Tensor, out):
    if out is None:
        return res

    return maybe_out(res, out)


@quietly
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero."""
    if input._data.dtype.kind == "f":
        input = input.masked_fill(input.isnan(), 0.0)
    return sum(input, dim, keepdim, dtype=dtype)


class MeanBackward0(Node):
    def backward_arrays(self, g):
        if g._data.dtype.kind != "f":
            return None
        # g / count as the tensor division computes it (count converted to g's dtype), then expanded.
        return (wrap(_expanded(np.asarray(g._data / g._data.dtype.type(self.count)), self.shape)),)

    def backward(self, g):
        return ((g / self.count).expand(self.shape),)


class MeanBackward1(Node):
    def backward_arrays(self, g):
        if g._data.dtype.kind != "f":
            return None
        scaled = np.asarray(g._data / g._data.dtype.type(self.count))
        return (wrap(_expanded(scaled, self.shape, self.dims, self.keepdim)),)

    def backward(self, g):
        return (expand_reduced(g / self.count, self.shape, self.dims, self.keepdim),)


def _mean_np(a: np.ndarray, dims: tuple, keepdim: bool) -> np.ndarray:
    """Mean over dims; for float32/float64 it is torch's sum divided by the count in the same dtype."""
    count = math.prod(a.shape[d] for d in dims)
    if a.dtype == np.float32 or a.dtype == np.float64:
        return np.asarray(float_sum(a, dims, keepdim, None) / a.dtype.type(count), dtype=a.dtype)
    if not a.size and len(dims) == a.ndim:
        return np.full((1,) * a.ndim if keepdim else (), np.nan, a.dtype)
    return np.asarray(a.mean(axis=dims, keepdims=keepdim), dtype=a.dtype)


@quietly
def mean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Average of all elements, or over dim (floating-point tensors only)."""
    if dtype is None and input._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {_int_name(input)}"
        )
    input = _cast_for(input, dtype)
    a = input._data
    with np.errstate(invalid="ignore", divide="ignore"):
        if dim is None or (isinstance(dim, (list, tuple)) and not dim):
            val = _mean_np(a, tuple(range(a.ndim)), False)
            res = wrap(val.reshape((1,) * a.ndim) if keepdim else val)
            node = record(res, MeanBackward0, input)
            if node is not None:
                node.shape, node.count = a.shape, a.size
            return _out(res, out)
        dims = normalize_dims(dim, a.ndim)
        res = wrap(_mean_np(a, dims, keepdim))
    node = record(res, MeanBackward1, input)
    if node is not None:
        count = math.prod(a.shape[d] for d in dims) if dims else 1
        node.shape, node.dims, node.keepdim, node.count = a.shape, dims, keepdim, count
    return _out(res, out)


@quietly
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over the non-NaN elements."""
    keep = ~input.isnan()
    total = nansum(input, dim, keepdim, dtype=dtype)
    return total / sum(keep, dim, keepdim)


def _prod_except(x: Tensor, d: int) -> Tensor:
    """For each element along d, the product of all the other elements there (zeros handled exactly)."""
    n = x.shape[d]
    one = x.narrow(d, 0, 1).detach() * 0 + 1
    left = _cat([one, x.narrow(d, 0, n - 1)], d).cumprod(d)
    right = _cat([x.narrow(d, 1, n - 1), one], d).flip(d).cumprod(d).flip(d)
    return left * right


def _cat(tensors, d):
    from .shape import cat

    return cat(tensors, d)


class ProdBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        if x.numel() == 0:
            return (x * 0,)
        flat = x.reshape(-1)
        return ((g * _prod_except(flat, 0)).reshape(self.shape),)


class ProdBackward1(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        if x.numel() == 0:
            return (x * 0,)
        if x.ndim == 0:
            return (g.reshape(()),)
        g = g if self.keepdim else g.unsqueeze(self.dim)
        return (g * _prod_except(x, self.dim),)


@quietly
def prod(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along one dim (integers and bools multiply in int64)."""
    input = _cast_for(input, dtype)
    a = input._data
    if dim is None:
        res = wrap(np.asarray(a.prod(dtype=_sum_dtype(input, None))))
        node = record(res, ProdBackward0, input)
        if node is not None:
            node.save(input)
            node.shape = a.shape
        return res
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple")
    d = wrap_dim(dim, a.ndim)
    axis = d if a.ndim else None
    res = wrap(np.asarray(a.prod(axis=axis, keepdims=keepdim and a.ndim > 0, dtype=_sum_dtype(input, None))))
    node = record(res, ProdBackward1, input)
    if node is not None:
        node.save(input)
        node.dim, node.keepdim = d, keepdim or a.ndim == 0
    return res


# ---------------------------------------------------------------------------- max / min family
class EvenlyDistributeBackward(Node):
    """Full max/min/median-style reductions: the gradient is shared evenly by every tied element."""

    def backward(self, g):
        (x,) = self.saved_tensors
        val = _keep_t(self.value, x.shape, self.dims, self.keepdim)
        mask = x == val
        if self.has_nan:
            mask = mask | (x.isnan() & val.isnan())
        mask = mask.to(g.dtype)
        count = mask.sum(self.dims, keepdim=True) if self.dims else mask
        return (_keep_t(g, x.shape, self.dims, self.keepdim) * mask / count,)


class MaxBackward1(EvenlyDistributeBackward):
    pass


class MinBackward1(EvenlyDistributeBackward):
    pass


class AmaxBackward0(EvenlyDistributeBackward):
    pass


class AminBackward0(EvenlyDistributeBackward):
    pass


class MedianBackward0(EvenlyDistributeBackward):
    pass


class ValueSelectingBackward(Node):
    """Reductions that return indices: the gradient goes to the selected element."""

    def backward(self, g):
        (idx,) = self.saved_tensors
        if self.ndim == 0:
            return (g.reshape(()),)
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            idx = idx.unsqueeze(self.dim)
        return (g.new_zeros(self.shape).scatter(self.dim, idx, g),)


class MaxBackward0(ValueSelectingBackward):
    pass


class MinBackward0(ValueSelectingBackward):
    pass


class MedianBackward1(ValueSelectingBackward):
    pass


def _save_even(node, res: Tensor, input: Tensor, dims: tuple, keepdim: bool, nan_aware: bool = True) -> None:
    """What a node that shares the gradient evenly among tied extremes keeps (nothing when node is None)."""
    if node is not None:
        node.save(input)
        node.value = res.detach()
        node.dims, node.keepdim = dims, keepdim
        # torch's amax/amin backward compares with ==, so a NaN result gives NaN gradients there
        node.has_nan = nan_aware and input._data.dtype.kind == "f" and bool(np.isnan(res._data).any())


def _save_select(node, input: Tensor, idx: Tensor, d: int, keepdim: bool) -> None:
    """What a node that sends the gradient to the selected indices keeps (nothing when node is None)."""
    if node is not None:
        node.save(idx)
        node.shape, node.dim, node.keepdim, node.ndim = input._data.shape, d, keepdim, input._data.ndim


def _extreme(name: str, is_max: bool, input: Tensor, dim, keepdim: bool, other):
    if isinstance(dim, Tensor) and other is None:
        if keepdim is not False:
            raise TypeError(f"{name}(): a tensor second argument (the elementwise form) takes no keepdim")
        dim, other = None, dim
    if other is not None:
        from .elementwise import maximum, minimum

        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
        return maximum(input, other) if is_max else minimum(input, other)
    a = input._data
    np_fn = np.max if is_max else np.min
    if dim is None:
        _check_nonempty(name, a, ())
        res = wrap(np.asarray(np_fn(a)))
        _save_even(
            record(res, MaxBackward1 if is_max else MinBackward1, input), res, input, tuple(range(a.ndim)), False
        )
        return res
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        idx = wrap(np.zeros((), dtype=np.int64))
        res = wrap(a.copy())
    else:
        _check_nonempty(name, a, (d,))
        arg = (np.argmax if is_max else np.argmin)(a, axis=d, keepdims=True)
        vals = np.take_along_axis(a, arg, axis=d)
        if not keepdim:
            arg, vals = arg.squeeze(d), vals.squeeze(d)
        idx, res = wrap(arg.astype(np.int64)), wrap(vals)
    _save_select(record(res, MaxBackward0 if is_max else MinBackward0, input), input, idx, d, keepdim)
    return values_indices(name, res, idx)


def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Largest element; with dim, a (values, indices) tuple; with a tensor, the elementwise maximum."""
    return _extreme("max", True, input, dim, keepdim, other)


def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Smallest element; with dim, a (values, indices) tuple; with a tensor, the elementwise minimum."""
    return _extreme("min", False, input, dim, keepdim, other)


def _amax_amin(name: str, is_max: bool, input: Tensor, dim, keepdim: bool) -> Tensor:
    a = input._data
    dims = _dims_or_all(dim, a.ndim)
    all_dims = dim is None or (isinstance(dim, (list, tuple)) and not dim)
    _check_nonempty(name, a, () if all_dims else dims)
    np_fn = np.max if is_max else np.min
    res = wrap(np.asarray(np_fn(a, axis=dims, keepdims=keepdim)))
    _save_even(
        record(res, AmaxBackward0 if is_max else AminBackward0, input), res, input, dims, keepdim, nan_aware=False
    )
    return res


def amax(input, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over dims (all by default); ties share the gradient."""
    return _amax_amin("amax", True, input, dim, keepdim)


def amin(input, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over dims (all by default); ties share the gradient."""
    return _amax_amin("amin", False, input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim: bool = False):
    """(min, max) over dim or all elements."""
    mn = _amax_amin("aminmax", False, input, () if dim is None else dim, keepdim)
    mx = _amax_amin("aminmax", True, input, () if dim is None else dim, keepdim)
    return _make_pair("aminmax", ("min", "max"), mn, mx)


def _make_pair(name, fields, a, b):
    from .return_types import make

    return make(name, fields)(a, b)


def _arg(name: str, is_max: bool, input: Tensor, dim, keepdim: bool) -> Tensor:
    a = input._data
    np_fn = np.argmax if is_max else np.argmin
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        res = np.asarray(np_fn(a), dtype=np.int64)
        return wrap(res.reshape((1,) * a.ndim) if keepdim else res)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return wrap(np.zeros((), dtype=np.int64))
    _check_nonempty(name, a, (d,))
    return wrap(np.asarray(np_fn(a, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor, or along dim)."""
    return _arg("argmax", True, input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor, or along dim)."""
    return _arg("argmin", False, input, dim, keepdim)


def median(input, dim=None, keepdim: bool = False):
    """Lower median of all elements, or a (values, indices) tuple along dim."""
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        if flat.size == 0:
            res = wrap(np.asarray(np.nan, dtype=a.dtype))
        else:
            res = wrap(np.asarray(_lower_median(flat[None], 1)[0][0]))
        _save_even(record(res, MedianBackward0, input), res, input, tuple(range(a.ndim)), False)
        return res
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        res, idx = wrap(a.copy()), wrap(np.zeros((), dtype=np.int64))
    else:
        _check_nonempty("median", a, (d,))
        vals, arg = _lower_median(np.moveaxis(a, d, -1), -1)
        vals, arg = np.moveaxis(vals[..., None], -1, d), np.moveaxis(arg[..., None], -1, d)
        if not keepdim:
            vals, arg = vals.squeeze(d), arg.squeeze(d)
        res, idx = wrap(np.require(vals, requirements="C")), wrap(np.require(arg, requirements="C"))
    _save_select(record(res, MedianBackward1, input), input, idx, d, keepdim)
    return values_indices("median", res, idx)


def _lower_median(a: np.ndarray, axis: int):
    """Lower median along the last axis (NaN wins, as in torch) and its index."""
    order = np.argsort(a, axis=-1, kind="stable")
    n = a.shape[-1]
    k = (n - 1) // 2
    pick = order[..., k]
    if a.dtype.kind == "f":
        nan_any = np.isnan(a).any(axis=-1)
        if nan_any.any():
            pick = np.where(nan_any, np.argmax(np.isnan(a), axis=-1), pick)
    vals = np.take_along_axis(a, pick[..., None], -1)[..., 0]
    return vals, pick.astype(np.int64)


# ---------------------------------------------------------------------------- var / std
def _var_args(name: str, input: Tensor, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):
        # var(input, unbiased) is the old positional form
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): can't specify both correction and unbiased arguments")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _dims_or_all(dim, input._data.ndim)
    return dims, keepdim, correction


def _var_np(a: np.ndarray, dims: tuple, keepdim: bool, correction) -> tuple:
    count = math.prod(a.shape[d] for d in dims) if dims else (1 if a.ndim == 0 else a.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = a.mean(axis=dims, keepdims=True) if a.size else np.full([1] * a.ndim, np.nan, a.dtype)
        dev = a - mu
        ssq = (dev * dev).sum(axis=dims, keepdims=keepdim)
        dof = builtins.max(count - correction, 0)
        var = np.asarray(ssq / dof if dof else ssq / np.asarray(0.0, dtype=a.dtype), dtype=a.dtype)
        mean = mu if keepdim else mu.reshape(var.shape)
    return var, mean, dof


class VarBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        dev = x - x.mean(self.dims, keepdim=True) if self.dims else x * 0
        return (_keep_t(g, x.shape, self.dims, self.keepdim) * dev * _inv_dof(self, 2.0),)


def _warn_dof(name: str, dof) -> None:
    if dof <= 0:
        warn_user(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
            "(input numel divided by output numel)."
        )


def _inv_dof(node, k: float) -> float:
    if node.dof > 0 or (node.dims and node.dof < 0):
        return k / node.dof
    return math.nan if not node.dims else _INF


def _raw_dof(a: np.ndarray, dims: tuple, correction) -> float:
    """N - correction without clamping: torch's backward divides by it as is."""
    count = math.prod(a.shape[d] for d in dims) if dims else (1 if a.ndim == 0 else a.size)
    return count - correction


class StdBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        zero = out == 0
        gs = (g / out.masked_fill(zero, 1.0)).masked_fill(zero, 0.0)
        dev = x - x.mean(self.dims, keepdim=True) if self.dims else x * 0
        scale = _inv_dof(self, 1.0)
        return (_keep_t(gs, x.shape, self.dims, self.keepdim) * dev * scale,)


@quietly
def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over dim (all by default), dividing by N - correction (Bessel's correction by default)."""
    dims, keepdim, correction = _var_args("var", input, dim, unbiased, keepdim, correction)
    v, _, dof = _var_np(input._data, dims, keepdim, correction)
    _warn_dof("var", dof)
    res = wrap(v)
    node = record(res, VarBackward0, input)
    if node is not None:
        node.save(input)
        node.dims, node.keepdim, node.dof = dims, keepdim, _raw_dof(input._data, dims, correction)
    return res


@quietly
def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation over dim (all by default), dividing by N - correction."""
    dims, keepdim, correction = _var_args("std", input, dim, unbiased, keepdim, correction)
    v, _, dof = _var_np(input._data, dims, keepdim, correction)
    _warn_dof("std", dof)
    res = wrap(np.sqrt(v))
    node = record(res, StdBackward0, input)
    if node is not None:
        node.save(input, output=res)
        node.dims, node.keepdim, node.dof = dims, keepdim, _raw_dof(input._data, dims, correction)
    return res


@quietly
def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over dim."""
    dims, _, _ = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return var(input, dims, unbiased, keepdim, correction=correction), mean(input, dims, keepdim)


@quietly
def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over dim."""
    dims, _, _ = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return std(input, dims, unbiased, keepdim, correction=correction), mean(input, dims, keepdim)


# ---------------------------------------------------------------------------- logsumexp / norms
class LogsumexpBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        ge = _keep_t(g, x.shape, self.dims, self.keepdim)
        oe = _keep_t(out, x.shape, self.dims, self.keepdim)
        return (ge * (x - oe).exp(),)


@quietly
def logsumexp(input, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over dim, computed without overflow."""
    if input._data.dtype.kind != "f":
        input = input.to(dt.get_default_dtype())
    a = input._data
    dims = _dims_or_all(dim, a.ndim)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if a.size == 0:
            m = np.zeros(_keep(np.zeros(()), a.shape, (), True).shape, a.dtype)
        else:
            m = np.max(a, axis=dims, keepdims=True) if dims else a.copy()
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype)
        s = np.exp(a - m).sum(axis=dims, keepdims=True) if dims else np.exp(a - m)
        out = np.log(s) + m
    if not keepdim and dims:
        out = out.reshape([s for i, s in enumerate(a.shape) if i not in dims])
    res = wrap(np.asarray(out, dtype=a.dtype))
    node = record(res, LogsumexpBackward0, input)
    if node is not None:
        node.save(input, output=res)
        node.dims, node.keepdim = dims, keepdim
    return res


class LinalgVectorNormBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        p = self.p
        ge = _keep_t(g, x.shape, self.dims, self.keepdim)
        oe = _keep_t(out, x.shape, self.dims, self.keepdim)
        if p == 0:
            return (x * 0,)
        if p == 1:
            return (ge * x.sign(),)
        zero = oe == 0
        safe = oe.masked_fill(zero, 1.0)  # a zero norm has a zero (sub)gradient, as in torch
        if p == 2:
            return ((ge * x / safe).masked_fill(zero, 0.0),)
        if math.isinf(p):
            mask = (x.abs() == oe).to(g.dtype)
            count = mask.sum(self.dims, keepdim=True) if self.dims else mask
            return (ge * x.sign() * mask / count,)
        scaled = x.sign() * x.abs().pow(p - 1)
        return ((ge * scaled / safe.pow(p - 1)).masked_fill(zero, 0.0),)


def _vector_norm_np(a: np.ndarray, p, dims: tuple, keepdim: bool) -> np.ndarray:
    ab = np.abs(a)
    kw = {"axis": dims, "keepdims": keepdim}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if p == 0:
            return np.asarray((ab != 0).sum(**kw), dtype=a.dtype)
        if p == _INF:
            return np.asarray(ab.max(**kw) if a.size else np.zeros(()), dtype=a.dtype)
        if p == -_INF:
            return np.asarray(ab.min(**kw), dtype=a.dtype)
        if p == 1:
            return np.asarray(ab.sum(**kw), dtype=a.dtype)
        if p == 2:
            return np.asarray(np.sqrt((ab * ab).sum(**kw)), dtype=a.dtype)
        return np.asarray((ab**p).sum(**kw) ** (1.0 / p), dtype=a.dtype)


@quietly
def vector_norm(input, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The p-norm of input viewed as a vector (or of each slice along dim)."""
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_int_name(input)}"
        )
    input = _cast_for(input, dtype)
    p = float(ord)
    a = input._data
    dims = _dims_or_all(dim, a.ndim)
    if a.size == 0 and p < 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the operation does not have an identity"
        )
    if a.ndim == 0:
        res = wrap(_vector_norm_np(a.reshape(1), p, (0,), False).reshape(()))
    else:
        res = wrap(_vector_norm_np(a, p, dims, keepdim))
    node = record(res, LinalgVectorNormBackward0, input)
    if node is not None:
        node.save(input, output=res)
        node.p, node.dims, node.keepdim = p, dims, keepdim
    return res


def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """Vector p-norm over dim (all elements by default); 'fro' is the 2-norm."""
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"torch.norm(p={p!r}) (matrix norms such as 'nuc') is not supported by ember")
        if isinstance(dim, (list, tuple)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
        p = 2
    if p is None:
        p = 2
    if isinstance(dim, int):
        dim = (dim,)
    return _out(vector_norm(input, p, dim, keepdim, dtype=dtype), out)


# ---------------------------------------------------------------------------- any / all / counting
def _logical_reduce(name: str, np_fn, input: Tensor, dim, keepdim: bool) -> Tensor:
    a = input._data
    if dim is None:
        res = np.asarray(np_fn(a))
        if keepdim:
            res = res.reshape((1,) * a.ndim)
    else:
        dims = normalize_dims(dim, a.ndim)
        res = np.asarray(np_fn(a, axis=dims, keepdims=keepdim)) if a.ndim else np.asarray(np_fn(a))
    # torch keeps uint8 for uint8 input; everything else gives bool
    return wrap(res.astype(np.uint8 if a.dtype == np.uint8 else np.bool_))


def all(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (over dim) is nonzero."""
    return _logical_reduce("all", np.all, input, dim, keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (over dim) is nonzero."""
    return _logical_reduce("any", np.any, input, dim, keepdim)


def count_nonzero(input, dim=None) -> Tensor:
    """Number of nonzero elements, over all or the given dims (int64)."""
    a = input._data
    dims = normalize_dims(dim, a.ndim) if dim is not None else None
    return wrap(np.asarray(np.count_nonzero(a, axis=dims) if a.ndim else int(a != 0), dtype=np.int64))


# ---------------------------------------------------------------------------- cumulative ops
class CumsumBackward0(Node):
    def backward(self, g):
        d = self.dim
        if g.ndim == 0:
            return (g,)
        return (g.flip(d).cumsum(d).flip(d),)


class CumprodBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        d = self.dim
        if x.ndim == 0 or x.numel() == 0:
            return (g,)
        if not bool((x._data == 0).any()):
            return ((g * out).flip(d).cumsum(d).flip(d) / x,)
        # With zeros, divide-free: build every prod_{j<=k, j!=i} x_j explicitly (O(n^2) per slice).
        xt = x.movedim(d, -1)
        gt = g.movedim(d, -1)
        n = xt.shape[-1]
        eye = wrap(np.eye(n, dtype=bool))
        rows = xt.unsqueeze(-2).expand(*xt.shape[:-1], n, n).masked_fill(eye, 1.0)
        upper = wrap(np.triu(np.ones((n, n), dtype=x._data.dtype)))
        partial = rows.cumprod(-1) * upper
        grad = (partial * gt.unsqueeze(-2)).sum(-1)
        return (grad.movedim(-1, d),)


def _cum_dtype(input: Tensor, dtype):
    if dtype is not None:
        return dt.to_dtype(dtype)
    if input._data.dtype.kind in "biu":
        return dt.int64
    return input.dtype


@quietly
def cumsum(input, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running sum along dim."""
    input = _cast_for(input, _cum_dtype(input, dtype))
    a = input._data
    d = wrap_dim(dim, a.ndim)
    res = wrap(np.cumsum(a, axis=d).astype(a.dtype, copy=False) if a.ndim else a.copy())
    node = record(res, CumsumBackward0, input)
    if node is not None:
        node.dim = d
    return _out(res, out)


@quietly
def cumprod(input, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running product along dim."""
    input = _cast_for(input, _cum_dtype(input, dtype))
    a = input._data
    d = wrap_dim(dim, a.ndim)
    res = wrap(np.cumprod(a, axis=d).astype(a.dtype, copy=False) if a.ndim else a.copy())
    node = record(res, CumprodBackward0, input)
    if node is not None:
        node.save(input, output=res)
        node.dim = d
    return _out(res, out)


def _cum_extreme(name: str, is_max: bool, input: Tensor, dim: int):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return values_indices(name, wrap(a.copy()), wrap(np.zeros((), np.int64)))
    n = a.shape[d]
    moved = np.moveaxis(a, d, -1)
    idx = np.zeros(moved.shape, dtype=np.int64)
    best = moved[..., 0].copy() if n else moved[..., :0]
    cur = np.zeros(moved.shape[:-1], dtype=np.int64)
    for i in range(n):
        v = moved[..., i]
        better = (v >= best) if is_max else (v <= best)
        if a.dtype.kind == "f":
            better = better | np.isnan(v)
        cur = np.where(better, i, cur)
        best = np.where(better, v, best)
        idx[..., i] = cur
    idx = np.require(np.moveaxis(idx, -1, d), requirements="C")
    index = wrap(idx)
    res = wrap(np.take_along_axis(a, idx, axis=d))
    node = record(res, CumExtremeBackward, input)
    if node is not None:
        node.save(index)
        node.dim, node.shape = d, a.shape
    return values_indices(name, res, index)


class CumExtremeBackward(Node):
    def backward(self, g):
        (idx,) = self.saved_tensors
        return (g.new_zeros(self.shape).scatter_add(self.dim, idx, g),)


def cummax(input, dim: int):
    """Running maximum along dim, with the index where it was reached."""
    return _cum_extreme("cummax", True, input, dim)


def cummin(input, dim: int):
    """Running minimum along dim, with the index where it was reached."""
    return _cum_extreme("cummin", False, input, dim)


TENSOR_FUNCS = {
    "sum": sum,
    "mean": mean,
    "nansum": nansum,
    "nanmean": nanmean,
    "prod": prod,
    "max": max,
    "min": min,
    "amax": amax,
    "amin": amin,
    "aminmax": aminmax,
    "argmax": argmax,
    "argmin": argmin,
    "median": median,
    "var": var,
    "std": std,
    "logsumexp": logsumexp,
    "norm": norm,
    "all": all,
    "any": any,
    "count_nonzero": count_nonzero,
    "cumsum": cumsum,
    "cumprod": cumprod,
    "cummax": cummax,
    "cummin": cummin,
}
TENSOR_METHODS = dict(TENSOR_FUNCS)
PUBLIC = dict(TENSOR_FUNCS)
PUBLIC.update({"var_mean": var_mean, "std_mean": std_mean})


def _cumsum_inplace(self: Tensor, dim: int, *, dtype=None) -> Tensor:

    return apply_inplace(self, lambda s: cumsum(s, dim, dtype=dtype))


TENSOR_METHODS["cumsum_"] = _cumsum_inplace

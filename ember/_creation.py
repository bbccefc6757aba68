"""Tensor creation: tensor, from_numpy, zeros/ones/full/empty, arange, linspace, eye, random tensors."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _dtype as dt
from ._device import check_device
from ._fma import fma64, fma_odd
from ._quiet_floats import quietly
from ._size import Size
from ._tensor import Tensor, _array_from_data


def _finish(arr: np.ndarray, requires_grad: bool = False, device=None) -> Tensor:
    check_device(device)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _size_arg(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral):
            raise TypeError(
                f"expected a sequence of integers as the size, but got an element of type {type(s).__name__}"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _dtype_or_default(dtype) -> np.dtype:
    return (dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()).np


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of data, with torch's dtype inference."""
    arr = _array_from_data(data, dtype)
    if isinstance(data, (Tensor, np.ndarray)) and np.shares_memory(
        arr, data._data if isinstance(data, Tensor) else data
    ):
        arr = arr.copy()
    return _finish(np.ascontiguousarray(arr) if arr.ndim else arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with data when possible (tensors and arrays of a matching dtype)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if (
        isinstance(data, np.ndarray)
        and (dtype is None or dt.to_dtype(dtype).np == data.dtype)
        and data.dtype in dt._FROM_NP
    ):
        return Tensor._wrap(data)
    return Tensor._wrap(_array_from_data(data, dtype))


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with the array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dt.from_numpy_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


def zeros(*size, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """A tensor filled with 0."""
    return _finish(np.zeros(_size_arg(size), dtype=_dtype_or_default(dtype)), requires_grad, device)


def ones(*size, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """A tensor filled with 1."""
    return _finish(np.ones(_size_arg(size), dtype=_dtype_or_default(dtype)), requires_grad, device)


def empty(
    *size,
    out=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    layout=None,
    memory_format=None,
    pin_memory=False,
) -> Tensor:
    """An uninitialized tensor (ember fills it with zeros, so it is deterministic)."""
    return _finish(np.zeros(_size_arg(size), dtype=_dtype_or_default(dtype)), requires_grad, device)


_C_TYPE_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}


def _fill_scalar(value, np_dtype: np.dtype, numel: int):
    """A Python number as a fill value of np_dtype, refused as torch refuses values that overflow it (an int
    below zero wraps into an unsigned dtype as long as its magnitude fits; float16 is checked, as in torch,
    only when more than one element is filled)."""
    np_dtype = np.dtype(np_dtype)
    value = _scalar_value(value)
    if np_dtype.kind == "b" or isinstance(value, (bool, np.bool_)) or np_dtype.kind == "c":
        return value
    if isinstance(value, numbers.Integral) and not -(2**63) <= int(value) < 2**64:
        raise OverflowError("int too big to convert")
    name = _C_TYPE_NAMES.get(np_dtype.name, {"float16": "c10::Half", "float32": "float"}.get(np_dtype.name))
    overflow = RuntimeError(f"value cannot be converted to type {name} without overflow")
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        if isinstance(value, numbers.Integral):
            value = int(value)
            if np_dtype.kind == "u" and value < 0:
                if -value > info.max:
                    raise overflow
                return value % (info.max + 1)
            if not info.min <= value <= info.max:
                raise overflow
            return value
        value = float(value)
        if not math.isfinite(value) or not info.min <= value <= info.max:
            raise overflow
        return value
    checked = np_dtype == np.float32 or (np_dtype == np.float16 and numel > 1)
    if checked and math.isfinite(float(value)) and abs(float(value)) > float(np.finfo(np_dtype).max):
        raise overflow
    return value


@quietly
def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """A tensor filled with fill_value (dtype inferred from it)."""
    if dtype is None:
        d = dt.default_for_kind(dt.scalar_kind(fill_value))
    else:
        d = dt.to_dtype(dtype)
    shape = _size_arg((size,))
    value = _fill_scalar(fill_value, d.np, math.prod(shape))
    return _finish(np.full(shape, value, dtype=d.np), requires_grad, device)


def _like(input: Tensor, dtype):
    return (dt.to_dtype(dtype) if dtype is not None else input.dtype).np, input._data.shape


def zeros_like(
    input, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """Zeros with input's shape and dtype."""
    d, s = _like(input, dtype)
    return _finish(np.zeros(s, dtype=d), requires_grad, device)


def ones_like(
    input, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """Ones with input's shape and dtype."""
    d, s = _like(input, dtype)
    return _finish(np.ones(s, dtype=d), requires_grad, device)


def empty_like(
    input, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """An (zero-filled) tensor with input's shape and dtype."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


@quietly
def full_like(
    input, fill_value, *, dtype=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """fill_value with input's shape and dtype."""
    d, s = _like(input, dtype)
    return _finish(np.full(s, _fill_scalar(fill_value, d, math.prod(s)), dtype=d), requires_grad, device)


# Chunk widths of torch's vectorized arange kernel (float32, float64); elements of a chunk are
# computed from the chunk's first value, so matching values bit for bit needs the same chunking.
_ARANGE_LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}


def _arange_values(start: float, step: float, n: int, np_dtype) -> np.ndarray:
    i = np.arange(n, dtype=np.float64)
    lanes = _ARANGE_LANES.get(np.dtype(np_dtype))
    # torch accumulates arange in double and then casts: plain double rounding is what it does.
    out = fma64(step, i, start).astype(np_dtype)
    if lanes is None:
        return out
    blocked = (n // (2 * lanes)) * 2 * lanes
    if blocked:
        k = i[:blocked] % lanes
        base = fma64(step, i[:blocked] - k, start).astype(np_dtype).astype(np.float64)
        out[:blocked] = fma64(k, step, base).astype(np_dtype)
    return out


def _scalar_value(v):
    if isinstance(v, Tensor):
        return v.item()
    return v


def arange(
    start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None
) -> Tensor:
    """Values from start up to (not including) end, step apart (bit-identical to torch's)."""
    if end is None:
        start, end = 0, start
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    for v in (start, end, step):
        if not isinstance(v, numbers.Real):
            raise TypeError(f"arange(): argument must be a number, not {type(v).__name__}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_float = any(isinstance(v, (float, np.floating)) for v in (start, end, step))
    if dtype is None:
        d = dt.get_default_dtype() if is_float else dt.int64
    else:
        d = dt.to_dtype(dtype)
    n = max(0, math.ceil((end - start) / step))
    if not is_float and not d.is_floating_point:
        arr = (start + step * np.arange(n, dtype=np.int64)).astype(d.np)
    elif d.is_floating_point:
        arr = _arange_values(float(start), float(step), n, d.np)
    else:
        arr = np.asarray(fma64(float(step), np.arange(n, dtype=np.float64), float(start))).astype(d.np)
    return _finish(arr, requires_grad, device)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Deprecated torch.range: includes end."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    return _finish(_arange_values(float(start), float(step), n, d.np), requires_grad, device)


def linspace(
    start, end, steps: int, *, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None
) -> Tensor:
    """steps values evenly spaced from start to end inclusive (bit-identical to torch's)."""
    if not isinstance(steps, numbers.Integral):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    d = dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    start, end = _scalar_value(start), _scalar_value(end)
    if steps == 0:
        return _finish(np.empty(0, dtype=d.np), requires_grad, device)
    if steps == 1:
        return _finish(np.array([start], dtype=d.np), requires_grad, device)
    # torch fills the first half upward from start and the rest downward from end, each value one
    # fused multiply-add in the output precision (double for integer outputs).
    if d.is_floating_point and d is not dt.float64:
        f = np.float32
        s, e = f(start), f(end)
        step = float((e - s) / f(steps - 1))
    else:
        if d.is_floating_point:
            s, e = float(start), float(end)
        else:
            s, e = float(d.np.type(start)), float(d.np.type(end))
        step = (e - s) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.empty(steps, dtype=np.float64)
    odd = d.is_floating_point and d is not dt.float64  # float32 kernels round once, to float32
    arr[:half] = (fma_odd if odd else fma64)(step, i[:half], float(s))
    arr[half:] = (fma_odd if odd else fma64)(-step, (steps - 1) - i[half:], float(e))
    if d.is_floating_point and d is not dt.float64:
        arr = arr.astype(np.float32)
    return _finish(arr.astype(d.np), requires_grad, device)


def logspace(
    start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """base ** linspace(start, end, steps)."""
    lin = linspace(start, end, steps, dtype=dt.float64)
    d = dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    return _finish(np.power(base, lin._data).astype(d.np), requires_grad, device)


def eye(
    n: int, m: int | None = None, *, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None
) -> Tensor:
    """An n x m identity matrix."""
    return _finish(np.eye(n, m, dtype=_dtype_or_default(dtype)), requires_grad, device)


# ---------------------------------------------------------------- Tensor.new_*
def _new_factory(fill):
    def method(self, *size, dtype=None, device=None, requires_grad: bool = False, **kw):
        d = dt.to_dtype(dtype).np if dtype is not None else self._data.dtype
        return _finish(fill(_size_arg(size), d), requires_grad, device)

    return method


def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A copy of data, with self's dtype unless given."""
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of fill_value with self's dtype unless given."""
    return full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


TENSOR_METHODS = {
    "new_zeros": _new_factory(np.zeros),
    "new_ones": _new_factory(np.ones),
    "new_empty": _new_factory(np.zeros),
    "new_tensor": new_tensor,
    "new_full": new_full,
}

PUBLIC = {
    "tensor": tensor,
    "as_tensor": as_tensor,
    "asarray": asarray,
    "from_numpy": from_numpy,
    "zeros": zeros,
    "ones": ones,
    "empty": empty,
    "full": full,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
    "empty_like": empty_like,
    "full_like": full_like,
    "arange": arange,
    "range": range_,
    "linspace": linspace,
    "logspace": logspace,
    "eye": eye,
}

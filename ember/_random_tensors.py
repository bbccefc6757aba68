"""Random tensors and the in-place random fills, drawing from the generator as torch's CPU kernels draw.

The sampling itself (which words make which value) is in ``_sampling.py``; this module handles
arguments, dtypes, errors and the order in which values are written into a tensor (memory order, as
torch's serial kernels write them).
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as dt
from . import _sampling as S
from ._creation import _dtype_or_default, _finish, _like, _size_arg
from ._size import Size
from ._tensor import Tensor
from .random import generator_or_default

_TORCH_TYPE_NAMES = {
    np.dtype(np.bool_): "Bool",
    np.dtype(np.uint8): "Byte",
    np.dtype(np.int8): "Char",
    np.dtype(np.int16): "Short",
    np.dtype(np.int32): "Int",
    np.dtype(np.int64): "Long",
    np.dtype(np.float16): "Half",
    np.dtype(np.float32): "Float",
    np.dtype(np.float64): "Double",
    np.dtype(np.complex64): "ComplexFloat",
    np.dtype(np.complex128): "ComplexDouble",
}


def _require_float(dtype: np.dtype, kernel: str) -> None:
    if np.dtype(dtype).kind != "f":
        name = _TORCH_TYPE_NAMES.get(np.dtype(dtype), str(dtype))
        raise RuntimeError(f"\"{kernel}\" not implemented for '{name}'")


def _write(arr: np.ndarray, values: np.ndarray) -> None:
    """Store values (one per element) into arr in memory order, the order torch's kernels fill it."""
    if arr.flags.c_contiguous:
        np.copyto(arr.reshape(-1), values.reshape(-1), casting="unsafe")
        return
    axes = sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]))
    view = arr.transpose(axes)
    np.copyto(view, values.reshape(view.shape), casting="unsafe")


def _contiguous(arr: np.ndarray) -> bool:
    return arr.flags.c_contiguous


# ---------------------------------------------------------------- factories
def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """Uniform samples from [0, 1)."""
    d = _dtype_or_default(dtype)
    _require_float(d, "check_uniform_bounds")
    shape = _size_arg(size)
    arr = S.uniform(generator_or_default(generator), math.prod(shape), d).reshape(shape)
    return _finish(arr, requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None) -> Tensor:
    """Standard normal samples."""
    d = _dtype_or_default(dtype)
    _require_float(d, "normal_kernel_cpu")
    shape = _size_arg(size)
    arr = S.normal(generator_or_default(generator), math.prod(shape), d).reshape(shape)
    return _finish(arr, requires_grad, device)


def _check_from_to(low: int, high: int) -> None:
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")


def randint(
    low,
    high=None,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    layout=None,
) -> Tensor:
    """Integers drawn uniformly from [low, high)."""
    if size is None:
        if isinstance(high, (tuple, list, Size)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    _check_from_to(low, high)
    d = dt.to_dtype(dtype) if dtype is not None else dt.int64
    shape = _size_arg((size,))
    arr = S.integers(generator_or_default(generator), math.prod(shape), low, high).reshape(shape)
    return _finish(arr.astype(d.np), requires_grad, device)


def randperm(n: int, *, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """A random permutation of 0..n-1."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    d = dt.to_dtype(dtype) if dtype is not None else dt.int64
    return _finish(S.randperm(generator_or_default(generator), n).astype(d.np), requires_grad, device)


def _value(x):
    return x._data if isinstance(x, Tensor) else x


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Normal samples with the given mean and std (each a number or a tensor)."""
    g = generator_or_default(generator)
    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if s_t and std._data.size and float(np.min(std._data)) < 0:
        raise RuntimeError(f"normal expects all elements of std >= 0.0, found {float(np.min(std._data))}")
    if not s_t and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: size is required")
        d = _dtype_or_default(dtype)
        _require_float(d, "normal_kernel_cpu")
        shape = _size_arg((size,))
        arr = S.normal(g, math.prod(shape), d, float(mean), float(std)).reshape(shape)
        return _finish(arr, requires_grad, device)
    src = mean if m_t else std
    d = src._data.dtype if dtype is None else dt.to_dtype(dtype).np
    _require_float(d, "normal_kernel_cpu")
    shape = np.broadcast_shapes(np.shape(_value(mean)), np.shape(_value(std)))
    n = math.prod(shape)
    if m_t and not s_t:  # draws with the given std, then adds the means
        z = S.normal(g, n, d, 0.0, float(std)).reshape(shape)
        arr = (z + mean._data.astype(d)).astype(d)
    else:  # standard draws, scaled by std, then shifted by mean
        z = S.normal(g, n, d).reshape(shape)
        arr = (z * np.asarray(_value(std), dtype=d) + np.asarray(_value(mean), dtype=d)).astype(d)
    return _finish(arr, requires_grad, device)


def rand_like(
    input, *, dtype=None, generator=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """rand with input's shape and dtype."""
    d, s = _like(input, dtype)
    return rand(s, dtype=dt.from_numpy_dtype(d), generator=generator, requires_grad=requires_grad, device=device)


def randn_like(
    input, *, dtype=None, generator=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """randn with input's shape and dtype."""
    d, s = _like(input, dtype)
    return randn(s, dtype=dt.from_numpy_dtype(d), generator=generator, requires_grad=requires_grad, device=device)


def randint_like(
    input, low, high=None, *, dtype=None, generator=None, device=None, requires_grad: bool = False
) -> Tensor:
    """randint with input's shape and dtype."""
    d, s = _like(input, dtype)
    return randint(low, high, s, dtype=dt.from_numpy_dtype(d), generator=generator, device=device)


def _check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """1 with probability input (or p), else 0, in input's dtype."""
    g = generator_or_default(generator)
    a = input._data
    if p is None:
        if a.size and (np.min(a) < 0 or np.max(a) > 1 or np.isnan(a).any()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        draws = S.bernoulli_tensor(g, a)
    else:
        _check_probability(float(p))
        draws = S.bernoulli_scalar(g, a.size, float(p)).reshape(a.shape)
    return Tensor._wrap(draws.astype(a.dtype))


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None, out=None) -> Tensor:
    """Draw category indices with probabilities proportional to each row of input."""
    return Tensor._wrap(S.multinomial(generator_or_default(generator), input._data, int(num_samples), replacement))


def poisson(input, generator=None) -> Tensor:
    """Poisson samples with the rates in input."""
    a = input._data
    _require_float(a.dtype, "poisson_cpu")
    if a.size and (np.min(a) < 0 or np.isnan(a).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Tensor._wrap(S.poisson(generator_or_default(generator), a).astype(a.dtype))


# ---------------------------------------------------------------- in-place fills
def _in_place(kernel: str, draw, floats_only: bool = True):
    """A Tensor method that fills self with draw(generator, self's array, *args)."""

    def method(self, *args, generator=None, **kwargs):
        from .ops._inplace import check_leaf_inplace

        check_leaf_inplace(self)
        if floats_only:
            _require_float(self._data.dtype, kernel)
        values = draw(generator_or_default(generator), self._data, *args, **kwargs)
        _write(self._data, np.asarray(values))
        self._version.value += 1
        return self

    method.__name__ = kernel
    return method


def _uniform_(g, a: np.ndarray, from_: float = 0.0, to: float = 1.0):
    """uniform_(from, to): uniform samples in [from, to)."""
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    return S.uniform(g, a.size, a.dtype, float(from_), float(to))


def _normal_(g, a: np.ndarray, mean: float = 0.0, std: float = 1.0):
    """normal_(mean, std)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return S.normal(g, a.size, a.dtype, float(mean), float(std), contiguous=_contiguous(a))


def _random_(g, a: np.ndarray, from_=None, to=None):
    """random_(), random_(to) or random_(from, to)."""
    if from_ is None and to is None:
        return S.full_range(g, a.size, a.dtype)
    if to is None:
        from_, to = 0, from_
    from_, to = int(from_), int(to)
    _check_from_to(from_, to)
    return S.integers(g, a.size, from_, to)


def _bernoulli_(g, a: np.ndarray, p=0.5):
    """bernoulli_(p) with p a number or a tensor of probabilities."""
    if isinstance(p, Tensor):
        return np.broadcast_to(S.bernoulli_tensor(g, np.broadcast_to(p._data, a.shape)), a.shape)
    _check_probability(float(p))
    return S.bernoulli_scalar(g, a.size, float(p))


def _exponential_(g, a: np.ndarray, lambd: float = 1.0):
    """exponential_(lambd)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return S.exponential(g, a.size, float(lambd))


def _geometric_(g, a: np.ndarray, p: float):
    """geometric_(p): the number of trials up to and including the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return S.geometric(g, a.size, float(p))


def _cauchy_(g, a: np.ndarray, median: float = 0.0, sigma: float = 1.0):
    """cauchy_(median, sigma)."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return S.cauchy(g, a.size, float(median), float(sigma))


def _log_normal_(g, a: np.ndarray, mean: float = 1.0, std: float = 2.0):
    """log_normal_(mean, std): exp of normal samples."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return S.log_normal(g, a.size, float(mean), float(std))


TENSOR_METHODS = {
    "uniform_": _in_place("check_uniform_bounds", _uniform_),
    "normal_": _in_place("normal_kernel_cpu", _normal_),
    "random_": _in_place("random_", _random_, floats_only=False),
    "bernoulli_": _in_place("bernoulli_", _bernoulli_, floats_only=False),
    "exponential_": _in_place("exponential_cpu", _exponential_),
    "geometric_": _in_place("geometric_cpu", _geometric_, floats_only=False),
    "cauchy_": _in_place("cauchy_cpu", _cauchy_),
    "log_normal_": _in_place("log_normal_cpu", _log_normal_),
}

PUBLIC = {
    "rand": rand,
    "randn": randn,
    "randint": randint,
    "randperm": randperm,
    "normal": normal,
    "rand_like": rand_like,
    "randn_like": randn_like,
    "randint_like": randint_like,
    "bernoulli": bernoulli,
    "multinomial": multinomial,
    "poisson": poisson,
}

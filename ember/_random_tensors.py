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
from ._creation import _dtype_or_default, _finish, _size_arg
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


# the C type names torch's range checks print
_C_NAMES = {
    np.dtype(np.bool_): "bool",
    np.dtype(np.uint8): "unsigned char",
    np.dtype(np.int8): "signed char",
    np.dtype(np.int16): "short int",
    np.dtype(np.int32): "int",
    np.dtype(np.int64): "long int",
    np.dtype(np.float16): "c10::Half",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
}


def _type_name(dtype) -> str:
    return _TORCH_TYPE_NAMES.get(np.dtype(dtype), str(dtype))


def _require_float(dtype: np.dtype, kernel: str) -> None:
    if np.dtype(dtype).kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(dtype)}'")


_write = S.write_in_memory_order


def _number(x: float) -> str:
    """A double as torch's messages print it (C++ stream formatting: 2, -0.5, 1e-05)."""
    return f"{x:g}"


def _digits(dtype: np.dtype) -> int:
    return {2: 11, 4: 24, 8: 53}[np.dtype(dtype).itemsize]


def _check_from_to(low: int, high: int, dtype=np.int64) -> tuple[int, int]:
    """torch's checks of random_(from, to) for dtype, and its adjustment of float bounds to values the dtype
    holds exactly; returns the (from, to) the draw then uses."""
    dtype = np.dtype(dtype)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    to_inc = high - 1
    if dtype.kind == "f":
        info = np.finfo(dtype)
        lo, hi = float(info.min), float(info.max)
    elif dtype == np.bool_:
        lo, hi = 0, 1
    else:
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
    name = _C_NAMES.get(dtype, str(dtype))
    for value, label in ((low, "from"), (to_inc, "to - 1")):
        if not lo <= value <= hi:
            raise RuntimeError(f"{label} is out of bounds for {name}")
    if dtype.kind == "f":
        digits = _digits(dtype)
        for value, label in ((low, "from"), (to_inc, "to - 1")):
            if not -(2**digits) <= value <= 2**digits:
                from ._warn import warn_user

                kind = {11: "c10::Half", 24: "float", 53: "double"}[digits]
                warn_user(
                    f"{label} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations {kind} can "
                    "support discrete uniform distribution only within this range. This warning will become an error "
                    "in version 1.7 release, please fix the code in advance",
                    UserWarning,
                )
        low, high = _float_from(low, dtype), _float_to(high, dtype)
        if low >= high:
            raise RuntimeError(
                "random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                f"from={low} >= to={high}"
            )
    return low, high


def _float_from(low: int, dtype: np.dtype) -> int:
    """from moved up to a value dtype represents, as torch moves it when from + 1 rounds below from."""
    plus_1 = int(np.array(low + 1, dtype=np.int64).astype(dtype))  # one rounding, as a C cast
    if plus_1 < low:
        n = abs(low + 1).bit_length() - 1
        low = plus_1 + (1 << (n - _digits(dtype) + 1))
    return low


def _float_to(high: int, dtype: np.dtype) -> int:
    """to moved down to a value dtype represents, as torch moves it when to - 1 rounds up to to or beyond."""
    minus_1 = int(np.array(high - 1, dtype=np.int64).astype(dtype))
    if minus_1 >= high:
        n = abs(high - 1).bit_length() - 1
        high = minus_1 - (1 << (n - _digits(dtype) + 1))
    return high


def _contiguous(arr: np.ndarray) -> bool:
    return arr.flags.c_contiguous


# ---------------------------------------------------------------- factories
def _out_dtype(dtype, out):
    """The dtype to draw in: the one given, else out's (torch draws straight into out), else the default."""
    if dtype is None and isinstance(out, Tensor):
        return out._data.dtype
    return _dtype_or_default(dtype)


def _done(arr: np.ndarray, requires_grad: bool, device, out) -> Tensor:
    if out is not None:
        from .ops._inplace import maybe_out

        return maybe_out(Tensor._wrap(arr), out)
    return _finish(arr, requires_grad, device)


def _extra_arguments(name: str, kw: dict) -> None:
    """torch's factories also take pin_memory (False only on a CPU-only build); anything else is refused."""
    if kw.pop("pin_memory", False):
        raise RuntimeError(
            "pin_memory=True requires a CUDA or other accelerator backend; no pinned memory allocator is available "
            "on this system."
        )
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")


def _shape_of(size: tuple, size_kw) -> tuple:
    if size_kw is not None:
        if size:
            raise TypeError("got multiple values for argument 'size'")
        size = (size_kw,)
    return _size_arg(size)


def rand(
    *size, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None, **kw
) -> Tensor:
    """Uniform samples from [0, 1)."""
    shape = _shape_of(size, kw.pop("size", None))
    _extra_arguments("rand", kw)
    d = _out_dtype(dtype, out)
    _require_float(d, "check_uniform_bounds")
    arr = S.uniform(generator_or_default(generator), math.prod(shape), d).reshape(shape)
    return _done(arr, requires_grad, device, out)


def randn(
    *size, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, layout=None, **kw
) -> Tensor:
    """Standard normal samples."""
    shape = _shape_of(size, kw.pop("size", None))
    _extra_arguments("randn", kw)
    d = _out_dtype(dtype, out)
    _require_float(d, "normal_kernel_cpu")
    arr = S.normal(generator_or_default(generator), math.prod(shape), d).reshape(shape)
    return _done(arr, requires_grad, device, out)


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
    d = dt.to_dtype(dtype).np if dtype is not None else (out._data.dtype if isinstance(out, Tensor) else np.int64)
    low, high = _check_from_to(int(low), int(high), d)
    shape = _size_arg((size,))
    arr = S.integers(generator_or_default(generator), math.prod(shape), low, high).reshape(shape)
    return _done(arr.astype(d), requires_grad, device, out)


def randperm(n: int, *, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """A random permutation of 0..n-1 (shuffled as torch shuffles it up to 214,748,363 elements)."""
    kw.pop("layout", None)
    _extra_arguments("randperm", kw)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = np.dtype(dt.to_dtype(dtype).np if dtype is not None else np.int64)
    if d == np.bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if d == np.float16 and n > 2049:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    if d == np.float32 and n > 2**24 + 1:
        raise RuntimeError("n cannot be greater than 2^24+1 for Float type.")
    if d.kind in "iu" and n - 1 > np.iinfo(d).max:
        c_name = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}.get(d.name, d.name)
        raise RuntimeError(f"value cannot be converted to type {c_name} without overflow")
    return _done(S.randperm(generator_or_default(generator), n).astype(d), requires_grad, device, out)


def _value(x):
    return x._data if isinstance(x, Tensor) else x


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Normal samples with the given mean and std (each a number or a tensor)."""
    g = generator_or_default(generator)
    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if s_t and std._data.size and float(np.min(std._data)) < 0:
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not s_t and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: size is required")
        d = _out_dtype(dtype, out)
        _require_float(d, "normal_kernel_cpu")
        shape = _size_arg((size,))
        arr = S.normal(g, math.prod(shape), d, float(mean), float(std)).reshape(shape)
        return _done(arr, requires_grad, device, out)
    src = mean if m_t else std
    d = src._data.dtype if dtype is None else dt.to_dtype(dtype).np
    _require_float(d, "normal_kernel_cpu")
    if m_t and s_t and mean._data.size != std._data.size:
        from .ops.elementwise import _check_broadcast_all

        try:
            _check_broadcast_all("normal", mean, std)
        except RuntimeError as e:  # torch's message here does not list the shapes
            raise RuntimeError(str(e).split(" (normal of shapes")[0]) from None
    shape = np.broadcast_shapes(np.shape(_value(mean)), np.shape(_value(std)))
    n = math.prod(shape)
    if m_t and not s_t:  # draws with the given std, then adds the means
        z = S.normal(g, n, d, 0.0, float(std)).reshape(shape)
        arr = (z + mean._data.astype(d)).astype(d)
    else:  # standard draws, scaled by std, then shifted by mean
        z = S.normal(g, n, d).reshape(shape)
        arr = (z * np.asarray(_value(std), dtype=d) + np.asarray(_value(mean), dtype=d)).astype(d)
    return _done(arr, requires_grad, device, out)


def _empty_like(input, dtype) -> np.ndarray:
    """An array with input's shape and memory layout (as torch's empty_like keeps strides)."""
    d = dt.to_dtype(dtype).np if dtype is not None else input._data.dtype
    return np.empty_like(input._data, dtype=d)


def rand_like(
    input, *, dtype=None, generator=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """rand with input's shape, dtype and layout."""
    arr = _empty_like(input, dtype)
    _require_float(arr.dtype, "check_uniform_bounds")
    _write(arr, _uniform_(generator_or_default(generator), arr))
    return _finish(arr, requires_grad, device)


def randn_like(
    input, *, dtype=None, generator=None, device=None, requires_grad: bool = False, layout=None, memory_format=None
) -> Tensor:
    """randn with input's shape, dtype and layout (a non-contiguous layout draws as torch does for one)."""
    arr = _empty_like(input, dtype)
    _require_float(arr.dtype, "normal_kernel_cpu")
    _write(arr, _normal_(generator_or_default(generator), arr))
    return _finish(arr, requires_grad, device)


def randint_like(
    input, low, high=None, *, dtype=None, generator=None, device=None, requires_grad: bool = False
) -> Tensor:
    """randint with input's shape, dtype and layout."""
    arr = _empty_like(input, dtype)
    if high is None:
        low, high = 0, low
    _write(arr, _random_(generator_or_default(generator), arr, low, high))
    return _finish(arr, requires_grad, device)


def _check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_number(p)}")


_P_RANGE = (
    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  If so, "
    "please report an enhancement request to PyTorch.)"
)


def _check_probabilities(p: np.ndarray) -> None:
    if p.dtype.kind != "f":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_type_name(p.dtype)}'")
    if p.size and (np.min(p) < 0 or np.max(p) > 1):
        raise RuntimeError(_P_RANGE)


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """1 with probability input (or p), else 0, in input's dtype and layout."""
    g = generator_or_default(generator)
    a = input._data
    result = np.empty(a.shape, dtype=a.dtype)  # torch's result is contiguous whatever input's layout
    if p is None:
        _check_probabilities(a)
        draws = S.bernoulli_tensor(g, a, result)
    else:
        _check_probability(float(p))
        draws = S.bernoulli_scalar(g, a.size, float(p))
    _write(result, draws)
    return _done(result, False, None, out)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None, out=None) -> Tensor:
    """Draw category indices with probabilities proportional to each row of input."""
    arr = S.multinomial(generator_or_default(generator), input._data, int(num_samples), replacement)
    return _done(arr, False, None, out)


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
        if kernel == "exponential_cpu" and self._data.dtype.kind != "f":
            raise RuntimeError(
                "Exponential distribution is a continuous probability distribution. dtype must be a floating point "
                f"but you specified {_type_name(self._data.dtype)}"
            )
        if floats_only:
            _require_float(self._data.dtype, kernel)
        if 0 in self._data.strides and self._data.size > 1:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation."
            )
        values = draw(generator_or_default(generator), self._data, *args, **kwargs)
        _write(self._data, np.asarray(values))
        self._version.value += 1
        return self

    method.__name__ = kernel
    return method


def _uniform_(g, a: np.ndarray, from_: float = 0.0, to: float = 1.0):
    """uniform_(from, to): uniform samples in [from, to)."""
    from_, to = float(from_), float(to)
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_number(from_)} > to={_number(to)}"
        )
    info = np.finfo(a.dtype)
    name = _C_NAMES.get(a.dtype, str(a.dtype))
    for value, label in ((from_, "from"), (to, "to")):
        if not float(info.min) <= value <= float(info.max):  # NaN and infinities too
            raise RuntimeError(f"{label} is out of bounds for {name}")
    if to - from_ > float(info.max):
        kind = {2: "Half", 4: "Float", 8: "Double"}[a.dtype.itemsize]
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{kind}>::max(), but found to={_number(to)} and "
            f"from={_number(from_)} which result in to-from to exceed the limit"
        )
    return S.uniform(g, a.size, a.dtype, from_, to)


def _normal_(g, a: np.ndarray, mean: float = 0.0, std: float = 1.0):
    """normal_(mean, std)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
    return S.normal(g, a.size, a.dtype, float(mean), float(std), contiguous=_contiguous(a))


def _random_(g, a: np.ndarray, from_=None, to=None):
    """random_(), random_(to) or random_(from, to)."""
    if from_ is None and to is None:
        return S.full_range(g, a.size, a.dtype)
    if to is None:
        from_, to = 0, from_
    elif from_ is None:
        from_ = 0
    from_, to = _check_from_to(int(from_), int(to), a.dtype)
    return S.integers(g, a.size, from_, to)


def _bernoulli_(g, a: np.ndarray, p=0.5):
    """bernoulli_(p) with p a number or a tensor of probabilities (read in a's memory order)."""
    if isinstance(p, Tensor):
        _check_probabilities(p._data)
        return S.bernoulli_tensor(g, p._data, a)
    _check_probability(float(p))
    return S.bernoulli_scalar(g, a.size, float(p))


def _exponential_(g, a: np.ndarray, lambd: float = 1.0):
    """exponential_(lambd)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return S.exponential(g, a.size, float(lambd))


def _geometric_(g, a: np.ndarray, p: float):
    """geometric_(p): the number of trials up to and including the first success."""
    if a.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
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


def _bernoulli_method(self, p=None, *, generator=None) -> Tensor:
    """Tensor.bernoulli(): torch.bernoulli(self, p)."""
    return bernoulli(self, p, generator=generator)


def _multinomial_method(self, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Tensor.multinomial(): torch.multinomial(self, ...)."""
    return multinomial(self, num_samples, replacement, generator=generator)


TENSOR_METHODS = {
    "bernoulli": _bernoulli_method,
    "multinomial": _multinomial_method,
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

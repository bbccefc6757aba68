"""Data types: torch-named wrappers around NumPy dtypes, and torch's promotion rules."""

from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, printed as torch prints it (``torch.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_dtype: type, kind: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self._kind = kind  # 0 bool, 1 integer, 2 floating: the promotion category
        self.is_floating_point = kind == 2
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        """Complex types are not supported, so always False."""
        return False

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
int16 = dtype("int16", np.int16, 1)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)

float = float32  # noqa: A001 - torch exports these aliases
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


# torch's C++ scalar-type names, which its error messages print ("expected ... Long but got Float").
_SCALAR_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def scalar_type_name(d) -> str:
    """torch's C++ name of an ember or NumPy dtype ("Float", "Long", ...), as torch's error messages print it."""
    name = d.name if isinstance(d, dtype) else np.dtype(d).name
    return _SCALAR_TYPE_NAMES.get(name, name)


_default_float = [float32]


def get_default_dtype() -> dtype:
    """The dtype given to tensors made from Python floats."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Change the dtype given to tensors made from Python floats."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float[0] = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype for a NumPy dtype; raises TypeError for ones ember lacks."""
    d = _FROM_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        )
    return d


def to_dtype(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype or a Python type and return the ember dtype."""
    if isinstance(d, dtype):
        return d
    if d is builtins_float:
        return float64  # as torch: the Python type float names double precision, whatever the default dtype
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if isinstance(d, str):
        name = d.removeprefix("torch.")
        if name in _NAMES:
            return _NAMES[name]
        aliases = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}
        if name in aliases:
            return aliases[name]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"expected a dtype (e.g. torch.float32), got {d!r}") from None


import builtins as _b  # noqa: E402

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool

_PROMOTE_CACHE: dict = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both a and b convert to without losing their category."""
    key = (a, b)
    r = _PROMOTE_CACHE.get(key)
    if r is None:
        if a is b:
            r = a
        elif a is bool_:
            r = b
        elif b is bool_:
            r = a
        elif {a, b} == {uint8, int8}:
            r = int16
        elif a._kind != b._kind:
            # Across categories the higher category wins outright (int64 + float16 -> float16).
            r = a if a._kind > b._kind else b
        else:
            r = _FROM_NP[np.promote_types(a.np, b.np)]
        _PROMOTE_CACHE[key] = r
    return r


def scalar_kind(x) -> int:
    """Promotion category of a Python scalar."""
    if isinstance(x, builtins_bool) or isinstance(x, np.bool_):
        return 0
    if isinstance(x, (builtins_int, np.integer)):
        return 1
    return 2


def default_for_kind(kind: int) -> dtype:
    """The dtype torch gives a lone Python scalar of this category."""
    return (bool_, int64, get_default_dtype())[kind]


def result_type(*operands) -> dtype:
    """Torch's promotion: dimensioned tensors beat 0-dim tensors, which beat Python scalars,
    unless the weaker operand belongs to a higher category (bool < integer < float)."""
    from ._tensor import Tensor

    dim_t = zero_t = scal = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x.dtype
            if x._data.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        else:
            k = scalar_kind(x)
            scal = k if scal is None or k > scal else scal
    res = dim_t
    if zero_t is not None and (res is None or zero_t._kind > res._kind):
        res = zero_t
    if scal is not None and (res is None or scal > res._kind):
        res = default_for_kind(scal)
    return res

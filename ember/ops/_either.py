"""Math that takes tensors and NumPy arrays alike, so a gradient formula is written once.

Each function calls the tensor method on a Tensor (recorded when a graph is being built) and, on an array
or NumPy scalar, the very NumPy function that method runs, so both give the same bits. Arithmetic operators
and comparisons need nothing here: arrays and tensors of one dtype already agree on them."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _array_math as array_math


def _pair(method: str, array_fn):
    """A function that calls Tensor.method on a tensor and array_fn on anything else."""

    def either(x, *args):
        if isinstance(x, Tensor):
            return getattr(x, method)(*args)
        return array_fn(x, *args)

    either.__name__ = method
    either.__doc__ = f"{method} of a tensor or of an array."
    return either


exp = _pair("exp", np.exp)
log1p = _pair("log1p", np.log1p)
sqrt = _pair("sqrt", np.sqrt)
sin = _pair("sin", np.sin)
cos = _pair("cos", np.cos)
sinh = _pair("sinh", np.sinh)
cosh = _pair("cosh", np.cosh)
tanh = _pair("tanh", np.tanh)
abs = _pair("abs", np.abs)  # noqa: A001
sigmoid = _pair("sigmoid", array_math.sigmoid)
erf = _pair("erf", array_math.erf)
clamp_min = _pair("clamp_min", lambda a, lo: np.clip(a, lo, None))
clamp_max = _pair("clamp_max", lambda a, hi: np.clip(a, None, hi))


def mask(cond, like):
    """A bool condition as 0/1 in like's dtype, to multiply a gradient with."""
    if isinstance(cond, Tensor):
        return cond.to(like.dtype)
    return np.asarray(cond).astype(like.dtype)


def where(cond, a, b):
    """a where cond holds, else b (b may be a Python number), for tensors or arrays."""
    if isinstance(cond, Tensor):
        from .elementwise import where as tensor_where  # elementwise imports this module's users

        return tensor_where(cond, a, b)
    return np.where(cond, a, b)

"""ember: neural networks from first principles on NumPy, with PyTorch's API."""

from __future__ import annotations

import builtins as _builtins

from . import _dtype
from ._creation import PUBLIC as _creation_public
from ._device import device, get_default_device, set_default_device
from ._dtype import (
    bool_ as bool,  # noqa: A004
    double,
    dtype,
    float,  # noqa: A004
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,  # noqa: A004
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from ._printing import get_printoptions, printoptions, set_printoptions
from ._size import Size
from ._tensor import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Tensor,
    bind_methods,
)
from .autograd import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.grad_mode import is_inference_mode_enabled
from .ops import PUBLIC as _ops_public
from .ops import TENSOR_METHODS as _ops_methods
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

uint8 = uint8
bool = bool  # noqa: A001
__version__ = "0.1.0"

bind_methods(_ops_methods)
from ._creation import TENSOR_METHODS as _creation_methods  # noqa: E402

from ._random_tensors import PUBLIC as _random_public  # noqa: E402
from ._random_tensors import TENSOR_METHODS as _random_methods  # noqa: E402

bind_methods(_creation_methods)
bind_methods(_random_methods)
globals().update(_creation_public)
globals().update(_random_public)
globals().update(_ops_public)

from . import autograd  # noqa: E402,F401
from ._lazy import install_lazy_submodules  # noqa: E402

install_lazy_submodules(globals())


def is_tensor(obj) -> bool:
    """Whether obj is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    """Whether input has a floating-point dtype."""
    return input.is_floating_point()


def numel(input) -> int:
    """Number of elements of input."""
    return input.numel()


def set_flush_denormal(mode: bool) -> bool:
    """Accepted for compatibility; ember's matmuls never slow down on subnormals (see docs)."""
    return True


def get_num_threads() -> int:
    """Threads the BLAS under NumPy may use for one matrix product."""
    from . import _blas

    return _blas.num_threads()


def set_num_threads(n: int) -> None:
    """Let the BLAS under NumPy use up to n threads per matrix product (OpenBLAS; else set OMP_NUM_THREADS)."""
    from . import _blas

    _blas.set_num_threads(n)


def compile(model=None, **kwargs):  # noqa: A001
    """Returns the model unchanged: ember runs eagerly."""
    if model is None:
        return lambda m: m
    return model


_deterministic = [False, False]  # [mode, warn_only] as last set


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted (and remembered): ember's CPU ops are deterministic already."""
    _deterministic[:] = [_builtins.bool(mode), _builtins.bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    """The mode last passed to use_deterministic_algorithms."""
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The warn_only last passed to use_deterministic_algorithms."""
    return _deterministic[1]


e = 2.718281828459045
pi = 3.141592653589793
inf = __builtins__["float"]("inf") if isinstance(__builtins__, dict) else __import__("math").inf
nan = __import__("math").nan
from ._layout import layout, strided  # noqa: E402

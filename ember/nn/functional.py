"""Stateless functional forms of the layers, activations and losses (torch.nn.functional)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from .._warn import warn_user as _warn_user
from ..ops import conv as _conv
from ..ops import nn_ops as K
from ..ops import pointwise as _pointwise
from ..ops._inplace import apply_inplace
from ..ops.linalg import linear as _linear_2d
from ..ops.linalg import matmul
from ..ops.reduction import vector_norm as _vector_norm
from ..random import default_generator as _default_generator

__all__ = [
    "linear",
    "bilinear",
    "relu",
    "relu_",
    "relu6",
    "leaky_relu",
    "leaky_relu_",
    "prelu",
    "elu",
    "elu_",
    "celu",
    "celu_",
    "selu",
    "selu_",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "sigmoid",
    "tanh",
    "hardtanh",
    "hardtanh_",
    "hardsigmoid",
    "hardswish",
    "logsigmoid",
    "threshold",
    "threshold_",
    "softmax",
    "log_softmax",
    "softmin",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "rrelu",
    "rrelu_",
    "one_hot",
    "normalize",
    "pad",
    "embedding",
    "layer_norm",
    "batch_norm",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "identity",
    "flatten",
    "tanhshrink",
    "hardshrink",
    "softshrink",
    "cosine_similarity",
]


# ---------------------------------------------------------------------------- legacy reduction arguments
def legacy_reduction(size_average, reduce, emit_warning: bool = True) -> str:
    """Map the deprecated size_average/reduce flags to a reduction string, warning as torch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        _warn_user(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.")
    return ret


def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return reduction


# ---------------------------------------------------------------------------- linear layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias; a single addmm for 2-D input."""
    if bias is not None and input.ndim == 2:
        return _linear_2d(input, weight, bias)
    if input.ndim == 2:
        return input.mm(weight.t())
    out = matmul(input, weight.t())
    return out + bias if bias is not None else out


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T W_k x2 + b_k over the last dimension of both inputs."""
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input sizes {list(input1.shape)} and {list(input2.shape)} do not match weight "
            f"{list(weight.shape)} (expected last dims {in1} and {in2})"
        )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    tmp = x1.mm(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (tmp * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_f,))


def identity(input: Tensor) -> Tensor:
    """input itself."""
    return input


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    return input.flatten(start_dim, end_dim)


# ---------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    return input.relu_()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    op = _integer_hardtanh if kind in "iu" else _pointwise.hardtanh_op
    return (
        apply_inplace(input, op, min_val=min_val, max_val=max_val)
        if inplace
        else op(input, min_val=min_val, max_val=max_val)
    )


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    op = _pointwise.leaky_relu_op
    return (
        apply_inplace(input, op, negative_slope=negative_slope) if inplace else op(input, negative_slope=negative_slope)
    )


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with learned slopes."""
    return K.prelu(input, weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    op = _pointwise.elu_op
    return apply_inplace(input, op, alpha=alpha) if inplace else op(input, alpha=alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalizing constants."""
    kw = {"alpha": _SELU_ALPHA, "scale": _SELU_SCALE}
    return apply_inplace(input, _pointwise.elu_op, **kw) if inplace else _pointwise.elu_op(input, **kw)


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return apply_inplace(input, _pointwise.celu_op, alpha=alpha) if inplace else _pointwise.celu_op(input, alpha=alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), exactly (erf) or with the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _pointwise.gelu_op(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return apply_inplace(input, _pointwise.silu_op) if inplace else _pointwise.silu_op(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return apply_inplace(input, _pointwise.mish_op) if inplace else _pointwise.mish_op(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above threshold."""
    return _pointwise.softplus_op(input, beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return input.tanh()


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return _pointwise.hardshrink_op(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd * sign(x) where |x| > lambd, else 0."""
    if input._data.dtype.kind == "f" and not 0 <= lambd <= float(np.finfo(input._data.dtype).max):
        limit = f"{float(np.finfo(input._data.dtype).max):g}"
        kind = dt.scalar_type_name(input._data.dtype)
        raise RuntimeError(f"lambda must be in range [0, {limit}] for input dtype {kind}, but found {float(lambd):g}")
    return _pointwise.softshrink_op(input, lambd=lambd)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clamp(x / 6 + 1/2, 0, 1)."""
    return apply_inplace(input, _pointwise.hardsigmoid_op) if inplace else _pointwise.hardsigmoid_op(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x)."""
    return apply_inplace(input, _pointwise.hardswish_op) if inplace else _pointwise.hardswish_op(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for large |x|."""
    return _pointwise.logsigmoid_op(input)


def _as_integers(a: np.ndarray, *numbers) -> list:
    """numbers converted to a's integer type as torch converts them (truncated), or torch's overflow error."""
    info = np.iinfo(a.dtype)
    for number in numbers:
        if not info.min <= int(number) <= info.max:
            raise RuntimeError(f"value cannot be converted to type {a.dtype.name}_t without overflow")
    return [a.dtype.type(int(n)) for n in numbers]


# Integer tensors never carry gradients, so the integer forms record no node.
def _integer_threshold(t: Tensor, threshold: float, value: float) -> Tensor:
    a = t._data
    threshold, value = _as_integers(a, threshold, value)
    return Tensor._wrap(np.where(a > threshold, a, value))


def _integer_hardtanh(t: Tensor, min_val: float, max_val: float) -> Tensor:
    a = t._data
    if a.dtype.kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return Tensor._wrap(np.clip(a, *_as_integers(a, min_val, max_val)))


def _threshold(input: Tensor, inplace: bool, **kw) -> Tensor:
    kind = input._data.dtype.kind
    if kind == "b":
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    op = _integer_threshold if kind in "iu" else _pointwise.threshold_op
    return apply_inplace(input, op, **kw) if inplace else op(input, **kw)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    return _threshold(input, inplace, threshold=threshold, value=value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return _threshold(input, True, threshold=threshold, value=value)


def implicit_softmax_dim(name: str, ndim: int, stacklevel: int = 3) -> int:
    """The dim torch picks when softmax is called without one (with its deprecation warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim."""
    if dim is None:
        dim = implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return K.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along dim, via log-sum-exp."""
    if dim is None:
        dim = implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return K.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along dim."""
    if dim is None:
        dim = implicit_softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dt.to_dtype(dtype))
    return K.softmax(-input, dim)


# ---------------------------------------------------------------------------- dropout and friends
def _kept(like: np.ndarray, keep: float) -> np.ndarray:
    """1 where a unit is kept (probability keep), else 0, in like's dtype and layout: torch's
    bernoulli_(keep) on an empty_like of the input, filled in memory order."""
    from .. import _sampling
    from .._random_tensors import _write

    noise = np.empty_like(like)
    _write(noise, _sampling.bernoulli_scalar(_default_generator, like.size, keep))
    return noise


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:  # torch's Python-side check
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p != p:  # NaN passes that one and is refused by the kernel
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _refuse_integer(a: np.ndarray, name: np.dtype | None = None) -> None:
    """torch draws the mask and then fails to write a float result into an integer or bool input."""
    if a.dtype.kind != "f":
        target = dt.scalar_type_name(name if name is not None else a.dtype)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {target}")


def _scaled_mask(a: np.ndarray, shape: tuple, p: float, like_input: bool = False) -> np.ndarray:
    """The kept units scaled by 1/(1-p), zeros elsewhere; half precision scales by the float32 reciprocal and
    rounds once, as torch's kernel does."""
    if p == 1.0:
        return np.zeros(shape, dtype=a.dtype)
    kept = _kept(a if like_input else np.empty(shape, dtype=a.dtype), 1.0 - p)  # dropout follows a's layout
    _refuse_integer(a)
    if a.dtype == np.float16:
        return (kept.astype(np.float32) * (np.float32(1.0) / np.float32(1.0 - p))).astype(np.float16)
    return kept / a.dtype.type(1.0 - p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    a = input._data
    m = Tensor._wrap(_scaled_mask(a, a.shape, p, like_input=True))
    if inplace:
        return input.mul_(m)
    return input * m


# SELU's negative saturation value, -scale * alpha: where alpha dropout sends a dropped unit.
_SELU_SATURATION = 1.7580993408473766


def _alpha(input: Tensor, shape: tuple, p: float, inplace: bool) -> Tensor:
    """Alpha dropout with a mask of the given shape (the input's, or one per channel), broadcast over input."""
    a = input._data
    if p == 1.0:
        zeros = Tensor._wrap(np.zeros((), dtype=a.dtype))
        return input.mul_(zeros) if inplace else input * zeros
    like = (
        a
        if shape == a.shape and a.dtype.kind == "f"
        else np.empty(shape, dtype=a.dtype if a.dtype.kind == "f" else np.float32)
    )
    keep = _kept(like, 1.0 - p)  # a mask of the input's shape follows its layout, as torch's empty_like does
    _refuse_integer(a, np.int64 if a.dtype.kind == "b" else None)
    scale = 1.0 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    t = a.dtype.type
    # kept units: scale * x + shift; dropped ones: the constant scale * (p - 1) * saturation
    shift = (keep - t(1)) * t(_SELU_SATURATION * scale) + t(_SELU_SATURATION * scale * p)
    factor = Tensor._wrap(keep * t(scale))
    if inplace:
        return input.mul_(factor).add_(Tensor._wrap(shift))
    return input * factor + Tensor._wrap(shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's saturation value, then an affine map restores
    mean 0 and variance 1 (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return _alpha(input, input._data.shape, p, inplace)


def _channel_shape(a: np.ndarray) -> tuple:
    """(N, C, 1, ...): one mask entry per channel of each sample."""
    if a.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return a.shape[:2] + (1,) * (a.ndim - 2)


def _feature_dropout(input: Tensor, p: float, inplace: bool, batched: bool = True) -> Tensor:
    """Zero whole channels with probability p and scale the rest by 1/(1-p); an unbatched input is read as
    one sample (its mask drawn as for a batch of one)."""
    a = input._data
    if p != 1.0 and a.size == 0:
        return input  # torch returns an empty input as it is, without a draw
    view = a if batched else a[None]
    shape = () if p == 1.0 else _channel_shape(view)  # p == 1 zeroes everything without a draw or a shape check
    mask = _scaled_mask(view, shape, p)
    m = Tensor._wrap(mask if batched or p == 1.0 else mask[0])
    return input.mul_(m) if inplace else input * m


def _deprecated_dims(name: str, ndim: int, spatial: int) -> None:
    lo, hi = spatial + 1, spatial + 2
    _warn_user(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an error in "
        "a future release. To retain the behavior and silence this warning, please use dropout instead. Note "
        f"that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
        f"dimension, and an optional batch dimension (i.e. {lo}D or {hi}D inputs).",
        UserWarning,
    )


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p, scaling the rest by 1/(1-p)."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    if not training or p == 0.0:
        return input
    return _feature_dropout(input, p, inplace, batched=ndim == 3)  # (C, L): the channels come first


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input with probability p, scaling the rest by 1/(1-p)."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (3, 4):
        _deprecated_dims("dropout2d", ndim, 2)
    if ndim == 3:
        _warn_user(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning,
        )
    if not training or p == 0.0:
        return input
    return _feature_dropout(input, p, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p, scaling the rest by
    1/(1-p)."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (4, 5):
        _deprecated_dims("dropout3d", ndim, 3)
    if not training or p == 0.0:
        return input
    return _feature_dropout(input, p, inplace, batched=ndim == 5)  # below 5-D: one unbatched sample


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of (N, C, ...) input: a dropped channel takes SELU's saturation value,
    then the affine map of alpha_dropout applies (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    shape = () if p == 1.0 else _channel_shape(input._data)
    if input.numel() == 0:
        return input
    return _alpha(input, shape, p, inplace)


def rrelu(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False
) -> Tensor:
    """Randomized leaky ReLU: while training each non-positive element gets its own slope drawn uniformly from
    [lower, upper); otherwise the slope is (lower + upper) / 2."""
    for value, name in ((lower, "lower"), (upper, "upper")):
        if not math.isfinite(value):
            raise RuntimeError(f"rrelu: {name} bound must be finite, got {value}")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        name = dt.scalar_type_name(a.dtype)
        raise NotImplementedError(f"\"rrelu_with_noise_out_cpu\" not implemented for '{name}'")
    from .. import _sampling

    drawn = np.ravel(a) <= 0  # one double per non-positive element, in row-major order
    slopes = np.ones(a.size, dtype=a.dtype)
    # a double in [0, 1) scaled to the bounds as the input's dtype holds them (two roundings, in double), then cast
    lo, hi = float(a.dtype.type(lower)), float(a.dtype.type(upper))
    u = _sampling.unit_double(_default_generator, int(drawn.sum()))
    slopes[drawn] = u * (hi - lo) + lo
    noise = slopes.reshape(a.shape)
    n = Tensor._wrap(noise)
    return input.mul_(n) if inplace else input * n


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing class dimension."""
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, a[..., None], 1, axis=-1)
    return Tensor._wrap(out)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input divided by its p-norm along dim (clamped below by eps)."""
    norm = _vector_norm(input, p, dim, keepdim=True).clamp_min(eps)
    res = input / norm.expand_as(input)
    if out is not None:
        out.copy_(res)
        return out
    return res


# ---------------------------------------------------------------------------- convolution and pooling
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of (N, C, L) input with (O, C/groups, k) weight, plus bias."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of (N, C, H, W) input with (O, C/groups, kh, kw) weight, plus bias."""
    if isinstance(input, Tensor) and input._data.ndim == 3 and isinstance(weight, Tensor) and weight._data.ndim == 4:
        return _conv.convolution(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, 2).squeeze(0)
    return _conv.convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv_transpose1d(
    input: Tensor, weight: Tensor, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """Transposed 1-D convolution of (N, C_in, L) input with (C_in, C_out/groups, k) weight, plus bias."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """Transposed 2-D convolution (the adjoint of conv2d in its input) with (C_in, C_out/groups, kh, kw) weight."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, spatial: int):
    """conv_transpose1d/2d, with an unbatched input seen as a batch of one (recorded as torch records it)."""
    settings = (stride, padding, output_padding, groups, dilation, spatial)
    if isinstance(input, Tensor) and input._data.ndim == spatial + 1:
        return _conv.conv_transpose(input.unsqueeze(0), weight, bias, *settings).squeeze(0)
    return _conv.conv_transpose(input, weight, bias, *settings)


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
) -> Tensor:
    """Resize the trailing spatial dims to size (or by scale_factor): 'nearest' (1-D or 2-D) or 'bilinear' (2-D)."""
    if mode not in ("nearest", "bilinear"):
        raise NotImplementedError(f"ember does not implement torch.nn.functional.interpolate(mode='{mode}')")
    if antialias:
        raise NotImplementedError("ember does not implement torch.nn.functional.interpolate(antialias=True)")
    if align_corners is not None and mode == "nearest":
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    spatial = input.dim() - 2
    if mode == "bilinear" and spatial != 2:
        raise NotImplementedError(f"Got {input.dim()}D input, but bilinear mode needs 4D input")
    if spatial not in (1, 2):
        raise NotImplementedError(f"ember's interpolate takes 3-D or 4-D input, got {input.dim()}-D")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    kind = input._data.dtype.kind
    if kind in "iub" and input._data.dtype != np.uint8:
        kernel = "compute_indices_weights_nearest" if spatial == 1 else f"upsample_{mode}2d_channels_last"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt.scalar_type_name(input._data.dtype)}'")
    if kind == "u" and mode == "bilinear":
        raise NotImplementedError("ember does not implement torch.nn.functional.interpolate(mode='bilinear') on uint8")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        out_sizes = tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else (int(size),) * spatial
        if len(out_sizes) != spatial:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(in_sizes)} and output size of {list(out_sizes)}. Please provide input tensor "
                "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        scales = (None,) * spatial
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial
        if len(factors) != spatial:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(in_sizes)} and scale_factor of shape {scale_factor}. Please provide input tensor "
                "in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
            )
        out_sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(in_sizes, factors))
        scales = (None,) * spatial if recompute_scale_factor else tuple(float(f) for f in factors)
    if min(in_sizes + out_sizes) <= 0:
        names = ("H", "W")[-spatial:] if spatial == 2 else ("W",)
        sizes_in = ", ".join(f"{k}: {v}" for k, v in zip(names, in_sizes))
        sizes_out = ", ".join(f"{k}: {v}" for k, v in zip(names, out_sizes))
        joint = " and output" if spatial == 1 else " output"
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({sizes_in}){joint} ({sizes_out})"
        )
    if mode == "nearest":
        taps = _conv.nearest_taps(in_sizes, out_sizes, scales)
        node = _conv.UpsampleNearest1DBackward0 if spatial == 1 else _conv.UpsampleNearest2DBackward0
    else:
        taps = _conv.bilinear_taps(in_sizes, out_sizes, scales, bool(align_corners), input._data.dtype)
        node = _conv.UpsampleBilinear2DBackward0
    return _conv.resample(input, taps, out_sizes, node)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Deprecated name of interpolate."""
    _warn_user("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode, align_corners)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding windows of (N, C, H, W) input as columns (N, C*kh*kw, L)."""
    return _conv.unfold(input, kernel_size, dilation, padding, stride)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns (N, C*kh*kw, L) summed back into (N, C, H, W) images: the adjoint of unfold."""
    return _conv.fold(input, output_size, kernel_size, dilation, padding, stride)


def _as_batched_2d(input: Tensor, spatial: int, message: str) -> tuple[Tensor, int]:
    """input viewed as (N, C, H, W) for a pooling op, and how many dims to squeeze back (recorded views)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, but got {type(input).__name__}")
    ndim = input._data.ndim
    if ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(message.format(shape=list(input._data.shape)))
    x, added = input, []
    if ndim == spatial + 1:
        x, added = x.unsqueeze(0), [0]
    if spatial == 1:
        x, added = x.unsqueeze(2), [2, *added]
    return x, added


def _restore(res: Tensor, added: list) -> Tensor:
    for d in added:
        res = res.squeeze(d)
    return res


_POOL1D = "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{shape}"
_POOL2D = "non-empty 3D or 4D (batch mode) tensor expected for input"


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, spatial):
    x, added = _as_batched_2d(input, spatial, _POOL1D if spatial == 1 else _POOL2D)
    if spatial == 1:
        kernel_size = (1, *_conv.pair(kernel_size, "kernel_size", 1))
        stride = None if stride is None or stride == () else (1, *_conv.pair(stride, "stride", 1))
        padding, dilation = (0, *_conv.pair(padding, "padding", 1)), (1, *_conv.pair(dilation, "dilation", 1))
    if return_indices:
        res, indices = _conv.max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, True, 2)
        return _restore(res, added), _restore(indices, added)
    return _restore(_conv.max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, False, 2), added)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each window along the last dim (and where it was, with return_indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The largest value of each 2-D window (and its flat index in the H*W plane, with return_indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool1d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    """max_pool1d returning (values, indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 1)


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    """max_pool2d returning (values, indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """The mean of each window along the last dim."""
    x, added = _as_batched_2d(
        input,
        1,
        "avg_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{shape}",
    )
    kernel = (1, *_conv.pair(kernel_size, "kernel_size", 1))
    stride = None if stride is None or stride == () else (1, *_conv.pair(stride, "stride", 1))
    padding = (0, *_conv.pair(padding, "padding", 1))
    return _restore(_conv.avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, None, 2), added)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
) -> Tensor:
    """The mean of each 2-D window (count_include_pad and divisor_override choose the divisor)."""
    x, added = _as_batched_2d(input, 2, _POOL2D)
    return _restore(
        _conv.avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2), added
    )


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Means over output_size nearly equal parts of the last dim."""
    x, added = _as_batched_2d(input, 1, "adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {shape}")
    return _restore(_conv.adaptive_avg_pool(x, (1, *_conv.pair(output_size, "output_size", 1)), 2), added)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Means over an output_size grid of nearly equal parts of the last two dims (None keeps a size)."""
    x, added = _as_batched_2d(input, 2, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {shape}")
    h, w = x._data.shape[2:]
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    sizes = tuple(size if s is None else int(s) for size, s in zip((h, w), output_size))
    if sizes == (1, 1) and min(h, w) > 0:
        return input.mean((-2, -1), keepdim=True)  # torch takes the plain mean here
    return _restore(_conv.adaptive_avg_pool(x, sizes, 2), added)


def _adaptive_max(input: Tensor, output_size, return_indices: bool, spatial: int):
    message = (
        "adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: {shape}"
        if spatial == 1
        else "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {shape}"
    )
    x, added = _as_batched_2d(input, spatial, message)
    h, w = x._data.shape[2:]
    if spatial == 1:
        sizes = (1, *_conv.pair(output_size, "output_size", 1))
    elif isinstance(output_size, int):
        sizes = (output_size, output_size)
    else:
        sizes = tuple(size if s is None else int(s) for size, s in zip((h, w), output_size))
    res, indices = _conv.adaptive_max_pool(x, sizes, return_indices)
    if return_indices:
        return _restore(res, added), _restore(indices, added)
    return _restore(res, added)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """The largest value in each of output_size nearly equal parts of the last dim."""
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """The largest value in each cell of an output_size grid over the last two dims (and where it was)."""
    return _adaptive_max(input, output_size, return_indices, 2)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of max_pool2d's selection: each value put back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of max_pool1d's selection along the last dim."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, spatial: int) -> Tensor:
    kernel = _conv.pair(kernel_size, "kernel_size", spatial)
    stride = kernel if stride is None else _conv.pair(stride, "stride", spatial)
    padding = _conv.pair(padding, "padding", spatial)
    in_sizes = tuple(input.shape[-spatial:])
    default = tuple((in_sizes[d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(spatial))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(int(s) for s in output_size)[-spatial:]
        for d in range(spatial):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < sizes[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got "
            f"indices tensor with shape: {list(indices.shape)}"
        )
    return _conv.max_unpool(input, indices, sizes)


_ALIGN_CORNERS_CHANGED = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def _grid_line(steps: int, align_corners: bool, dtype) -> Tensor:
    """The normalised coordinates of `steps` pixels along one dim: the pixel centres (align_corners=False)
    or the corner pixels at -1 and 1 (True); 0 for a single pixel."""
    from .._creation import linspace, zeros

    if steps <= 1:
        return zeros(1, dtype=dtype)
    line = linspace(-1, 1, steps, dtype=dtype)
    return line if align_corners else line * (steps - 1) / steps


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The (N, H, W, 2) sampling grid of a batch of 2-D affine maps theta (N, 2, 3) for an output of size
    (N, C, H, W): each output pixel's normalised position, mapped by theta."""
    from ..ops.shape import stack

    if align_corners is None:
        _warn_user(_ALIGN_CORNERS_CHANGED)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("ember does not implement torch.nn.functional.affine_grid for 3-D (5-D size)")
    if len(size) != 4:
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size {size}."
        )
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {theta.shape}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n, _, h, w = size
    if align_corners and min(h, w) == 1:
        _warn_user(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. This "
            "is not an intended use case of affine_grid. See the documentation of affine_grid for details."
        )
    if theta.shape[0] != n:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{n}, 3] but got: [{theta.shape[0]}, 3]."
        )
    xs, ys = _grid_line(w, align_corners, theta.dtype), _grid_line(h, align_corners, theta.dtype)
    base = stack([xs.expand(h, w), ys.reshape(h, 1).expand(h, w), xs.new_ones((h, w))], -1)
    return matmul(base.reshape(1, h * w, 3).expand(n, h * w, 3), theta.transpose(1, 2)).reshape(n, h, w, 2)


def _source_pixels(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Normalised grid coordinates along one dim as pixel positions, with border or reflection applied;
    the gradient is torch's (zero where a coordinate was clipped)."""
    if align_corners:
        pos = (coord + 1) / 2 * (size - 1)
    else:
        pos = ((coord + 1) * size - 1) / 2
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:  # a single pixel: every position reflects onto it (with a zero gradient)
            return (pos * 0).where(pos.isfinite(), pos.new_zeros(()))
        span = (high - low) / 2
        shifted = pos - low / 2
        shifted = shifted.where(shifted >= 0, -shifted)  # the mirror at the low end flips the gradient
        extra = shifted.fmod(span)
        odd = (shifted / span).floor().fmod(2) != 0
        pos = (span - extra + low / 2).where(odd, extra + low / 2)
    if padding_mode in ("border", "reflection"):
        inside = (pos > 0) & (pos < size - 1)
        pos = pos.where(inside, pos.detach().clamp(0, size - 1))
    return pos


def _pixels_at(planes: Tensor, xs: Tensor, ys: Tensor, h: int, w: int) -> Tensor:
    """planes (N, C, H*W) read at integer pixel positions xs, ys (N, L) (0 outside the image), and which
    positions lie inside."""
    n, c = planes.shape[:2]
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    zero = xs.new_zeros(())
    flat = ys.where(inside, zero).long() * w + xs.where(inside, zero).long()  # integers: exact for any image size
    picked = planes.gather(2, flat.unsqueeze(1).expand(n, c, flat.shape[1]))
    return picked.where(inside.unsqueeze(1), picked.new_zeros(())), inside


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros", align_corners=None):
    """input (N, C, H, W) read at the normalised positions of grid (N, Ho, Wo, 2) ((-1, -1) the top-left
    corner): nearest or bilinear, outside positions as zeros, the border or its reflection."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: "
            f"'{padding_mode}'"
        )
    if mode == "bicubic":
        raise NotImplementedError("ember does not implement torch.nn.functional.grid_sample(mode='bicubic')")
    if align_corners is None:
        _warn_user(_ALIGN_CORNERS_CHANGED)
        align_corners = False
    if input.dtype != grid.dtype:
        raise RuntimeError(
            f"expected scalar type {dt.scalar_type_name(input._data.dtype)} but found {dt.scalar_type_name(grid._data.dtype)}"
        )
    if not input.is_floating_point():
        raise NotImplementedError(
            f"\"grid_sampler_2d_cpu_kernel_impl\" not implemented for '{dt.scalar_type_name(input._data.dtype)}'"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got grid with sizes "
            f"{list(grid.shape)}"
        )
    if input.dim() != grid.dim():
        raise RuntimeError(
            f"grid_sampler(): expected {input.dim()}D input and grid with same number of dimensions, but got input "
            f"with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if input.dim() == 5:
        raise NotImplementedError("ember does not implement torch.nn.functional.grid_sample on 5-D input")
    if input.dim() != 4:
        raise RuntimeError(
            "grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got input with "
            f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    for d in (2, 3):
        if input.shape[d] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                f"{list(input.shape)} with dimension {d} being empty"
            )
    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    planes = input.reshape(n, c, h * w)
    ix = _source_pixels(grid[..., 0].reshape(n, ho * wo), w, padding_mode, align_corners)
    iy = _source_pixels(grid[..., 1].reshape(n, ho * wo), h, padding_mode, align_corners)
    if mode == "nearest":
        out = _pixels_at(planes, ix.detach().round(), iy.detach().round(), h, w)[0]
        if grid.requires_grad:  # the grid gets torch's zero gradient: a factor of exactly 1 that depends on it
            still = (ix + iy) * 0
            out = out * (still.where(still == 0, still.new_zeros(())) + 1).unsqueeze(1)
        return out.reshape(n, c, ho, wo)
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    x1, y1 = x0 + 1, y0 + 1
    corners = [
        (x0, y0, (x1 - ix) * (y1 - iy)),
        (x1, y0, (ix - x0) * (y1 - iy)),
        (x0, y1, (x1 - ix) * (iy - y0)),
        (x1, y1, (ix - x0) * (iy - y0)),
    ]
    out = None
    for xs, ys, weight in corners:
        # a corner outside the image adds nothing, not even through its weight (NaN for an infinite position)
        values, inside = _pixels_at(planes, xs, ys, h, w)
        term = values * weight.where(inside, weight.new_zeros(())).unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape(n, c, ho, wo)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) to (*, C, H*r, W*r): each group of r*r channels becomes an r x r block."""
    *lead, c, h, w = input.shape
    r = int(upscale_factor)
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={c} is not divisible by {r * r}"
        )
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) to (*, C*r*r, H, W): the inverse of pixel_shuffle."""
    *lead, c, h, w = input.shape
    r = int(downscale_factor)
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} is not "
            f"divisible by {r}"
            if h % r
            else f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} is not "
            f"divisible by {r}"
        )
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the trailing dims by (left, right) pairs, starting from the last dim: with a constant, or by
    reflecting, replicating or wrapping around (modes 'reflect', 'replicate', 'circular')."""
    if mode == "constant":
        return K.constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    return K.mode_pad(input, pad, mode)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of weight by index."""
    if max_norm is not None:
        raise NotImplementedError("ember does not implement torch.nn.functional.embedding(max_norm=...)")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("ember does not implement embedding(scale_grad_by_freq=True or sparse=True)")
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    return K.embedding(input, weight, padding_idx)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing normalized_shape dims."""
    return K.layer_norm(input, normalized_shape, weight, bias, eps)


def _check_batch_norm_dtypes(input: Tensor, params) -> None:
    """torch's CPU rule: parameters share the input's dtype, except float32 ones with a float16 input."""
    x = input._data.dtype
    for t in params:
        if not isinstance(t, Tensor) or t._data.dtype == x or (x == np.float16 and t._data.dtype == np.float32):
            continue
        if x == np.float64:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of {dt.scalar_type_name(x)}")


def batch_norm(
    input: Tensor,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel over the batch (and spatial) dims."""
    _check_batch_norm_dtypes(input, (weight, bias, running_mean, running_var))
    return K.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each (sample, channel) plane over its own positions: batch_norm on the input seen as one
    sample of N*C channels, as torch computes it (running stats are the average over the batch)."""
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"expected 3D or more input for instance_norm (got {len(shape)}D input)")
    n, c = shape[:2]
    planes = input.reshape(1, n * c, *shape[2:])

    def repeated(t):
        return None if t is None else t.repeat(n)

    rm, rv = repeated(running_mean), repeated(running_var)
    out = batch_norm(planes, rm, rv, repeated(weight), repeated(bias), use_input_stats, momentum, eps)
    from ..autograd.grad_mode import no_grad

    with no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.view(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.view(n, c).mean(0))
    return out.view(shape)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize each sample's channels in num_groups groups (each group over its channels and positions),
    then scale and shift each channel."""
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    n, c = shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(shape)} and num_groups={num_groups}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(p.shape)} and input of shape {list(shape)}"
            )
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"GroupNormKernelImpl\" not implemented for '{dt.scalar_type_name(input._data.dtype)}'"
        )
    groups = input.reshape(n, num_groups, -1)
    out = K.layer_norm(groups, (groups.shape[-1],), None, None, eps).reshape(shape)
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


# ---------------------------------------------------------------------------- losses
def mse_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None
) -> Tensor:
    """Mean squared error."""
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        raise NotImplementedError("ember does not implement torch.nn.functional.mse_loss(weight=...)")
    return K.mse_loss(input, target, reduction)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    K.check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None
) -> Tensor:
    """Mean absolute error."""
    reduction = _reduction(size_average, reduce, reduction)
    K.check_reduction(reduction)
    K._check_target_size(input, target)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """Quadratic for small errors, linear for large ones (threshold beta)."""
    reduction = _reduction(size_average, reduce, reduction)
    return K.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight=None) -> Tensor:
    """Quadratic for small errors, delta-sloped linear for large ones."""
    if weight is not None:
        raise NotImplementedError("ember does not implement torch.nn.functional.huber_loss(weight=...)")
    return K.huber_loss(input, target, reduction, delta)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """Binary cross entropy between probabilities and targets."""
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        try:
            np.broadcast_shapes(tuple(weight.shape), tuple(input.shape))
        except ValueError:
            raise RuntimeError(
                f"The size of tensor a ({weight.shape[-1]}) must match the size of tensor b ({input.shape[-1]})"
            ) from None
    return K.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Sigmoid followed by binary cross entropy, computed stably."""
    reduction = _reduction(size_average, reduce, reduction)
    return K.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities."""
    reduction = _reduction(size_average, reduce, reduction)
    return K.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits and class indices or class probabilities."""
    reduction = _reduction(size_average, reduce, reduction)
    K.check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.is_floating_point() and tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    if label_smoothing > 0.0:
        return _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing)
    return K.cross_entropy_indices(input, target, weight, ignore_index, reduction)


def _class_shape(input: Tensor, weight: Tensor) -> Tensor:
    """weight reshaped to broadcast along the class dim of input."""
    if input.ndim <= 1:
        return weight
    return weight.reshape((1, -1) + (1,) * (input.ndim - 2))


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    lsm = K.log_softmax(input, cdim)
    prod = lsm * target
    if weight is not None:
        prod = prod * _class_shape(input, weight)
    losses = -prod.sum(cdim)
    if reduction == "mean":
        n = input.numel() // c if input.ndim > 1 else 1
        return losses.sum() / n
    if reduction == "sum":
        return losses.sum()
    return losses


def _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, eps):
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    lsm = K.log_softmax(input, cdim)
    nll = K.nll_loss(lsm, target, weight, ignore_index, reduction)
    ignored = target._data == ignore_index
    keep = Tensor._wrap((~ignored).astype(input._data.dtype))
    per_class = lsm * _class_shape(input, weight) if weight is not None else lsm
    # masked_fill, as torch: ignored targets contribute exactly 0 (and no gradient), never 0 * inf.
    smooth = (-per_class.sum(cdim)).masked_fill(Tensor._wrap(ignored), 0.0)
    if reduction == "mean":
        if weight is not None:
            t = np.where(target._data == ignore_index, 0, target._data)
            denom = float((weight._data[t] * keep._data).sum())
        else:
            denom = float(keep._data.sum())
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - eps) + smooth * (eps / c)


def kl_div(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """KL divergence with input as log-probabilities (target as probabilities unless log_target)."""
    reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along dim."""
    n1 = _vector_norm(x1, 2, dim).clamp_min(eps)
    n2 = _vector_norm(x2, 2, dim).clamp_min(eps)
    return (x1 * x2).sum(dim) / (n1 * n2)

"""Pointwise ops, each a forward on arrays and its gradient formula side by side in one table: the unary math
(exp, log, sqrt, tanh, sigmoid, erf, ...), the rounding ops whose gradient is zero (floor, ceil, trunc),
and the activations of torch.nn.functional (relu, leaky_relu, hardtanh, elu, celu, gelu, silu, mish, softplus,
hardsigmoid, hardswish, logsigmoid, threshold).

One factory makes each op and its Node. A gradient formula gets (g, x, out, **settings): the incoming
gradient, the input and the output (None when not saved). It is written once, with arithmetic operators,
Python scalars and the functions of `_either`, so it runs on tensors (recorded, for create_graph=True) and
on the saved arrays (what the engine uses when no graph is being built) and gives the same bits on both."""

from __future__ import annotations

import math

import numpy as np

from .._quiet_floats import enter_quiet, leave_quiet
from .._tensor import Tensor
from ..autograd.grad_mode import grad_enabled
from . import _array_math as array_math
from . import _either as either
from ._inplace import maybe_out
from ._op import Node, as_ndarray, attach, check_float, float_array, record, wrap

_SAVES = ("input", "output", "both")


def pointwise(name: str, forward, grad, save: str = "input", node_name: str | None = None):
    """A differentiable elementwise math op `name(input, *, out=None)`: forward on the float array (integer
    input becomes the default float type, as in torch), grad as described above."""
    return _make(name, forward, grad, save, node_name or f"{name.capitalize()}Backward0", settings=False)


def activation(node_name: str, kernel: str, forward, grad, save: str = "input", doc: str = ""):
    """A differentiable activation `op(input, **settings)` (e.g. negative_slope=): forward(a, **settings) on the
    array, in the input's float dtype; integer input is refused with torch's message, naming its kernel."""
    op = _make(kernel, forward, grad, save, node_name, settings=True)
    op.__doc__ = doc
    return op


def _make(name: str, forward, grad, save: str, node_name: str, settings: bool):
    """The op and its node class; name is the op's name, or for an activation the kernel its errors name."""
    if save not in _SAVES:
        raise ValueError(f"save must be one of {_SAVES}")
    want_x, want_out = save in ("input", "both"), save in ("output", "both")

    def backward(self, g):
        saved = self.saved_tensors
        return (grad(g, saved[0] if want_x else None, saved[-1] if want_out else None, **self.kw),)

    def backward_arrays(self, g):
        # The one formula, evaluated on the arrays (same operations, same dtype).
        saved = self.saved_arrays()
        gd = g._data
        if saved[0].dtype is not gd.dtype or saved[-1].dtype is not gd.dtype:
            return None
        x, out = saved[0] if want_x else None, saved[-1] if want_out else None
        return (wrap(as_ndarray(grad(gd, x, out, **self.kw))),)

    methods = {"backward": backward, "backward_arrays": backward_arrays, "kw": {}}
    node_cls = type(node_name, (Node,), methods)

    def record_node(res: Tensor, input: Tensor, kw: dict) -> None:
        node = attach(res, node_cls, input)
        if save == "input":
            node.save(input)
        elif save == "output":
            node.save(output=res)
        else:
            node.save(input, output=res)
        if kw:
            node.kw = kw

    if settings:

        def op(input: Tensor, **kw) -> Tensor:
            check_float(input, name)
            quiet_token = enter_quiet()
            try:
                res = wrap(np.asarray(forward(input._data, **kw), dtype=input._data.dtype))
            finally:
                leave_quiet(quiet_token)
            if input._requires_grad and grad_enabled():
                record_node(res, input, kw)
            return res

    else:

        def op(input, *, out=None):
            quiet_token = enter_quiet()
            try:
                arr = forward(float_array(input))
            finally:
                leave_quiet(quiet_token)
            res = wrap(as_ndarray(arr))
            if input._requires_grad and grad_enabled():
                record_node(res, input, {})
            return res if out is None else maybe_out(res, out)

        op.__doc__ = f"Elementwise {name}."
    op.__name__ = name
    op.node_cls = node_cls
    return op


# ---------------------------------------------------------------------------- unary math
_LN2, _LN10, _TWO_OVER_SQRT_PI = float(np.log(2)), float(np.log(10)), float(2 / np.sqrt(np.pi))

exp = pointwise("exp", np.exp, lambda g, x, o: g * o, save="output")
exp2 = pointwise("exp2", np.exp2, lambda g, x, o: g * o * _LN2, save="output")
expm1 = pointwise("expm1", np.expm1, lambda g, x, o: g * (o + 1), save="output")
log = pointwise("log", np.log, lambda g, x, o: g / x)
log2 = pointwise("log2", np.log2, lambda g, x, o: g / (x * _LN2))
log10 = pointwise("log10", np.log10, lambda g, x, o: g / (x * _LN10))
log1p = pointwise("log1p", np.log1p, lambda g, x, o: g / (x + 1), node_name="Log1PBackward0")
sqrt = pointwise("sqrt", np.sqrt, lambda g, x, o: g / (o * 2), save="output")
rsqrt = pointwise("rsqrt", lambda a: 1 / np.sqrt(a), lambda g, x, o: g * (o**3) * -0.5, save="output")
sin = pointwise("sin", np.sin, lambda g, x, o: g * either.cos(x))
cos = pointwise("cos", np.cos, lambda g, x, o: -g * either.sin(x))
tan = pointwise("tan", np.tan, lambda g, x, o: g * (o * o + 1), save="output")
asin = pointwise("asin", np.arcsin, lambda g, x, o: g / either.sqrt(1 - x * x))
acos = pointwise("acos", np.arccos, lambda g, x, o: -g / either.sqrt(1 - x * x))
atan = pointwise("atan", np.arctan, lambda g, x, o: g / (x * x + 1))
sinh = pointwise("sinh", np.sinh, lambda g, x, o: g * either.cosh(x))
cosh = pointwise("cosh", np.cosh, lambda g, x, o: g * either.sinh(x))
tanh = pointwise("tanh", np.tanh, lambda g, x, o: g * (1 - o * o), save="output")
sigmoid = pointwise("sigmoid", array_math.sigmoid, lambda g, x, o: g * o * (1 - o), save="output")
reciprocal = pointwise("reciprocal", lambda a: 1 / a, lambda g, x, o: -g * o * o, save="output")
erf = pointwise("erf", array_math.erf, lambda g, x, o: g * either.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


# ---------------------------------------------------------------------------- zero gradient
def zero_gradient(name: str, np_fn, keep_int: bool = True):
    """An elementwise op name(input, *, out=None) whose gradient is zero everywhere (floor, ceil, trunc, round);
    integer input is returned as a copy unless keep_int is False."""

    class Zero(Node):
        def backward(self, g):
            return (g * 0,)

    Zero.__name__ = f"{name.capitalize()}Backward0"

    def op(input, *, out=None):
        a = input._data
        res = wrap(np_fn(a) if (a.dtype.kind == "f" or not keep_int) else a.copy())
        record(res, Zero, input)
        return maybe_out(res, out)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} (zero gradient)."
    return op


floor = zero_gradient("floor", np.floor)
ceil = zero_gradient("ceil", np.ceil)
trunc = zero_gradient("trunc", np.trunc)
fix = trunc


# ---------------------------------------------------------------------------- activations
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)


mask_like = either.mask


def softplus_neg(x):
    """log(1 + exp(-x)), written stably, of a tensor or an array."""
    return either.log1p(either.exp(-either.abs(x))) + either.clamp_min(-x, 0.0)


class ReluBackward0(Node):
    def backward_arrays(self, g):
        (o,) = self.saved_arrays()
        gd = g._data
        bits = _SAME_SIZE_UNSIGNED.get(gd.dtype)
        if o.dtype is not gd.dtype or o.shape != gd.shape or bits is None:
            return None
        # The formula of backward on bit patterns: a relu output is +-0, positive or NaN, so its bits
        # without the sign bit are nonzero exactly where the gradient passes; elsewhere the gradient
        # becomes +0, even a NaN or infinite one (as in torch).
        keep = np.left_shift(o.view(bits), 1, out=np.empty(o.shape, bits))
        np.sign(keep, out=keep)
        return (wrap(np.multiply(gd.view(bits), keep, out=keep).view(gd.dtype)),)

    def backward(self, g):
        (out,) = self.saved_tensors
        return (g.masked_fill(out <= 0, 0),)


# Unsigned integers as wide as each float type, for bit-pattern arithmetic on float arrays.
_SAME_SIZE_UNSIGNED = {np.dtype(f): np.dtype(u) for f, u in (("f2", "u2"), ("f4", "u4"), ("f8", "u8"))}

# np.maximum against a scalar takes a slow broadcasting loop; against an array of zeros it runs the
# vectorised one (three times faster), so relu keeps one read-only zeros buffer per dtype, as large as the
# largest activation seen (up to a limit), and views a prefix of it in each shape.
_ZEROS_MAX_SIZE = 1 << 22
_zeros_by_dtype: dict = {}


def _zeros_shaped_like(a: np.ndarray) -> np.ndarray | None:
    """A read-only array of zeros with a's shape and dtype (None for very large arrays)."""
    flat = _zeros_by_dtype.get(a.dtype)
    if flat is None or flat.size < a.size:
        if a.size > _ZEROS_MAX_SIZE:
            return None
        flat = _zeros_by_dtype[a.dtype] = np.zeros(a.size, a.dtype)
        flat.flags.writeable = False
    return flat[: a.size].reshape(a.shape)


def relu(input: Tensor) -> Tensor:
    """max(input, 0): the one activation with its own forward (a vectorised maximum) and bit-level backward."""
    a = input._data
    if a.dtype.kind == "f":
        zeros = _zeros_shaped_like(a)
        res = wrap(np.maximum(a, 0, dtype=a.dtype) if zeros is None else np.maximum(a, zeros))
    elif a.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    else:
        res = wrap(np.maximum(a, 0))
    if input._requires_grad and grad_enabled():
        attach(res, ReluBackward0, input).save(output=res)
    return res


leaky_relu_op = activation(
    "LeakyReluBackward0",
    "leaky_relu_cpu",
    lambda a, negative_slope=0.01: np.where(a > 0, a, a * negative_slope),
    lambda g, x, o, negative_slope=0.01: g * (mask_like(x > 0, g) * (1 - negative_slope) + negative_slope),
    doc="max(0, x) + negative_slope * min(0, x).",
)

hardtanh_op = activation(
    "HardtanhBackward0",
    "hardtanh_cpu",
    lambda a, min_val=-1.0, max_val=1.0: np.clip(a, min_val, max_val),
    lambda g, x, o, min_val=-1.0, max_val=1.0: g * mask_like((x > min_val) & (x < max_val), g),
    doc="x clamped to [min_val, max_val].",
)


def _elu_fwd(a, alpha=1.0, scale=1.0, input_scale=1.0):
    with np.errstate(over="ignore"):
        neg = alpha * np.expm1(np.minimum(a, 0) * input_scale)
    return scale * np.where(a > 0, a, neg)


def _elu_grad(g, x, o, alpha=1.0, scale=1.0, input_scale=1.0):
    pos = mask_like(x > 0, g)
    neg_slope = either.exp(either.clamp_max(x, 0.0) * input_scale) * (alpha * scale * input_scale)
    return g * (pos * scale + (1 - pos) * neg_slope)


elu_op = activation("EluBackward0", "elu_cpu", _elu_fwd, _elu_grad, doc="Exponential linear unit.")

celu_op = activation(
    "CeluBackward0",
    "elu_cpu",
    lambda a, alpha=1.0: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0) / alpha)),
    lambda g, x, o, alpha=1.0: (
        g * (mask_like(x > 0, g) + mask_like(x <= 0, g) * either.exp(either.clamp_max(x, 0.0) / alpha))
    ),
    doc="Continuously differentiable ELU.",
)


def _gelu_fwd(a, approximate="none"):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(_GELU_K * (a + 0.044715 * a**3)))
    return 0.5 * a * (1 + array_math.erf(a / _SQRT2))


def _gelu_grad(g, x, o, approximate="none"):
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _GELU_K
        t = either.tanh(inner)
        dinner = (x * x * (3 * 0.044715) + 1) * _GELU_K
        return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * dinner)
    cdf = (either.erf(x * (1 / _SQRT2)) + 1) * 0.5
    pdf = either.exp(x * x * -0.5) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


gelu_op = activation("GeluBackward0", "GeluKernelImpl", _gelu_fwd, _gelu_grad, doc="Gaussian error linear unit.")


def _silu_grad(g, x, o):
    s = either.sigmoid(x)
    return g * (s * (x * (1 - s) + 1))


silu_op = activation(
    "SiluBackward0", "silu_cpu", lambda a: a * array_math.sigmoid(a), _silu_grad, doc="x * sigmoid(x)."
)


def _mish_grad(g, x, o):
    tsp = either.tanh(softplus_neg(-x))
    return g * (tsp + x * either.sigmoid(x) * (1 - tsp * tsp))


mish_op = activation(
    "MishBackward0", "mish_cpu", lambda a: a * np.tanh(array_math.softplus(a)), _mish_grad, doc="x * tanh(softplus(x))."
)


def _softplus_grad(g, x, o, beta=1.0, threshold=20.0):
    z = x * beta
    big = mask_like(z > threshold, g)
    return g * (big + (1 - big) * either.sigmoid(z))


softplus_op = activation(
    "SoftplusBackward0", "softplus_cpu", array_math.softplus, _softplus_grad, doc="log(1 + exp(beta x)) / beta."
)

# torch's kernels: min(max(x + 3, 0), 6) / 6, and a gradient of g times 1/6 rounded to float32 (its constant
# is 1.0f / 6.0f in every dtype); no gradient at -3 and 3 themselves.
_ONE_SIXTH = float(np.float32(1) / np.float32(6))

hardsigmoid_op = activation(
    "HardsigmoidBackward0",
    "hardsigmoid_cpu",
    lambda a: np.minimum(np.maximum(a + 3, 0), 6) / 6,
    lambda g, x, o: g * mask_like((x > -3) & (x < 3), g) * _ONE_SIXTH,
    doc="Piecewise-linear sigmoid.",
)


def _hardswish_grad(g, x, o):
    # As torch: zero up to and including -3, x / 3 + 1/2 strictly between, the whole gradient from 3 on.
    mid = mask_like((x > -3) & (x < 3), g)
    hi = mask_like(x >= 3, g)
    return g * (mid * (x / 3 + 0.5) + hi)


hardswish_op = activation(
    "HardswishBackward0",
    "hardswish_cpu",
    lambda a: a * np.clip(a + 3, 0, 6) / 6,
    _hardswish_grad,
    doc="x * hardsigmoid(x).",
)

logsigmoid_op = activation(
    "LogSigmoidBackward0",
    "log_sigmoid_cpu",
    lambda a: np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))),
    lambda g, x, o: g * either.sigmoid(-x),
    doc="log(sigmoid(x)), computed stably.",
)

threshold_op = activation(
    "ThresholdBackward0",
    "threshold_cpu",
    lambda a, threshold=0.0, value=0.0: np.where(a > threshold, a, value),
    lambda g, x, o, threshold=0.0, value=0.0: g * mask_like(x > threshold, g),
    doc="x where x > threshold, else value.",
)


def _shrink_grad(g, x, o, lambd=0.5):
    """g where x lies outside [-lambd, lambd] (NaN counts as outside), else +0."""
    return either.where((x >= -lambd) & (x <= lambd), 0.0, g)


hardshrink_op = activation(
    "HardshrinkBackward0",
    "hardshrink_cpu",
    lambda a, lambd=0.5: np.where((a >= -lambd) & (a <= lambd), 0, a),
    _shrink_grad,
    doc="x where |x| > lambd, else 0.",
)

softshrink_op = activation(
    "SoftshrinkBackward0",
    "softshrink_check",
    lambda a, lambd=0.5: np.where(a > lambd, a - lambd, np.where(a < -lambd, a + lambd, a * 0)),
    _shrink_grad,
    doc="x moved lambd towards 0, and 0 within lambd of it.",
)

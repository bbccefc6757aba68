"""Fused, differentiable operations behind ember.nn: softmax family, losses, activations, norms.

Each op computes its forward pass on arrays and records one node whose backward is written in
Tensor operations, so create_graph=True gives higher-order derivatives."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._quiet_floats import quietly
from .._tensor import Tensor
from .._warn import warn_user
from ..autograd.grad_mode import grad_enabled
from ._op import Adjoint, Node, attach, check_float, record, record_adjoint, unbroadcast, wrap, wrap_dim
from .elementwise import where
from .pointwise import mask_like, softplus_neg
from .reduction import float_sum


def _float_input(input: Tensor, dtype=None) -> Tensor:
    if dtype is not None:
        d = dt.to_dtype(dtype)
        if input.dtype is not d:
            return input.to(d)
    return input


# ---------------------------------------------------------------------------- softmax family
# The ufuncs' reduce methods directly: what ndarray.max / .sum call, without their Python wrappers.
_max_reduce, _sum_reduce = np.maximum.reduce, np.add.reduce


def _max_keepdims(a: np.ndarray, axis: int) -> np.ndarray:
    """a's maximum over axis, keeping it as size 1 (NaN wins, as in np.maximum.reduce).

    NumPy's reduce pays a setup cost per row, so for a short last axis (class scores) the rows are
    transposed into columns first and reduced in one long pass: 2 µs instead of 10 for 200 x 10.
    The maximum does not depend on the order it is taken in."""
    n = a.shape[axis] if a.ndim else 1
    if axis != a.ndim - 1 or not 2 <= n <= 64 or a.size < 16 * n:
        return _max_reduce(a, axis=axis, keepdims=True)
    columns = np.ascontiguousarray(a.reshape(-1, n).T)
    return _max_reduce(columns, axis=0).reshape(a.shape[:-1] + (1,))


def _log_softmax_np(a: np.ndarray, axis: int) -> np.ndarray:
    if a.ndim == 0:
        return np.zeros_like(a)
    m = _max_keepdims(a, axis) if a.size else a
    finite = np.isfinite(m)
    if finite.all():
        # Every slice holds its finite maximum, so each sum of exps is at least 1: log never sees 0,
        # and subtracting m is what the general form below does.
        shifted = a - m
        return shifted - np.log(_sum_reduce(np.exp(shifted), axis=axis, keepdims=True))
    shifted = a - np.where(finite, m, 0)
    with np.errstate(divide="ignore"):
        return shifted - np.log(_sum_reduce(np.exp(shifted), axis=axis, keepdims=True))


def _softmax_np(a: np.ndarray, axis: int) -> np.ndarray:
    if a.ndim == 0:
        return np.ones_like(a)
    m = _max_keepdims(a, axis) if a.size else a
    e = np.exp(a - np.where(np.isfinite(m), m, 0))
    return e / _sum_reduce(e, axis=axis, keepdims=True)


class SoftmaxBackward0(Node):
    def backward_arrays(self, g):
        (o,) = self.saved_arrays()
        gd = g._data
        if not o.ndim or o.dtype is not gd.dtype or o.shape != gd.shape:
            return None
        # backward's formula on the arrays (same operations, same summation order)
        return (wrap(o * (gd - float_sum(gd * o, (self.dim,), True, None))),)

    def backward(self, g):
        (out,) = self.saved_tensors
        if out.ndim == 0:
            return (g * 0,)
        return (out * (g - (g * out).sum(self.dim, keepdim=True)),)


class LogSoftmaxBackward0(Node):
    def backward_arrays(self, g):
        (o,) = self.saved_arrays()
        gd = g._data
        if not o.ndim or o.dtype is not gd.dtype or o.shape != gd.shape:
            return None
        return (wrap(gd - np.exp(o) * float_sum(gd, (self.dim,), True, None)),)

    def backward(self, g):
        (out,) = self.saved_tensors
        if out.ndim == 0:
            return (g * 0,)
        return (g - out.exp() * g.sum(self.dim, keepdim=True),)


@quietly
def _softmax_like(input: Tensor, dim: int, dtype, kernel: str, compute, node_cls) -> Tensor:
    """softmax / log_softmax: checks, the array computation, and the node saving the output."""
    if dtype is not None:
        input = _float_input(input, dtype)
    a = input._data
    if a.dtype.kind != "f":
        check_float(input, kernel)
    axis = dim if dim.__class__ is int and 0 <= dim < a.ndim else wrap_dim(dim, a.ndim)
    res = wrap(compute(a, axis))
    if input._requires_grad and grad_enabled():
        node = attach(res, node_cls, input)
        node.save_output(res)
        node.dim = axis
    return res


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, computed stably."""
    return _softmax_like(input, dim, dtype, "softmax_lastdim_kernel_impl", _softmax_np, SoftmaxBackward0)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log(softmax(x)) along dim, computed with log-sum-exp."""
    return _softmax_like(input, dim, dtype, "log_softmax_lastdim_kernel_impl", _log_softmax_np, LogSoftmaxBackward0)


# ---------------------------------------------------------------------------- reductions shared by losses
REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    """Raise torch's ValueError for an unknown reduction name."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce_np(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean() if loss.size else np.nan, dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _spread(g: Tensor, shape, reduction: str, count: int) -> Tensor:
    """The upstream gradient of a reduced loss, brought back to the elementwise shape."""
    if reduction == "mean":
        return (g / max(count, 1)).expand(tuple(shape))
    if reduction == "sum":
        return g.expand(tuple(shape))
    return g


# ---------------------------------------------------------------------------- class-index losses
def _class_axis(input: Tensor) -> int:
    return 0 if input.ndim == 1 else 1


def check_nll_args(input: Tensor, target: Tensor, weight, name: str = "nll_loss") -> None:
    """Validate shapes and dtypes of (input, target, weight) the way torch's nll_loss does."""
    nd = input.ndim
    single = nd == 1 and target.ndim == 1 and target.numel() == 1
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if single:
        pass
    elif nd <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 2 and target.ndim == 1 and input.shape[0] != target.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
            )
        if nd == 1 and target.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        if target.ndim != nd - 1 or input.shape[0] != target.shape[0]:
            if input.shape[0] != target.shape[0]:
                raise ValueError(
                    f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
                )
            raise RuntimeError(
                f"Expected target size {list(input.shape[:1]) + list(input.shape[2:])}, got {list(target.shape)}"
            )
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(
                f"Expected target size {list(input.shape[:1]) + list(input.shape[2:])}, got {list(target.shape)}"
            )
    if target._data.dtype not in (np.int64, np.uint8):
        kind = dt.scalar_type_name(target._data.dtype)
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {kind}")
    c = input.shape[_class_axis(input)]
    if weight is not None and (weight.ndim != 1 or weight.numel() != c):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no classes but got weight tensor "
            f"of shape: {list(weight.shape)}"
        )


def _gather_plan(input: Tensor, target: Tensor, weight, ignore_index: int):
    """Target indices, the ignore mask and per-element weights, checking the index range."""
    c = input.shape[_class_axis(input)]
    t = target._data.astype(np.int64)
    if input.ndim == 1:
        t = t.reshape(())
    ignored = t == ignore_index
    bad = (~ignored) & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(ignored, 0, t)
    dtype = input._data.dtype
    w = np.ones(c, dtype=dtype) if weight is None else weight._data.astype(dtype)
    wt = np.where(ignored, 0, w[safe]).astype(dtype)
    return safe, ignored, wt


def _take_class(a: np.ndarray, idx: np.ndarray, axis: int) -> np.ndarray:
    return np.take_along_axis(a, np.expand_dims(idx, axis), axis=axis).squeeze(axis)


def _onehot_like(shape, idx: np.ndarray, axis: int, values: np.ndarray, dtype) -> np.ndarray:
    out = np.zeros(shape, dtype=dtype)
    np.put_along_axis(out, np.expand_dims(idx, axis), np.expand_dims(values.astype(dtype), axis), axis=axis)
    return out


def _nll_denominator(wt: np.ndarray, reduction: str):
    return wt.sum() if reduction == "mean" else 1.0


def _nll_node_name(input: Tensor) -> str:
    return "NllLoss2DBackward0" if input.ndim >= 3 else "NllLossBackward0"


class _NllBase(Node):
    def backward(self, g):
        # d loss / d input is a constant scatter of -w[t]/denom at the targets, linear in g.
        coef = wrap(self.coef)
        if self.reduction == "none":
            g = g.unsqueeze(self.axis)
        return (coef * g, None, None)


NllLossBackward0 = type("NllLossBackward0", (_NllBase,), {})
NllLoss2DBackward0 = type("NllLoss2DBackward0", (_NllBase,), {})


def _weighted_nll(logp: np.ndarray, input: Tensor, target: Tensor, weight, ignore_index: int, reduction: str):
    """The weighted negative log-probabilities logp (shaped as input) at the target classes, reduced, and the
    plan they came from: (result array, class axis, safe targets, ignored mask, weights, denominator).

    With every target ignored the mean is 0/0, NaN, silently as in torch (callers compute quietly)."""
    axis = _class_axis(input)
    safe, ignored, wt = _gather_plan(input, target, weight, ignore_index)
    picked = _take_class(logp, safe, axis) if logp.ndim > 1 else logp[safe]
    losses = -(picked * wt)
    denom = _nll_denominator(wt, reduction)
    if reduction == "none":
        out = losses.astype(logp.dtype)
    elif reduction == "sum":
        out = np.asarray(losses.sum(), dtype=logp.dtype)
    else:
        out = np.asarray(losses.sum() / denom, dtype=logp.dtype)
    return out, axis, safe, ignored, wt, denom


@quietly
def nll_loss(input: Tensor, target: Tensor, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target classes given log-probabilities."""
    check_reduction(reduction)
    check_nll_args(input, target, weight)
    a = input._data
    out, axis, safe, ignored, wt, denom = _weighted_nll(a, input, target, weight, ignore_index, reduction)
    res = wrap(out)
    node = record(res, NllLoss2DBackward0 if input.ndim >= 3 else NllLossBackward0, input, None, None)
    if node is not None:
        scale = -wt / denom if reduction == "mean" else -wt
        if reduction == "mean" and denom == 0:
            scale = np.where(ignored, 0, scale).astype(a.dtype)  # as torch: no gradient for ignored targets
        if a.ndim == 1:
            coef = np.zeros_like(a)
            coef[safe] = scale
        else:
            coef = _onehot_like(a.shape, safe, axis, scale, a.dtype)
        node.coef, node.reduction, node.axis = coef, reduction, axis
    return res


class _CrossEntropyBase(Node):
    """Fused log_softmax + nll: d loss / d logits = coef * (softmax - onehot).

    The unweighted, nothing-ignored, mean-reduced case over (N, C) logits keeps only the flat
    positions of the targets (`flat_targets`) instead of the weight and one-hot arrays."""

    flat_targets = None

    def backward_arrays(self, g):
        gd = g._data
        if gd.dtype is not self.lsm.dtype:
            return None
        p = np.exp(self.lsm)  # softmax, from the log-softmax the forward kept
        flat = self.flat_targets
        if flat is not None:
            p.reshape(-1)[flat] -= 1  # softmax - onehot
            # gd[()] is g's value as a NumPy scalar of its dtype: the division below, without array setup.
            return (wrap(np.multiply(p, gd[()] / self.denom)), None, None)
        diff = p * self.wt_b - self.onehot
        if self.reduction == "none":
            return (wrap(diff * np.expand_dims(gd, self.axis)), None, None)
        if self.reduction == "mean":
            scaled = diff * np.asarray(gd / gd.dtype.type(self.denom))
            if self.denom == 0:
                scaled = np.where(self.wt_b == 0, gd.dtype.type(0), scaled)
            return (wrap(scaled), None, None)
        return (wrap(diff * gd), None, None)

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.flat_targets is not None:
            self.wt_b = np.ones((x._data.shape[0], 1), x._data.dtype)
            self.onehot = np.zeros(x._data.shape, x._data.dtype)
            self.onehot.reshape(-1)[self.flat_targets] = 1
        p = log_softmax(x, self.axis).exp()  # the forward's log-softmax again, now differentiable
        diff = p * wrap(self.wt_b) - wrap(self.onehot)
        if self.reduction == "none":
            g = g.unsqueeze(self.axis)
        elif self.reduction == "mean":
            if self.denom == 0:
                # Every target ignored (or weighted 0): as torch, ignored rows get no gradient, not 0 * inf.
                return (where(wrap(self.wt_b == 0), 0.0, diff * (g / self.denom)), None, None)
            g = g / self.denom
        return (diff * g, None, None)


_CE_NODES = {
    "NllLossBackward0": type("NllLossBackward0", (_CrossEntropyBase,), {}),
    "NllLoss2DBackward0": type("NllLoss2DBackward0", (_CrossEntropyBase,), {}),
}


@quietly
def cross_entropy_indices(
    input: Tensor, target: Tensor, weight=None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Cross entropy of logits against class indices, as one fused op."""
    check_reduction(reduction)
    if weight is None and reduction == "mean" and isinstance(target, Tensor):
        res = _cross_entropy_rows(input, target, ignore_index)
        if res is not None:
            return res
    check_nll_args(input, target, weight, "cross_entropy")
    check_float(input, "log_softmax_lastdim_kernel_impl")
    a = input._data
    lsm = _log_softmax_np(a, _class_axis(input))
    out, axis, safe, _, wt, denom = _weighted_nll(lsm, input, target, weight, ignore_index, reduction)
    res = wrap(out)
    node = record(res, _CE_NODES[_nll_node_name(input)], input, None, None)
    if node is not None:
        node.save(input)
        node.lsm, node.axis, node.reduction, node.denom = lsm, axis, reduction, denom
        node.wt_b = np.expand_dims(wt, axis) if a.ndim > 1 else wt
        if a.ndim == 1:
            oh = np.zeros_like(a)
            oh[safe] = wt
        else:
            oh = _onehot_like(a.shape, safe, axis, wt, a.dtype)
        node.onehot = oh
    return res


_ROW_STARTS: dict = {}  # (N, C) -> the flat index of each row's first element


def _cross_entropy_rows(input: Tensor, target: Tensor, ignore_index: int):
    """The everyday cross entropy: (N, C) float logits, N int64 targets all in range and none ignored,
    no class weights, mean reduction. None when any of that does not hold (the general path then
    validates and computes). Gives the general path's results with far fewer NumPy calls: every weight
    is 1, so the weighted terms reduce to the plain ones exactly."""
    a, t = input._data, target._data
    if a.ndim != 2 or t.ndim != 1 or t.dtype != np.int64 or a.dtype.kind != "f" or a.dtype.itemsize < 4:
        return None
    n, c = a.shape
    if n != t.shape[0] or not 0 < n < 1 << 24 or c == 0:
        return None
    # Every target in range and none ignored, else the general path validates (and names the bad target).
    if t.min() < 0 or t.max() >= c or (0 <= ignore_index < c and (t == ignore_index).any()):
        return None
    lsm = _log_softmax_np(a, 1)
    starts = _ROW_STARTS.get((n, c))
    if starts is None:
        starts = _ROW_STARTS[(n, c)] = np.arange(0, n * c, c)
        if len(_ROW_STARTS) > 64:
            _ROW_STARTS.clear()
    flat = starts + t
    losses = -lsm.take(flat)
    denom = a.dtype.type(n)
    res = wrap(np.asarray(_sum_reduce(losses) / denom, dtype=a.dtype))
    if input._requires_grad and grad_enabled():
        node = record(res, _CE_NODES["NllLossBackward0"], input, None, None)
        node.save(input)
        node.lsm, node.axis, node.reduction, node.denom, node.flat_targets = lsm, 1, "mean", denom, flat
    return res


# ---------------------------------------------------------------------------- regression losses
def _check_target_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warn_user(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size."
        )


def _pair_arrays(input: Tensor, target: Tensor, name: str):
    a, b = input._data, target._data
    if a.dtype != b.dtype:
        rt = dt.result_type(input, target)
        a, b = a.astype(rt.np), b.astype(rt.np)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        mism = next(
            i
            for i in range(1, min(a.ndim, b.ndim) + 1)
            if a.shape[-i] != b.shape[-i] and 1 not in (a.shape[-i], b.shape[-i])
        )
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-mism]}) must match the size of tensor b ({b.shape[-mism]}) at "
            f"non-singleton dimension {max(a.ndim, b.ndim) - mism} ({name} of input {list(a.shape)} and target "
            f"{list(b.shape)})"
        ) from None
    return a, b, shape


class _PointwiseLoss(Node):
    """Loss l(x - y) summed/averaged: subclasses give dl/dd as a Tensor expression."""

    def backward(self, g):
        x, y = self.saved_tensors
        spread = _spread(g, self.shape, self.reduction, self.count)
        gx = unbroadcast(spread * self.dloss(x - y), self.x_shape) if self.next_nodes[0] is not None else None
        # The target's gradient is dl/dd at y - x, as torch computes it (not the negated input gradient,
        # which would be -0 where input and target are equal).
        gy = unbroadcast(spread * self.dloss_target(x, y), self.y_shape) if self.next_nodes[1] is not None else None
        return gx, gy

    def dloss_target(self, x, y):
        return self.dloss(y - x)


class MseLossBackward0(_PointwiseLoss):
    def dloss(self, d):
        return d * 2


class SmoothL1LossBackward0(_PointwiseLoss):
    def dloss(self, d):
        if self.beta == 0:
            return d.sign()
        return (d / self.beta).clamp(-1.0, 1.0)

    def dloss_target(self, x, y):
        # with beta 0 torch computes l1_loss, whose target gradient is the negated input gradient
        return -self.dloss(x - y) if self.beta == 0 else self.dloss(y - x)


class HuberLossBackward0(_PointwiseLoss):
    def dloss(self, d):
        return d.clamp(-self.delta, self.delta)


@quietly
def _pointwise_loss(node_cls, input, target, reduction, loss_np, **attrs):
    check_reduction(reduction)
    _check_target_size(input, target)
    a, b, shape = _pair_arrays(input, target, node_cls.__name__)
    loss = loss_np(a - b)
    res = wrap(_reduce_np(loss, reduction).astype(loss.dtype, copy=False))
    node = record(res, node_cls, input, target)
    if node is not None:
        node.save(input, target)
        node.shape, node.reduction, node.count = shape, reduction, int(np.prod(shape))
        node.x_shape, node.y_shape = input._data.shape, target._data.shape
        for k, v in attrs.items():
            setattr(node, k, v)
    return res


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error."""
    return _pointwise_loss(MseLossBackward0, input, target, reduction, lambda d: d * d)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below beta, absolute (less beta/2) above."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")

    def loss(d):
        ad = np.abs(d)
        if beta == 0:
            return ad
        return np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)

    return _pointwise_loss(SmoothL1LossBackward0, input, target, reduction, loss, beta=beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Quadratic below delta, linear with slope delta above."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def loss(d):
        ad = np.abs(d)
        return np.where(ad <= delta, 0.5 * d * d, delta * (ad - 0.5 * delta))

    return _pointwise_loss(HuberLossBackward0, input, target, reduction, loss, delta=delta)


# ---------------------------------------------------------------------------- binary losses
class BinaryCrossEntropyBackward0(Node):
    def backward(self, g):
        x, y, w = self.saved_tensors
        gl = _spread(g, self.shape, self.reduction, self.count)
        if w is not None:
            gl = gl * w
        gx = gy = None
        if self.next_nodes[0] is not None:
            gx = gl * (x - y) / (x * (1 - x)).clamp_min(1e-12)
        if self.next_nodes[1] is not None:
            gy = gl * ((1 - x).log().clamp_min(-100.0) - x.log().clamp_min(-100.0))
        return gx, gy, None


@quietly
def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, reduction: str = "mean") -> Tensor:
    """-w * (y log x + (1 - y) log(1 - x)), logs clamped at -100."""
    check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    x, y = input._data, target._data.astype(input._data.dtype, copy=False)
    if x.size and ((x < 0) | (x > 1)).any() or np.isnan(x).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        lx = np.maximum(np.log(x), -100)
        l1x = np.maximum(np.log1p(-x), -100)
    loss = -(y * lx + (1 - y) * l1x)
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    res = wrap(_reduce_np(loss, reduction))
    node = record(res, BinaryCrossEntropyBackward0, input, target, weight)
    if node is not None:
        wb = weight.expand(tuple(loss.shape)) if weight is not None else None
        _save_optional(node, input, target, wb)
        node.shape, node.reduction, node.count = loss.shape, reduction, loss.size
    return res


class _OptionalSaved:
    """Stands in for a missing saved tensor."""

    @staticmethod
    def unpack(node):
        return None


def _save_optional(node: Node, *tensors) -> None:
    from ..autograd.graph import SavedTensor

    node.saved = tuple(SavedTensor(t) if t is not None else _OptionalSaved for t in tensors)


class BinaryCrossEntropyWithLogitsBackward0(Node):
    def backward(self, g):
        x, y, w, pw = self.saved_tensors
        gl = _spread(g, self.shape, self.reduction, self.count)
        if w is not None:
            gl = gl * w
        gx = gy = None
        if self.next_nodes[0] is not None:
            if pw is None:
                d = x.sigmoid() - y
            else:
                d = (pw * y - y + 1) * x.sigmoid() - pw * y
            gx = unbroadcast(gl * d, self.x_shape)
        if self.next_nodes[1] is not None:
            d = -x if pw is None else (pw - 1) * softplus_neg(x) - x
            gy = unbroadcast(gl * d, self.y_shape)
        return gx, gy, None, None


@quietly
def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Sigmoid + binary cross entropy in one stable op."""
    check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    x, y = input._data, target._data.astype(input._data.dtype, copy=False)
    sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)  # log(1 + exp(-x))
    if pos_weight is not None:
        pw = pos_weight._data
        loss = (1 - y) * x + (1 + (pw - 1) * y) * sp
    else:
        loss = (1 - y) * x + sp
    if weight is not None:
        loss = loss * weight._data
    loss = np.asarray(loss, dtype=x.dtype)
    res = wrap(_reduce_np(loss, reduction))
    node = record(res, BinaryCrossEntropyWithLogitsBackward0, input, target, weight, pos_weight)
    if node is not None:
        _save_optional(node, input, target, weight, pos_weight)
        node.shape, node.reduction, node.count = loss.shape, reduction, loss.size
        node.x_shape, node.y_shape = input._data.shape, target._data.shape
    return res


# ---------------------------------------------------------------------------- activations
class PreluKernelBackward0(Node):
    def backward(self, g):
        x, w = self.saved_tensors
        pos = mask_like(x > 0, g)
        wb = w.reshape(self.wshape)
        gx = g * (pos + (1 - pos) * wb) if self.next_nodes[0] is not None else None
        gw = None
        if self.next_nodes[1] is not None:
            gw = unbroadcast(g * x * (1 - pos), self.wshape).reshape(tuple(w.shape))
        return gx, gw


@quietly
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU whose negative slope is learned, one per channel (dim 1) or shared."""
    n = weight.numel()
    if input.ndim == 0 and n != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    c = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else 1)
    if n != 1 and n != c:
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} and channel "
            f"size = {c}."
        )
    wshape = [1] * input.ndim
    if n != 1:
        wshape[1 if input.ndim >= 2 else 0] = n
    wshape = tuple(wshape)
    a = input._data
    wa = weight._data.reshape(wshape)
    res = wrap(np.where(a > 0, a, a * wa).astype(a.dtype, copy=False))
    node = record(res, PreluKernelBackward0, input, weight)
    if node is not None:
        node.save(input, weight)
        node.wshape = wshape
    return res


# ---------------------------------------------------------------------------- normalization
class NativeLayerNormBackward0(Node):
    def backward(self, g):
        x, w, b = self.saved_tensors
        dims = self.dims
        mu = x.mean(dims, keepdim=True)
        xc = x - mu
        rstd = ((xc * xc).mean(dims, keepdim=True) + self.eps).rsqrt()
        xhat = xc * rstd
        gx = gw = gb = None
        if self.next_nodes[0] is not None:
            dxhat = g * w if w is not None else g
            gx = rstd * (dxhat - dxhat.mean(dims, keepdim=True) - xhat * (dxhat * xhat).mean(dims, keepdim=True))
        lead = tuple(range(x.ndim - len(dims)))
        if w is not None and self.next_nodes[1] is not None:
            gw = (g * xhat).sum(lead) if lead else g * xhat
        if b is not None and self.next_nodes[2] is not None:
            gb = g.sum(lead) if lead else g
        return gx, gw, gb


@quietly
def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing normalized_shape dims, then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size{list(input.shape)}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(p.shape)} and normalized_shape = {list(shape)}"
            )
    a = input._data
    dims = tuple(range(a.ndim - k, a.ndim))
    mu = a.mean(axis=dims, keepdims=True)
    xc = a - mu
    var = (xc * xc).mean(axis=dims, keepdims=True)
    out = xc / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight._data
    if bias is not None:
        out = out + bias._data
    res = wrap(out.astype(a.dtype, copy=False))
    node = record(res, NativeLayerNormBackward0, input, weight, bias)
    if node is not None:
        _save_optional(node, input, weight, bias)
        node.dims, node.eps = dims, eps
    return res


class NativeBatchNormBackward0(Node):
    def backward(self, g):
        x, w, b = self.saved_tensors
        dims, shape = self.dims, self.bshape
        wb = w.reshape(shape) if w is not None else None
        gx = gw = gb = None
        if self.training:
            mu = x.mean(dims, keepdim=True)
            xc = x - mu
            rstd = ((xc * xc).mean(dims, keepdim=True) + self.eps).rsqrt()
            xhat = xc * rstd
            if self.next_nodes[0] is not None:
                dxhat = g * wb if wb is not None else g
                gx = rstd * (dxhat - dxhat.mean(dims, keepdim=True) - xhat * (dxhat * xhat).mean(dims, keepdim=True))
        else:
            rstd = wrap(self.rstd.reshape(shape))
            xhat = (x - wrap(self.rmean.reshape(shape))) * rstd
            if self.next_nodes[0] is not None:
                gx = g * rstd * wb if wb is not None else g * rstd
        if w is not None and self.next_nodes[1] is not None:
            gw = (g * xhat).sum(dims)
        if b is not None and self.next_nodes[2] is not None:
            gb = g.sum(dims)
        return gx, gw, gb


@quietly
def batch_norm(
    input: Tensor,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum=0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims; updates running stats in training."""
    a = input._data
    if a.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {a.ndim}D input)")
    c = a.shape[1]
    dims = (0,) + tuple(range(2, a.ndim))
    bshape = (1, c) + (1,) * (a.ndim - 2)
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"running_mean should contain {c} elements not {t.numel()}"
                if name.startswith("running")
                else f"{name} should contain {c} elements not {t.numel()}"
            )
    if training:
        count = a.size // c
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {list(input.shape)}"
            )
        mean = a.mean(axis=dims)
        var = a.var(axis=dims)
        if running_mean is not None:
            m = momentum
            running_mean._data *= 1 - m
            running_mean._data += m * mean.astype(running_mean._data.dtype)
            running_mean._version.value += 1
        if running_var is not None:
            m = momentum
            running_var._data *= 1 - m
            running_var._data += m * (var * count / (count - 1)).astype(running_var._data.dtype)
            running_var._version.value += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean = running_mean._data.astype(a.dtype)
        var = running_var._data.astype(a.dtype)
    rstd = 1.0 / np.sqrt(var + eps)
    out = (a - mean.reshape(bshape)) * rstd.reshape(bshape)
    if weight is not None:
        out = out * weight._data.reshape(bshape)
    if bias is not None:
        out = out + bias._data.reshape(bshape)
    res = wrap(out.astype(a.dtype, copy=False))
    node = record(res, NativeBatchNormBackward0, input, weight, bias)
    if node is not None:
        _save_optional(node, input, weight, bias)
        node.dims, node.bshape, node.eps, node.training = dims, bshape, eps, training
        if not training:
            node.rstd, node.rmean = rstd.astype(a.dtype), mean
    return res


# ---------------------------------------------------------------------------- embedding, padding, norms
class EmbeddingBackward0(Node):
    def backward(self, g):
        from .indexing import index_put_accumulate_zeros

        if self.padding_idx is not None:
            keep = wrap((self.idx != self.padding_idx).astype(g._data.dtype)[..., None])
            g = g * keep
        return (None, index_put_accumulate_zeros(self.wshape, (self.idx,), g))


def embedding(input: Tensor, weight: Tensor, padding_idx=None) -> Tensor:
    """Rows of weight picked by the integer indices in input."""
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.type()} instead (while checking arguments for embedding)"
        )
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx[(idx < 0) | (idx >= n)].flat[0])
        raise IndexError(f"index out of range in self (index {bad} for an embedding with {n} rows)")
    res = wrap(weight._data[idx])
    node = record(res, EmbeddingBackward0, None, weight)
    if node is not None:
        node.idx, node.wshape, node.padding_idx = idx, weight._data.shape, padding_idx
    return res


class ConstantPadNdBackward0(Node):
    def backward(self, g):
        return (constant_pad(g, tuple(-p for p in self.pad), 0.0),)


def constant_pad(input: Tensor, pad, value: float = 0.0) -> Tensor:
    """Pad (or crop, for negative amounts) the last len(pad)//2 dims with a constant."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    a = input._data
    if k > a.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {a.ndim}"
        )
    out_shape = list(a.shape)
    src, dst = [slice(None)] * a.ndim, [slice(None)] * a.ndim
    for i in range(k):
        d = a.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = a.shape[d] + lo + hi
        if size < 0:
            raise RuntimeError(
                f"The input size {a.shape[d]}, plus negative padding {lo} and {hi} resulted in a negative output size, "
                f"which is invalid. Check dimension {d} of your input."
            )
        out_shape[d] = size
        src[d] = slice(max(-lo, 0), a.shape[d] - max(-hi, 0))
        dst[d] = slice(max(lo, 0), size - max(hi, 0))
    out = np.full(out_shape, value, dtype=a.dtype)
    out[tuple(dst)] = a[tuple(src)]
    res = wrap(out)
    node = record(res, ConstantPadNdBackward0, input)
    if node is not None:
        node.pad = pad
    return res


# ---------------------------------------------------------------------------- reflect / replicate / circular padding
class ReflectionPad1DBackward0(Adjoint):
    pass


class ReflectionPad2DBackward0(Adjoint):
    pass


class ReflectionPad3DBackward0(Adjoint):
    pass


class ReplicationPad1DBackward0(Adjoint):
    pass


class ReplicationPad2DBackward0(Adjoint):
    pass


class ReplicationPad3DBackward0(Adjoint):
    pass


class CopySlices(Adjoint):
    """Circular padding (torch builds it from slice copies, and names its node so)."""


class PadScatterBackward(Adjoint):
    """The gradient of a padding's gradient: gathering again."""


_PAD_NODES = {
    "reflect": (ReflectionPad1DBackward0, ReflectionPad2DBackward0, ReflectionPad3DBackward0),
    "replicate": (ReplicationPad1DBackward0, ReplicationPad2DBackward0, ReplicationPad3DBackward0),
    "circular": (CopySlices,) * 3,
}


def _source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position along a dim of size n padded by (lo, hi): the input position it copies."""
    src = np.arange(-lo, n + hi)
    if mode == "reflect":
        src = np.abs(src)
        return np.where(src > n - 1, 2 * (n - 1) - src, src)
    if mode == "replicate":
        return np.clip(src, 0, n - 1)
    # circular: a negative amount crops first, and the wrapping repeats what is left
    start, length = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
    return start + (np.arange(-max(lo, 0), length + max(hi, 0)) % length)


def _gather_planes(input: Tensor, index: np.ndarray, in_shape: tuple, node_cls) -> Tensor:
    """input's trailing dims (in_shape) replaced by the elements that index (an array of flat positions) names."""
    a = input._data
    lead = a.shape[: a.ndim - len(in_shape)]
    flat = a.reshape(lead + (-1,))
    res = wrap(np.ascontiguousarray(flat[..., index.ravel()]).reshape(lead + index.shape))
    record_adjoint(res, node_cls, input, _scatter_planes, index, in_shape, node_cls)
    return res


def _scatter_planes(g: Tensor, index: np.ndarray, in_shape: tuple, node_cls) -> Tensor:
    """The adjoint of _gather_planes: every element of g added onto the input position it came from, in
    the order of g's elements (as torch's padding backward adds)."""
    gd = g._data
    lead = gd.shape[: gd.ndim - index.ndim]
    rows = int(np.prod(lead, dtype=np.int64))
    out = np.zeros((rows, int(np.prod(in_shape))), dtype=gd.dtype)
    np.add.at(out, (np.arange(rows)[:, None], index.reshape(1, -1)), gd.reshape(rows, -1))
    res = wrap(out.reshape(lead + tuple(in_shape)))
    record_adjoint(res, PadScatterBackward, g, _gather_planes, index, in_shape, node_cls)
    return res


def mode_pad(input: Tensor, pad, mode: str) -> Tensor:
    """Pad the last len(pad)//2 dims by reflecting at the edges, repeating the edge, or wrapping around."""
    pad = tuple(int(p) for p in pad)
    a = input._data
    k = len(pad) // 2
    if len(pad) % 2 or k not in (1, 2, 3) or a.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {a.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if a.dtype.kind == "b" and mode != "circular":
        kernel = {"reflect": "reflection_pad", "replicate": "replication_pad"}[mode]
        raise NotImplementedError(f"\"{kernel}{k}d\" not implemented for 'Bool'")
    in_shape = a.shape[a.ndim - k :]
    indices = []
    for i in range(k):
        d = a.ndim - 1 - i
        lo, hi, n = pad[2 * i], pad[2 * i + 1], a.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {d} of input {list(a.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi <= 0 or (mode == "replicate" and n == 0):
            raise RuntimeError(
                f"input tensor {list(a.shape)} is too small for padding {pad}: the padded size of dimension {d} "
                f"would be {n + lo + hi}"
            )
        indices.append(_source_index(n, lo, hi, mode))
    flat = np.ravel_multi_index(np.ix_(*reversed(indices)), in_shape)
    return _gather_planes(input, flat, in_shape, _PAD_NODES[mode][k - 1])


TENSOR_METHODS = {"softmax": softmax, "log_softmax": log_softmax}
PUBLIC = {"softmax": softmax, "log_softmax": log_softmax}

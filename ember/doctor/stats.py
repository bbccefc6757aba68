"""Cheap NumPy reductions the doctor takes on sampled steps, and which modules it watches as what."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..nn.modules import activation as act
from ..nn.parameter import Parameter
from .thresholds import Thresholds

# Activation modules watched for NaN/inf and scale; the ReLU, sigmoid and tanh kinds get their own checks.
# Exact types, because several smooth activations (SiLU, SELU, ...) subclass ReLU in ember.
_OTHER_ACTIVATIONS = (
    act.PReLU,
    act.ELU,
    act.CELU,
    act.SELU,
    act.GELU,
    act.SiLU,
    act.Mish,
    act.Softplus,
    act.Softsign,
    act.Hardtanh,
    act.Hardsigmoid,
    act.Hardswish,
    act.LogSigmoid,
    act.Threshold,
    act.Tanhshrink,
    act.Hardshrink,
    act.Softshrink,
)


def module_kind(module, thresholds: Thresholds) -> str | None:
    """How the doctor watches a module: 'relu', 'sigmoid', 'tanh', 'activation', 'dense', 'weighted' or None."""
    ty = type(module)
    if ty in (act.ReLU, act.ReLU6):
        return "relu"
    if ty is act.LeakyReLU:
        return "relu" if abs(module.negative_slope) <= thresholds.leaky_slope_max else "activation"
    if ty is act.Sigmoid:
        return "sigmoid"
    if ty is act.Tanh:
        return "tanh"
    if ty in _OTHER_ACTIVATIONS:
        return "activation"
    weight = module._parameters.get("weight") if hasattr(module, "_parameters") else None
    if isinstance(weight, Parameter) and weight.ndim >= 2:
        # Layers that mix their inputs (Linear, Conv) have a fan-in scale to check; others (Embedding) do not.
        return "dense" if hasattr(module, "in_features") or hasattr(module, "in_channels") else "weighted"
    return None


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs feeding one output unit, for a weight laid out (out, in, *kernel) as torch does."""
    return int(math.prod(shape[1:])) if len(shape) >= 2 else int(shape[0])


def kaiming_std(fan: int) -> float:
    """The standard deviation Kaiming (He) normal init gives a ReLU layer with this fan-in."""
    return math.sqrt(2.0 / max(fan, 1))


def array_of(value) -> np.ndarray | None:
    """The NumPy array behind a tensor (no autograd graph is built), or None for anything else."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    return None


def _sum_sq(v: np.ndarray) -> float:
    """Sum of squares of a flat array: a BLAS dot, redone in a scaled form if it overflowed."""
    if v.dtype.kind != "f":
        v = v.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is handled below, NaN is reported
        total = float(np.dot(v, v))
        if math.isinf(total):
            top = float(np.abs(v).max())
            if math.isfinite(top):
                scaled = v.astype(np.float64) / top
                total = float(np.dot(scaled, scaled)) * top * top
    return total


def norm(a: np.ndarray) -> float:
    """The L2 norm (inf only when it truly exceeds float64, NaN when an element is NaN)."""
    return math.sqrt(_sum_sq(a.ravel()))


def is_finite(a: np.ndarray) -> bool:
    """Whether every element is finite (integers always are)."""
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def summarise_output(kind: str, out: np.ndarray, inp: np.ndarray | None, margin: float) -> dict:
    """What one sampled forward pass says about a module's output; `inp` (a dense layer's input) adds its scale."""
    if out.size == 0 or out.dtype.kind != "f":
        return {"finite": is_finite(out)}
    flat = out.reshape(out.shape[0], -1) if out.ndim >= 2 else out.reshape(1, -1)
    v = flat.ravel()
    sq = _sum_sq(v)
    # one NaN/inf element makes the sum of squares NaN/inf, so this doubles as the finiteness check
    if not math.isfinite(sq):
        return {"finite": False}
    n = v.size
    rec: dict = {"finite": True, "rms": math.sqrt(sq / n), "batch": int(flat.shape[0])}
    if kind == "relu":
        active = flat > 0
        if out.ndim > 2:
            # Feature maps (N, C, ...): a unit is a channel, alive when it is positive anywhere for any example.
            rec["alive"] = active.reshape(out.shape[0], out.shape[1], -1).any(axis=(0, 2))
            rec["unit"] = "channels"
        else:
            rec["alive"] = active.any(axis=0)
        rec["active_fraction"] = np.count_nonzero(active) / n
    elif kind == "sigmoid":
        rec["saturated"] = (np.count_nonzero(v < margin) + np.count_nonzero(v > 1.0 - margin)) / n
    elif kind == "tanh":
        rec["saturated"] = (np.count_nonzero(v < margin - 1.0) + np.count_nonzero(v > 1.0 - margin)) / n
    if inp is not None and inp.size and inp.dtype.kind == "f":
        sq_in = _sum_sq(inp.ravel())
        if math.isfinite(sq_in):
            rec["input_rms"] = math.sqrt(sq_in / inp.size)
    return rec


def pack_mask(mask: np.ndarray) -> str:
    """A boolean mask as a compact hex string (for state_dict, which holds only plain values)."""
    return np.packbits(mask.astype(np.bool_)).tobytes().hex()


def unpack_mask(text: str, size: int) -> np.ndarray:
    """The boolean mask pack_mask wrote."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8), count=size).astype(np.bool_)

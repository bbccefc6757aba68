"""Gradient clipping: clip_grad_norm_ and clip_grad_value_."""

from __future__ import annotations

import math

import numpy as np

from ..._dtype import scalar_type_name
from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "get_total_norm"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm_of(arr: np.ndarray, norm_type: float) -> float:
    if arr.size == 0:
        return 0.0
    a = np.abs(arr.astype(np.float64, copy=False))
    if norm_type == math.inf:
        return float(a.max())
    if norm_type == -math.inf:
        return float(a.min())
    if norm_type == 2:
        return float(np.sqrt((a * a).sum()))
    if norm_type == 0:
        return float((a != 0).sum())
    return float((a**norm_type).sum() ** (1.0 / norm_type))


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of all tensors' norms, as a 0-dim tensor."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    for t in tensors:
        if t._data.dtype.kind not in "fc":
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                f"Got {scalar_type_name(t.dtype)}"
            )
    norms = np.array([_norm_of(t._data, norm_type) for t in tensors])
    total = _norm_of(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    # torch stacks the per-tensor norms, so the result has the promoted dtype of all of them
    return Tensor._wrap(np.array(total, dtype=np.result_type(*(t._data.dtype for t in tensors))))


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """Scale gradients in place so their total norm is at most max_norm; returns the norm before clipping."""
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = float(max_norm) / (float(total._data) + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        scale = np.asarray(coef if math.isnan(coef) else min(coef, 1.0))
        with np.errstate(invalid="ignore"):  # an infinite norm scales by 0 and turns inf into nan, as in torch
            for g in grads:
                g._data *= scale.astype(g._data.dtype)
                g._version.value += 1
    return total


def clip_grad_norm(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """Deprecated alias of clip_grad_norm_."""
    import warnings

    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version.value += 1

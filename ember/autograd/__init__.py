"""Automatic differentiation: backward, grad, grad modes, custom Functions, anomaly detection."""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor
from .._warn import warn_user
from . import engine
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
]


def _as_list(x):
    if x is None:
        return None
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _make_grads(outputs, grad_outputs):
    from .._creation import ones_like
    from .._tensor import Tensor

    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            from .._creation import full_like

            g = full_like(out, g)
        else:
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape "
                    f"of {out.shape}."
                )
        grads.append(g)
    return grads


def backward(
    tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, grad_variables=None, inputs=None
) -> None:
    """Accumulate the gradients of tensors w.r.t. graph leaves into their .grad."""
    tensors = _as_list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_tensors = _as_list(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    inputs = _as_list(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors)
    engine.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused=None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
):
    """Return the gradients of outputs w.r.t. inputs without touching .grad."""
    if is_grads_batched:
        raise NotImplementedError("ember does not implement torch.autograd.grad(is_grads_batched=True)")
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    grads = _make_grads(outputs, grad_outputs)
    result = engine.run_backward(outputs, grads, retain_graph, create_graph, capture=inputs, allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like

        result = tuple(zeros_like(i, requires_grad=create_graph) if g is None else g for g, i in zip(result, inputs))
    return result


class detect_anomaly:  # noqa: N801 - torch's name
    """Inside this block, a backward that produces NaN raises an error naming the forward op."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        import warnings

        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
            "enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )
        self._prev = engine._state_anomaly[:]
        _set_anomaly(True, self.check_nan)

    def __exit__(self, *exc) -> None:
        engine._state_anomaly[:] = self._prev


def _set_anomaly(mode: bool, check_nan: bool) -> None:
    # Slot 0 (NaN checks on) is the one the ops and the engine read; slots 1-2 answer the queries below.
    engine._state_anomaly[:] = [bool(mode and check_nan), bool(mode), bool(check_nan)]


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (detect_anomaly or set_detect_anomaly)."""
    return engine._state_anomaly[1]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks backward outputs for NaN."""
    return engine._state_anomaly[2]


class set_detect_anomaly(detect_anomaly):  # noqa: N801
    """Turn anomaly detection on or off (also as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = engine._state_anomaly[:]
        _set_anomaly(mode, check_nan)

    def __enter__(self) -> None:
        pass


class _VariableMeta(type):
    """isinstance(t, Variable) holds for every tensor, as in torch."""

    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """The legacy Variable constructor: a new leaf tensor sharing data (and version counter) with data."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if volatile:
            warn_user("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.")
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if data is None:
            data = Tensor._wrap(np.empty((0,), dtype=get_default_dtype().np))
        elif not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            if out._data.dtype.kind != "f":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            out.requires_grad_(True)
        return out


class _VariableModule:
    Variable = Variable


variable = _VariableModule()

"""Writing a result into an existing tensor: in-place forms (`add_`, `x[i] = v`, `F.relu(x, inplace=True)`) and
`out=` arguments, for every op family.

An in-place op is computed out of place on a snapshot of the old value (so its node records the
right input) and then copied into the tensor; `apply_inplace` does that and the checks torch makes
first (leaves that require grad, views in a graph, result types and shapes that do not fit)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd.grad_mode import grad_enabled
from ._op import wrap


def maybe_out(res: Tensor, out: Tensor | None) -> Tensor:
    """res, or res copied into out (resized when its shape differs) for an op called with out=."""
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"out= must be a Tensor, got {type(out).__name__}")
    if out.shape != res.shape:
        out._data = np.empty(res._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, res._data, casting="unsafe")
    out._version.value += 1
    return out


def check_leaf_inplace(t: Tensor) -> None:
    """Refuse an in-place change of a leaf that requires grad while grad mode is on, as torch does."""
    if grad_enabled() and t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def apply_inplace(self: Tensor, compute: Callable, *args, **kwargs) -> Tensor:
    """Run compute(self, *args, **kwargs) and write the result into self, keeping autograd consistent.

    Recording an in-place op needs the old value of self, so a snapshot stands in for it."""
    recording = grad_enabled() and (
        self._requires_grad
        or any(isinstance(a, Tensor) and a._requires_grad for a in args)
        or (kwargs and any(isinstance(a, Tensor) and a._requires_grad for a in kwargs.values()))  # clamp_(min=t)
    )
    if recording:
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is not None and not hasattr(self, "_detached"):
            refuse_inplace_on_view(self)
        snap = wrap(self._data.copy())
        snap._requires_grad = self._requires_grad
        snap.grad_fn = self.grad_fn
        res = compute(snap, *args, **kwargs)
    else:
        res = compute(self, *args, **kwargs)
    _write_result(self, res)
    if recording:
        self.grad_fn = res.grad_fn
        self._requires_grad = res._requires_grad
    return self


def inplace_method(fn: Callable, name: str, fast: Callable | None = None, promotes: bool = False) -> Callable:
    """The Tensor method `name` (e.g. "add_") that applies fn in place; fast(self, *args, **kwargs) may do the
    whole job first on plain arrays and return True (for updates with nothing to record). For an op whose result
    type is the promotion of self and its first argument (promotes=True), a result type that cannot be cast into
    self is the error reported, before any error of the op itself, as torch checks the cast first."""

    run = fn
    if promotes:

        def run(t, *args, **kwargs):
            try:
                return fn(t, *args, **kwargs)
            except Exception:
                if args and isinstance(args[0], (Tensor, int, float)):
                    check_cast(dt.result_type(t, args[0]).np, t._data.dtype)
                raise

    if fast is None:

        def method(self, *args, **kwargs):
            return apply_inplace(self, run, *args, **kwargs)

    else:

        def method(self, *args, **kwargs):
            if fast(self, *args, **kwargs):
                return self
            return apply_inplace(self, run, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place {name.rstrip('_')}."
    method.applies = fn  # the op it applies in place (what tools/gen_where.py reports)
    return method


def refuse_inplace_on_view(view: Tensor) -> None:
    """Raise for a recorded in-place change of a view (torch would rebase the view's history onto its base)."""
    base = view._base
    if view._requires_grad and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if base._requires_grad or view._requires_grad:
        raise NotImplementedError(
            "ember does not implement in-place operations on views of tensors that require grad "
            "(torch rebases the view's history); apply the operation to the base tensor or to a .clone()"
        )
    raise NotImplementedError(
        "ember does not implement in-place operations with an operand that requires grad on a view of a tensor "
        "that does not (torch rebases the base's history); assign through an index on the base instead, "
        "e.g. base[0] = base[0] + w rather than base[0].add_(w)"
    )


def check_cast(src: np.dtype, dst: np.dtype) -> None:
    """Refuse, as torch's canCast does, to write a result of dtype src into a tensor of dtype dst: a floating
    result into an integer or bool tensor, or anything but bool into a bool tensor. Narrowing within a category
    (int64 into uint8, float64 into float16) is allowed and wraps or rounds."""
    if src != dst and ((src.kind == "f" and dst.kind != "f") or (dst.kind == "b" and src.kind != "b")):
        raise RuntimeError(
            f"result type {dt.scalar_type_name(src)} can't be cast to the desired output type "
            f"{dt.scalar_type_name(dst)}"
        )


def _write_result(self: Tensor, res: Tensor) -> None:
    rd = res._data
    check_cast(rd.dtype, self._data.dtype)
    if rd.shape != self._data.shape:
        try:
            if np.broadcast_shapes(rd.shape, self._data.shape) != self._data.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape {list(rd.shape)}"
            ) from None
    if not self._data.flags.writeable:
        raise RuntimeError("cannot write into a read-only tensor (it is an expanded view; call .clone() first)")
    np.copyto(self._data, rd, casting="unsafe")
    self._version.value += 1

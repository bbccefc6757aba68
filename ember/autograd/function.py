"""User-defined differentiable operations: subclass Function with static forward and backward."""

from __future__ import annotations

from .._tensor import Tensor
from .grad_mode import grad_enabled, set_enabled
from .graph import Node, grad_node_of


class FunctionCtx:
    """The ctx passed to forward and backward: saves tensors and flags between the two."""

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward, checked for in-place changes."""
        self.to_save = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient."""
        self.non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward modified in place."""
        self.dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients are passed to backward as zeros (default) or None."""
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node recorded for a Function call; it is also the ctx."""

    def __init__(self) -> None:
        Node.__init__(self)
        self.materialize_grads = True
        self.to_save = ()
        self.non_differentiable = set()
        self.dirty = set()

    def name(self) -> str:
        return f"{self._cls.__name__}Backward"

    @property
    def saved_tensors(self) -> tuple:
        base = Node.saved_tensors.fget(self)
        it = iter(base)
        return tuple(None if k is None else next(it) for k in self._saved_layout)

    def backward(self, grad):
        grads = self._cls.backward(self, *self._output_grads(grad))
        if not isinstance(grads, tuple):
            grads = (grads,)
        n_in = len(self._input_slots)
        if len(grads) < n_in:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected {n_in}, got {len(grads)})"
            )
        out = []
        for slot, g in zip(self._input_slots, grads):
            if slot is None:
                continue
            out.append(g)
        return tuple(out)

    def _output_grads(self, grad) -> tuple:
        """One gradient per forward output: zeros (or None) for the outputs that got none."""
        meta = self._outputs_meta
        if meta is None:
            return (grad,)
        from .._creation import zeros

        out = []
        for i, m in enumerate(meta):
            if i == self._diff_index:
                out.append(grad)
            elif m is not None and self.materialize_grads:
                out.append(zeros(m[0], dtype=m[1]))
            else:
                out.append(None)
        return tuple(out)


class _FunctionMeta(type):
    pass


class Function(metaclass=_FunctionMeta):
    """Base for custom autograd operations; call them with .apply(*args)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs; override in subclasses."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient per forward input; override in subclasses."""
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward without recording, then record one node whose backward calls cls.backward."""
        ctx = BackwardCFunction()
        ctx._cls = cls
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        prev = grad_enabled()
        set_enabled(False)
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            set_enabled(prev)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        needs = prev and any(t.requires_grad for t in tensor_args)
        if needs:
            ctx._input_slots = [a if isinstance(a, Tensor) else None for a in args]
            ctx.next_nodes = tuple(grad_node_of(a) if a.requires_grad else None for a in args if isinstance(a, Tensor))
            new_outs = []
            for o in outs:
                if isinstance(o, Tensor):
                    if any(o is a for a in tensor_args):
                        o = o._view_of(o._data)  # an input returned as is becomes a new output
                    if id(o) not in ctx.non_differentiable and o.dtype.is_floating_point:
                        o._requires_grad = True
                        o.grad_fn = ctx
                new_outs.append(o)
            outs = tuple(new_outs)
            if len([o for o in outs if isinstance(o, Tensor) and o.grad_fn is ctx]) > 1:
                raise NotImplementedError(
                    "ember does not implement autograd.Function with several differentiable outputs; "
                    "return one tensor or mark the others non-differentiable"
                )
            ctx._outputs_meta = (
                None if single else [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
            )
            ctx._diff_index = next((i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.grad_fn is ctx), 0)
            saved = [t for t in ctx.to_save if t is not None]
            ctx._saved_layout = [None if t is None else 1 for t in ctx.to_save]
            ctx.save(*saved)
        else:
            ctx._saved_layout = [None if t is None else 1 for t in ctx.to_save]
            ctx.save(*[t for t in ctx.to_save if t is not None])
        return outs[0] if single else outs


class once_differentiable:  # noqa: N801 - torch's name
    """Decorator accepted for compatibility; backward then runs without recording."""

    def __new__(cls, fn):
        return fn

"""User-defined differentiable operations: subclass Function with static forward and backward."""

from __future__ import annotations

import functools

from .._quiet_floats import as_user
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
        with as_user():  # the user's backward, under the user's NumPy error state
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
    """Gives each Function subclass its own node class, named f"{name}Backward" as in torch."""

    def __init__(cls, name, bases, namespace) -> None:
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_cls": cls})


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
        ctx = cls._backward_cls()
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
            if ctx.dirty:
                _check_dirty(ctx.dirty, tensor_args, outs)
            # refuse before any output or dirtied input is touched, so a refused call changes nothing
            differentiable = [
                o
                for o in outs
                if isinstance(o, Tensor)
                and o.dtype.is_floating_point
                and (
                    id(o) not in ctx.non_differentiable or (id(o) not in ctx.dirty and any(o is a for a in tensor_args))
                )
            ]
            if len(differentiable) > 1:
                raise NotImplementedError(
                    "ember does not implement autograd.Function with several differentiable outputs; "
                    "return one tensor or mark the others non-differentiable"
                )
            new_outs = []
            for o in outs:
                if isinstance(o, Tensor):
                    if id(o) in ctx.dirty:
                        pass  # a dirty input is returned as itself, its history moved onto this node
                    elif any(o is a for a in tensor_args):
                        o = o._view_of(o._data)  # an input returned as is becomes a new output
                    if id(o) not in ctx.non_differentiable and o.dtype.is_floating_point:
                        o._requires_grad = True
                        o.grad_fn = ctx
                new_outs.append(o)
            outs = tuple(new_outs)
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


def _check_dirty(dirty: set, inputs: list, outs: tuple) -> None:
    """Refuse the mark_dirty uses that torch refuses, and in-place changes of views (not implemented)."""
    for a in inputs:
        if id(a) not in dirty:
            continue
        if a._requires_grad and a.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        if a._base is not None and not hasattr(a, "_detached"):
            raise NotImplementedError(
                "ember does not implement ctx.mark_dirty on a view while recording for autograd (torch rebases "
                "the view's history); apply it to a .clone() of the view and assign the result back through an index "
                "on the base, e.g. base[0] = Fn.apply(base[0].clone())"
            )
    if not dirty <= {id(o) for o in outs if isinstance(o, Tensor)}:
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as output. "
            "The inputs that are modified inplace must all be outputs of the Function."
        )


_TWICE = "trying to differentiate twice a function that was marked with @once_differentiable"


class DelayedError(Node):
    """Stands behind the gradients of a once_differentiable backward: differentiating them raises."""

    def backward(self, grad):
        raise RuntimeError(_TWICE)


def once_differentiable(fn):
    """Decorate a Function's backward: it runs without recording, and a double backward through it raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = grad_enabled()
        set_enabled(False)
        try:
            outputs = fn(ctx, *args)
        finally:
            set_enabled(prev)
        if not prev or not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        node = DelayedError()
        single = not isinstance(outputs, tuple)
        marked = []
        for o in (outputs,) if single else outputs:
            if isinstance(o, Tensor) and o.dtype.is_floating_point:
                o = o.detach()
                o._requires_grad = True
                o.grad_fn = node
            marked.append(o)
        return marked[0] if single else tuple(marked)

    return wrapper

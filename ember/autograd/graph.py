"""The recorded graph: one Node per differentiable operation, saved tensors with version checks."""

from __future__ import annotations

import weakref

from .._tensor import _wrap


class SavedTensor:
    """A tensor kept for backward; unpacking fails if it was changed in place since."""

    __slots__ = ("tensor", "version", "data", "counter", "is_output", "requires_grad")

    def __init__(self, t, is_output: bool = False) -> None:
        self.version = t._version.value
        self.counter = t._version
        self.is_output = is_output
        if is_output:
            # Keep only the data: the output refers to the node, the node must not refer back.
            self.tensor = None
            self.data = t._data
            self.requires_grad = t.requires_grad
        else:
            self.tensor = t
            self.data = None

    def unpack(self, node):
        """Return the saved tensor, checking it was not modified in place."""
        if self.counter.value != self.version:
            t = self.tensor if self.tensor is not None else _wrap(self.data)
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.type()} {list(t.shape)}], which is output 0 of "
                f"{type(node).__name__}, is at version {self.counter.value}; expected version "
                f"{self.version} instead. Hint: do the in-place change on a .clone() or after backward."
            )
        if self.tensor is not None:
            return self.tensor
        out = _wrap(self.data)
        out._version = self.counter
        if self.requires_grad:
            # It required grad when saved, so it is a float tensor: no need for the setter's checks.
            out._requires_grad = True
            out.grad_fn = node
        return out


def _saved_input(t, _new=object.__new__, _cls=SavedTensor) -> SavedTensor:
    """SavedTensor(t) for an op's input, built without the constructor call (ops save several per step)."""
    s = _new(_cls)
    counter = t._version
    s.version = counter.value
    s.counter = counter
    s.is_output = False
    s.tensor = t
    s.data = None
    return s


class Node:
    """One recorded operation. Subclasses define backward(grad) in Tensor operations and return
    one gradient (or None) per entry of next_nodes.

    A subclass may also define backward_arrays(grad): the same formula computed on the saved arrays, with
    the same NumPy operations in the same order, so its results are identical bit for bit. The engine
    calls it when no graph of the backward pass is being built (create_graph is off); it returns None
    for the cases it does not cover (other dtypes, broadcasting), and backward runs instead."""

    backward_arrays = None

    __slots__ = (
        "next_nodes",
        "saved",
        "freed",
        "pre_hooks",
        "retained",
        "hooks",
        "_metadata",
        "__dict__",
        "__weakref__",
    )

    def __init__(self) -> None:
        self.next_nodes = ()
        self.saved = ()
        self.freed = False
        self.pre_hooks = None  # tensor hooks of the output this node produced
        self.retained = None  # weakref to the output tensor when it retains its grad
        self.hooks = None  # node hooks: fn(grad_inputs, grad_outputs)
        self._metadata = None  # made on first use: most nodes never need one

    @property
    def metadata(self) -> dict:
        """A dict for annotations (anomaly mode keeps the forward traceback here)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self) -> str:
        """The node's type name, as printed in grad_fn=<...>."""
        return type(self).__name__

    def save(self, *tensors, output=None) -> None:
        """Keep tensors (and optionally the op's output) for backward."""
        if output is None:
            self.saved = tuple([_saved_input(t) for t in tensors])
            return
        saved = [_saved_input(t) for t in tensors]
        saved.append(SavedTensor(output, is_output=True))
        self.saved = tuple(saved)

    def save_output(self, output) -> None:
        """save(output=output), for ops whose backward needs only their output."""
        self.saved = (SavedTensor(output, True),)

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors, checked for in-place changes."""
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors "
                "after they have already been freed). Saved intermediate values of the graph are freed "
                "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
                "backward through the graph a second time or if you need to access saved tensors after "
                "calling backward."
            )
        return tuple([s.unpack(self) for s in self.saved])

    def saved_arrays(self) -> list:
        """The saved tensors' arrays, checked for in-place changes like saved_tensors (for backward
        formulas that run on arrays when no graph is being recorded)."""
        if self.freed:
            self.saved_tensors  # raises the "backward through the graph a second time" error
        arrays = []
        for s in self.saved:
            if s.counter.value != s.version:
                s.unpack(self)  # raises the in-place modification error
            arrays.append(s.data if s.tensor is None else s.tensor._data)
        return arrays

    def release(self) -> None:
        """Free saved tensors after a backward pass that did not retain the graph."""
        if self.saved:
            self.saved = ()
            self.freed = True

    @property
    def next_functions(self) -> tuple:
        """(node, 0) pairs for each input, torch-style."""
        return tuple((n, 0) for n in self.next_nodes)

    def register_hook(self, fn):
        """Call fn(grad_inputs, grad_outputs) after this node's backward."""
        from ..utils.hooks import RemovableHandle

        if self.hooks is None:
            self.hooks = {}
        return RemovableHandle(self.hooks, fn)

    def register_prehook(self, fn):
        """Call fn(grad_outputs) before this node's backward; may return replacements."""
        from ..utils.hooks import RemovableHandle

        if self.pre_hooks is None:
            self.pre_hooks = {}
        return RemovableHandle(self.pre_hooks, lambda g, fn=fn: _first(fn((g,)), g))

    def backward(self, grad):  # pragma: no cover - every op overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"  # torch's form, address included


def _first(result, default):
    if result is None:
        return default
    return result[0] if isinstance(result, tuple) else result


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds incoming gradients into leaf.grad."""

    __slots__ = ("variable",)

    def __init__(self, leaf) -> None:
        super().__init__()
        self.variable = leaf

    def backward(self, grad):  # handled by the engine
        return ()


def grad_node_of(t):
    """The node that receives gradients for tensor t (its grad_fn, or its AccumulateGrad)."""
    fn = t.grad_fn
    if fn is not None:
        return fn
    ref = t._acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc = weakref.ref(acc)
    return acc

"""The backward pass: an iterative walk of the graph in dependency order."""

from __future__ import annotations

import sys

import numpy as np

from .._machine import forced
from .._quiet_floats import as_user, quietly_around_user_code
from .._tensor import _wrap
from .grad_mode import grad_enabled, set_enabled
from .graph import AccumulateGrad, grad_node_of

_refcount = sys.getrefcount
# _new_grad reads reference counts whose exact values are an implementation detail; they were checked on
# these CPython versions (3.14 and free-threaded builds may report fewer references, so there it copies).
_REFCOUNTS_CHECKED = (
    sys.implementation.name == "cpython" and (3, 10) <= sys.version_info[:2] <= (3, 13) and not forced("grad-reuse")
)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _collect_dependencies(roots, root_grads: dict) -> dict:
    """For every node reachable from roots, a slot [edges still to arrive, gradient so far, node].

    Roots start with no edges counted and their seed gradient; keeping the count and the gradient
    together costs one dict lookup per edge in the walk."""
    pending = {}
    for r in roots:
        pending[r] = [0, root_grads[r], r]
    stack = roots[:]
    pop, push = stack.pop, stack.append
    while stack:
        for nxt in pop().next_nodes:
            if nxt is None:
                continue
            slot = pending.get(nxt)
            if slot is None:
                pending[nxt] = [1, None, nxt]
                push(nxt)
            else:
                slot[0] += 1
    return pending


def _new_grad(grad, engine_held: bool):
    """The tensor to store as a leaf's first .grad: grad's own buffer when nobody else can see it, else a copy.

    Keeping the buffer saves a copy of every parameter's gradient per step. It is only safe when no
    other tensor (or user code) can observe later in-place accumulation into it, which CPython's
    reference counts tell exactly: the tensor must be held only by the engine and this call chain,
    its array only by the tensor, and an array it is a view of only by that view."""
    arr = grad._data
    # References to grad: the engine's variable (engine_held), the caller's, this argument, getrefcount's.
    # References to arr: grad's slot, the local variable, getrefcount's argument.
    if (
        _REFCOUNTS_CHECKED
        and grad._base is None
        and _refcount(grad) == 3 + engine_held
        and _refcount(arr) == 3
        and arr.flags.c_contiguous
        and arr.flags.writeable
    ):
        base = arr.base
        # References to base: the view's .base, the local variable, getrefcount's argument.
        if base is None or (type(base) is np.ndarray and base.base is None and _refcount(base) == 3):
            base = None
            return _wrap(arr)
        base = None
    arr = None
    return grad.detach()._owned_copy()


def _accumulate_into_leaf(node: AccumulateGrad, grad, create_graph: bool) -> None:
    """Add grad into node's leaf .grad (grad is also held by the engine's loop variable)."""
    leaf = node.variable
    engine_held = True  # grad is still the engine's object (not one a hook or conversion made)
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            with as_user():
                new = hook(grad)
            if new is not None:
                grad, engine_held = new, False
            new = None
    if grad._data.dtype != leaf._data.dtype:
        grad, engine_held = grad.to(leaf.dtype), False
    if grad._data.shape != leaf._data.shape:
        grad = grad.expand(leaf.shape) if grad.numel() != leaf.numel() else grad.reshape(leaf.shape)
        engine_held = False
    current = leaf._grad
    if current is None:
        if create_graph:
            leaf.grad = grad
        else:
            leaf._grad = _new_grad(grad, engine_held)
    elif create_graph or current._requires_grad:
        leaf.grad = current + grad
    else:
        current._data += grad._data
        current._version.value += 1
    if leaf._post_acc_hooks:
        for hook in list(leaf._post_acc_hooks.values()):
            with as_user():
                result = hook(leaf)
            if result is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


# One list of callbacks per backward pass in progress (innermost last): queue_callback adds to the innermost,
# and run_backward calls them, in order, once its walk has finished.
_final_callbacks: list[list] = []


def queue_callback(callback) -> None:
    """Call callback() when the backward pass in progress has finished (torch's Engine.queue_callback)."""
    if not _final_callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _final_callbacks[-1].append(callback)


def run_backward(
    tensors, grad_tensors, retain_graph: bool, create_graph: bool, inputs=None, capture=None, allow_unused=True
):
    """Propagate grad_tensors from tensors back through the graph, then run the callbacks queued meanwhile.

    With capture (a list of input tensors) the gradients flowing into them are returned instead of
    being accumulated into .grad (this is autograd.grad)."""
    callbacks: list = []
    _final_callbacks.append(callbacks)
    try:
        result = _walk(tensors, grad_tensors, retain_graph, create_graph, inputs, capture, allow_unused)
    finally:
        _final_callbacks.pop()
    # a callback may queue another (it then runs in this same loop)
    _final_callbacks.append(callbacks)
    try:
        i = 0
        while i < len(callbacks):
            callbacks[i]()  # outside the quiet walk: under the caller's NumPy error state
            i += 1
    finally:
        _final_callbacks.pop()
    return result


@quietly_around_user_code  # every backward formula and accumulation; hooks and custom Functions run as_user()
def _walk(tensors, grad_tensors, retain_graph: bool, create_graph: bool, inputs=None, capture=None, allow_unused=True):
    """The walk itself: gradients from the roots to the leaves (or to the captured inputs)."""
    roots = []
    root_grads = {}
    for t, g in zip(tensors, grad_tensors):
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node = t.grad_fn or grad_node_of(t)
        if node in root_grads:
            root_grads[node] = _add(root_grads[node], g)
        else:
            roots.append(node)
            root_grads[node] = g
    t = g = None  # keep no extra references to the gradients

    targets = None
    captured = None
    if capture is not None:
        captured = {}
        targets = {}
        for i, t in enumerate(capture):
            if not t.requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
            targets.setdefault(grad_node_of(t), []).append(i)
    elif inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
            targets.setdefault(grad_node_of(t), []).append(i)

    pending = _collect_dependencies(roots, root_grads)
    root_grads = None
    ready = []
    for n in roots:
        if pending[n][0] == 0:
            ready.append(pending[n])
    n = roots = None
    pop_ready, push_ready = ready.pop, ready.append
    anomaly = _state_anomaly
    prev_mode = grad_enabled()
    set_enabled(create_graph)
    fast_path = not create_graph  # the one place that chooses array formulas over Tensor formulas
    try:
        while ready:
            slot = pop_ready()
            node, grad = slot[2], slot[1]
            slot[1] = None
            if node.pre_hooks:
                for hook in list(node.pre_hooks.values()):
                    with as_user():
                        new = hook(grad)
                    if new is not None:
                        grad = new
                new = None
            if node.retained is not None:
                out = node.retained()
                if out is not None and grad is not None:
                    out.grad = grad if create_graph else grad.detach()
                out = None
            is_leaf = node.__class__ is AccumulateGrad
            if targets is not None:
                if node in targets:
                    if captured is not None:
                        for i in targets[node]:
                            captured[i] = grad
                    elif is_leaf and grad is not None:
                        _accumulate_into_leaf(node, grad, create_graph)
                    elif grad is not None:
                        for i in targets[node]:
                            t = inputs[i]
                            t.grad = grad if t.grad is None else t.grad + grad
                if is_leaf:
                    continue
            elif is_leaf:
                if grad is not None:
                    _accumulate_into_leaf(node, grad, create_graph)
                continue
            next_nodes = node.next_nodes
            if grad is None:
                grads = (None,) * len(next_nodes)
            else:
                if node.freed:
                    node.saved_tensors  # raises the "backward through the graph a second time" error
                grads = None
                if fast_path and node.backward_arrays is not None:
                    grads = node.backward_arrays(grad)
                if grads is None:
                    grads = node.backward(grad)
                if node.hooks:
                    for hook in list(node.hooks.values()):
                        with as_user():
                            new = hook(grads, (grad,))
                        if new is not None:
                            grads = tuple(new)
                    new = None
                if anomaly[0]:
                    _check_anomaly(node, grads)
                if not retain_graph and node.saved:
                    node.saved = ()
                    node.freed = True
            # Drop this frame's reference before the gradients move on, so a leaf that receives one of
            # them can tell (by reference count) whether anyone else still holds it.
            grad = None
            for nxt, g in zip(next_nodes, grads):
                if nxt is None:
                    continue
                slot = pending[nxt]
                if g is not None:
                    held = slot[1]
                    slot[1] = g if held is None else held + g
                    held = None
                left = slot[0] - 1
                slot[0] = left
                if not left:
                    push_ready(slot)
            grads = g = slot = None
    finally:
        set_enabled(prev_mode)
    if captured is not None:
        result = []
        for i in range(len(capture)):
            g = captured.get(i)
            if g is None and not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            if g is not None and not create_graph:
                g = g.detach()
            result.append(g)
        return tuple(result)
    return None


_state_anomaly = [False, False, True]  # [NaN checks on, anomaly mode on, check_nan]


def _check_anomaly(node, grads) -> None:
    """Raise, naming the node, if its backward produced NaN; warn with the forward traceback."""
    import warnings

    for i, g in enumerate(grads):
        if g is not None and g.dtype.is_floating_point and np.isnan(g._data).any():
            where = node.metadata.get("traceback", "")
            warnings.warn(
                f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{where}",
                UserWarning,
                stacklevel=2,
            )
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")

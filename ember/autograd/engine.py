"""The backward pass: an iterative walk of the graph in dependency order."""

from __future__ import annotations

from .grad_mode import _state
from .graph import AccumulateGrad, grad_node_of


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _collect_dependencies(roots) -> dict:
    """Count, for every node reachable from roots, how many edges point to it."""
    deps: dict = {}
    seen = set()
    stack = list(roots)
    for r in roots:
        seen.add(id(r))
    while stack:
        node = stack.pop()
        for nxt in node.next_nodes:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return deps


def _accumulate_into_leaf(node: AccumulateGrad, grad, create_graph: bool) -> None:
    leaf = node.variable
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            new = hook(grad)
            if new is not None:
                grad = new
    if grad.dtype is not leaf.dtype:
        grad = grad.to(leaf.dtype)
    if grad.shape != leaf.shape:
        grad = grad.expand(leaf.shape) if grad.numel() != leaf.numel() else grad.reshape(leaf.shape)
    if leaf.grad is None:
        if create_graph:
            leaf.grad = grad
        else:
            leaf.grad = grad.detach()._owned_copy()
    elif create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + grad
    else:
        leaf.grad._data += grad._data
        leaf.grad._version.value += 1
    for hook in list(leaf._post_acc_hooks.values()) if leaf._post_acc_hooks else ():
        hook(leaf)


def run_backward(
    tensors, grad_tensors, retain_graph: bool, create_graph: bool, inputs=None, capture=None, allow_unused=True
):
    """Propagate grad_tensors from tensors back through the graph.

    With capture (a list of input tensors) the gradients flowing into them are returned instead of
    being accumulated into .grad (this is autograd.grad)."""
    roots = []
    root_grads = {}
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node = grad_node_of(t)
        if node not in root_grads:
            roots.append(node)
        root_grads[node] = _add(root_grads.get(node), g)

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

    deps = _collect_dependencies(roots)
    buffers = dict(root_grads)
    ready = [n for n in roots if deps.get(n, 0) == 0]
    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grad = buffers.pop(node, None)
            if node.pre_hooks:
                for hook in list(node.pre_hooks.values()):
                    new = hook(grad)
                    if new is not None:
                        grad = new
            if node.retained is not None:
                out = node.retained()
                if out is not None and grad is not None:
                    out.grad = grad if create_graph else grad.detach()
            if targets is not None and node in targets:
                if captured is not None:
                    for i in targets[node]:
                        captured[i] = grad
                elif isinstance(node, AccumulateGrad) and grad is not None:
                    _accumulate_into_leaf(node, grad, create_graph)
                elif grad is not None:
                    out = node.retained() if node.retained is not None else None
                    _ = out  # non-leaf inputs: torch accumulates into their .grad as well
                    for i in targets[node]:
                        t = inputs[i]
                        t.grad = grad if t.grad is None else t.grad + grad
            elif isinstance(node, AccumulateGrad):
                if grad is not None and targets is None:
                    _accumulate_into_leaf(node, grad, create_graph)
                continue
            if isinstance(node, AccumulateGrad):
                continue
            if grad is None:
                grads = (None,) * len(node.next_nodes)
            else:
                if node.freed:
                    node.saved_tensors  # raises the "backward through the graph a second time" error
                grads = node.backward(grad)
                if node.hooks:
                    for hook in list(node.hooks.values()):
                        new = hook(grads, (grad,))
                        if new is not None:
                            grads = tuple(new)
                if _state_anomaly[0]:
                    _check_anomaly(node, grads)
                if not retain_graph:
                    node.release()
            for nxt, g in zip(node.next_nodes, grads):
                if nxt is None:
                    continue
                if g is not None:
                    buffers[nxt] = _add(buffers.get(nxt), g)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)
    finally:
        _state.enabled = prev_mode
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


_state_anomaly = [False]


def _check_anomaly(node, grads) -> None:
    """Raise, naming the node, if its backward produced NaN; warn with the forward traceback."""
    import warnings

    import numpy as np

    for i, g in enumerate(grads):
        if g is not None and g.dtype.is_floating_point and np.isnan(g._data).any():
            where = node.metadata.get("traceback", "")
            warnings.warn(
                f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{where}",
                UserWarning,
                stacklevel=2,
            )
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")

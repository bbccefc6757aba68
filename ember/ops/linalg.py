"""Matrix products: matmul (1-D, 2-D, batched, broadcasting), mm, bmm, addmm, dot, outer."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._op import Node, record, unbroadcast, wrap


def _check_same_dtype(a: Tensor, b: Tensor, name: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}")


class MmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        ga = g.mm(b.t()) if self.next_nodes[0] is not None else None
        gb = a.t().mm(g) if self.next_nodes[1] is not None else None
        return ga, gb


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Matrix product of two 2-D tensors."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        which = "self" if input._data.ndim != 2 else "mat2"
        raise RuntimeError(f"{which} must be a matrix")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input._data.shape[0]}x{input._data.shape[1]} and "
            f"{mat2._data.shape[0]}x{mat2._data.shape[1]})"
        )
    _check_same_dtype(input, mat2, "mm")
    res = wrap(input._data @ mat2._data)
    node = record(res, MmBackward0, input, mat2)
    if node is not None:
        node.save(input, mat2)
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(res, out)
    return res


class BmmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        ga = g.bmm(b.transpose(1, 2)) if self.next_nodes[0] is not None else None
        gb = a.transpose(1, 2).bmm(g) if self.next_nodes[1] is not None else None
        return ga, gb


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size."""
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
            f"[{b.shape[0]}, {b.shape[1]}]."
        )
    _check_same_dtype(input, mat2, "bmm")
    res = wrap(np.matmul(a, b))
    node = record(res, BmmBackward0, input, mat2)
    if node is not None:
        node.save(input, mat2)
    return res


class MatmulBackward(Node):
    """General matmul: 1-D operands are promoted to matrices, batch dims broadcast."""

    def backward(self, g):
        a, b = self.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if self.next_nodes[0] is not None:
            ga = g2.matmul(b2.transpose(-1, -2))
            ga = unbroadcast(ga, a2.shape)
            if a.ndim == 1:
                ga = ga.reshape(a.shape)
        if self.next_nodes[1] is not None:
            gb = a2.transpose(-1, -2).matmul(g2)
            gb = unbroadcast(gb, b2.shape)
            if b.ndim == 1:
                gb = gb.reshape(b.shape)
        return ga, gb


class DotBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        return (g * b if self.next_nodes[0] is not None else None, g * a if self.next_nodes[1] is not None else None)


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with torch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError("matmul(): argument 'other' must be Tensor")
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        return mm(input, other, out=out)
    if a.ndim == 1 and b.ndim == 1:
        return dot(input, other)
    _check_same_dtype(input, other, "matmul")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        sa = f"{a.shape[-2] if a.ndim > 1 else 1}x{k_a}"
        sb = f"{k_b}x{b.shape[-1] if b.ndim > 1 else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb}) (matmul of {list(a.shape)} and {list(b.shape)})")
    try:
        arr = np.matmul(a, b)
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {list(a.shape)} and {list(b.shape)} do not broadcast") from None
    res = wrap(arr)
    node = record(res, MatmulBackward, input, other)
    if node is not None:
        node.save(input, other)
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(res, out)
    return res


def dot(input: Tensor, tensor: Tensor, *, out=None) -> Tensor:
    """Inner product of two 1-D tensors of equal length."""
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same "
            "number of elements, but got "
            f"{a.shape[0]} and {b.shape[0]} elements respectively"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {input.dtype.name} and {tensor.dtype.name}")
    res = wrap(np.asarray(np.dot(a, b)))
    node = record(res, DotBackward0, input, tensor)
    if node is not None:
        node.save(input, tensor)
    return res


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


class AddmmBackward0(Node):
    def backward(self, g):
        m1, m2 = self.saved_tensors
        gi = None
        if self.next_nodes[0] is not None:
            gi = unbroadcast(g if self.beta == 1 else g * self.beta, self.in_shape)
        gs = g if self.alpha == 1 else g * self.alpha
        g1 = gs.mm(m2.t()) if self.next_nodes[1] is not None else None
        g2 = m1.t().mm(gs) if self.next_nodes[2] is not None else None
        return gi, g1, g2


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2): the fused op behind Linear."""
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError("mat1 must be a matrix" if a.ndim != 2 else "mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    arr = a @ b
    if alpha != 1:
        arr *= alpha
    c = input._data
    if beta == 0:
        pass
    else:
        if c.dtype != arr.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {input.dtype.name} and {mat2.dtype.name}")
        try:
            if beta == 1:
                arr += c
            else:
                arr += beta * c
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({arr.shape[-1]}) must match the existing size ({c.shape[-1]}) "
                f"(addmm of input {list(c.shape)} with result {list(arr.shape)})"
            ) from None
    res = wrap(arr)
    node = record(res, AddmmBackward0, input, mat1, mat2)
    if node is not None:
        node.save(mat1, mat2)
        node.alpha, node.beta, node.in_shape = alpha, beta, c.shape
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(res, out)
    return res


def _rmatmul(self, other):
    if isinstance(other, np.ndarray):
        other = wrap(other)
    return matmul(other, self)


_ = dt
TENSOR_FUNCS = {"matmul": matmul, "mm": mm, "bmm": bmm, "addmm": addmm, "dot": dot, "inner": dot, "outer": outer, "ger": outer}
TENSOR_METHODS = dict(TENSOR_FUNCS)
TENSOR_METHODS.update({"__matmul__": lambda self, other: matmul(self, other if isinstance(other, Tensor) else wrap(np.asarray(other))), "__rmatmul__": _rmatmul})
PUBLIC = dict(TENSOR_FUNCS)

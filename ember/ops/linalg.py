"""Matrix products: matmul (1-D, 2-D, batched, broadcasting), mm, bmm, addmm, dot, outer."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._blas import matrix_product
from .._quiet_floats import quietly
from .._tensor import Tensor
from ..autograd.grad_mode import grad_enabled
from ._inplace import maybe_out
from ._op import Node, attach, record, unbroadcast, wrap
from .shape import TBackward0


def _check_same_dtype(a: Tensor, b: Tensor, name: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}")


def _is_transposed(a: np.ndarray) -> bool:
    """Whether a 2-D array is laid out column by column (like the transposed weight inside Linear)."""
    return a.flags.f_contiguous and not a.flags.c_contiguous


def mat2_grad(g: np.ndarray, mat1: np.ndarray, mat2: np.ndarray) -> np.ndarray:
    """mat1^T @ g, the gradient of mat2 in mat1 @ mat2, in mat2's own layout.

    For a column-major mat2 (a transposed weight) it is computed as (g^T @ mat1)^T, as torch does,
    so the transposed gradient comes out row-major: the weight can keep it as .grad without a copy."""
    if _is_transposed(mat2):
        return matrix_product(g.T, mat1).T
    return matrix_product(mat1.T, g)


class MmBackward0(Node):
    def backward_arrays(self, g):
        a, b = self.saved_arrays()
        gd = g._data
        if not gd.dtype is a.dtype is b.dtype:
            return None
        ga = wrap(matrix_product(gd, b.T)) if self.next_nodes[0] is not None else None
        gb = wrap(mat2_grad(gd, a, b)) if self.next_nodes[1] is not None else None
        return ga, gb

    def backward(self, g):
        a, b = self.saved_tensors
        ga = g.mm(b.t()) if self.next_nodes[0] is not None else None
        gb = _mat2_grad_t(g, a, b) if self.next_nodes[1] is not None else None
        return ga, gb


def _mat2_grad_t(g: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """mat2_grad in Tensor operations (differentiable, for create_graph)."""
    if _is_transposed(mat2._data):
        return g.t().mm(mat1).t()
    return mat1.t().mm(g)


@quietly
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
    res = wrap(matrix_product(input._data, mat2._data))
    node = record(res, MmBackward0, input, mat2)
    if node is not None:
        node.save(input, mat2)
    if out is not None:
        return maybe_out(res, out)
    return res


class BmmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        ga = g.bmm(b.transpose(1, 2)) if self.next_nodes[0] is not None else None
        gb = a.transpose(1, 2).bmm(g) if self.next_nodes[1] is not None else None
        return ga, gb


@quietly
def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size."""
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
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


@quietly
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
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb}) (matmul of {list(a.shape)} and {list(b.shape)})"
        )
    try:
        arr = np.matmul(a, b)
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of {list(a.shape)} and {list(b.shape)} do not broadcast"
        ) from None
    res = wrap(arr)
    node = record(res, MatmulBackward, input, other)
    if node is not None:
        node.save(input, other)
    if out is not None:
        return maybe_out(res, out)
    return res


@quietly
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
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input.dtype.name} and {tensor.dtype.name}"
        )
    res = wrap(np.asarray(np.dot(a, b)))
    node = record(res, DotBackward0, input, tensor)
    if node is not None:
        node.save(input, tensor)
    return res


inner = dot


@quietly
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


class AddmmBackward0(Node):
    def backward_arrays(self, g):
        if self.alpha != 1 or self.beta != 1:
            return None
        m1, m2 = self.saved_arrays()
        gd = g._data
        if not gd.dtype is m1.dtype is m2.dtype:
            return None
        gi = unbroadcast(g, self.in_shape) if self.next_nodes[0] is not None else None
        g1 = wrap(matrix_product(gd, m2.T)) if self.next_nodes[1] is not None else None
        g2 = wrap(mat2_grad(gd, m1, m2)) if self.next_nodes[2] is not None else None
        return gi, g1, g2

    def backward(self, g):
        m1, m2 = self.saved_tensors
        gi = None
        if self.next_nodes[0] is not None:
            gi = unbroadcast(g if self.beta == 1 else g * self.beta, self.in_shape)
        gs = g if self.alpha == 1 else g * self.alpha
        g1 = gs.mm(m2.t()) if self.next_nodes[1] is not None else None
        g2 = _mat2_grad_t(gs, m1, m2) if self.next_nodes[2] is not None else None
        return gi, g1, g2


@quietly
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2): the fused op behind Linear."""
    a, b = mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError("mat1 must be a matrix" if a.ndim != 2 else "mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    arr = matrix_product(a, b)
    if alpha != 1:
        arr *= alpha
    c = input._data
    if beta == 0:
        pass
    else:
        if c.dtype != arr.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {input.dtype.name} and {mat2.dtype.name}"
            )
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
        return maybe_out(res, out)
    return res


@quietly
def linear(input: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """addmm(bias, input, weight.t()) for a 2-D input, recording the same graph with fewer steps.

    Shapes or dtypes that need addmm's checks and error messages go through addmm itself."""
    a, w, c = input._data, weight._data, bias._data
    if (
        a.ndim != 2
        or w.ndim != 2
        or a.shape[1] != w.shape[1]
        or c.shape != w.shape[:1]
        or not a.dtype is w.dtype is c.dtype
    ):
        return addmm(bias, input, weight.t())
    arr = matrix_product(a, w.T)
    arr += c
    res = wrap(arr)
    if (input._requires_grad or weight._requires_grad or bias._requires_grad) and grad_enabled():
        mat2 = weight._view_of(w.T)
        if weight._requires_grad:
            attach(mat2, TBackward0, weight)
        node = attach(res, AddmmBackward0, bias, input, mat2)
        node.save(input, mat2)
        node.alpha, node.beta, node.in_shape = 1, 1, c.shape
    return res


# ---------------------------------------------------------------------------- einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation: str, shapes: list) -> tuple:
    """Explicit subscripts (ellipses spelled out as letters) for each operand and the output."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(specs) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for ch in eq:
        if ch not in _LETTERS and ch not in ",.->":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {eq.index(ch)} in the equation string, subscripts must be in [a-zA-Z]"
            )
    used = set(c for c in eq if c in _LETTERS)
    spare = [c for c in _LETTERS if c not in used]
    ell_n = 0
    counts = []
    for k, (spec, shape) in enumerate(zip(specs, shapes)):
        n_labels = len(spec.replace("...", ""))
        if "..." in spec:
            ell_n = max(ell_n, len(shape) - n_labels)
        elif n_labels != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({n_labels}) does not match the number of "
                f"dimensions ({len(shape)}) for operand {k} and no ellipsis was given"
            )
        counts.append(n_labels)
    ell = "".join(spare[:ell_n])
    subs = []
    for spec, shape, n_labels in zip(specs, shapes, counts):
        k = len(shape) - n_labels
        if k < 0:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({n_labels}) is more than the number of "
                f"dimensions ({len(shape)}) for operand {len(subs)}"
            )
        subs.append(spec.replace("...", ell[ell_n - k :]))
    if arrow:
        out = rhs.replace("...", ell)
        present = set("".join(subs))
        for c in out:
            if c not in present:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        joined = "".join(s.replace("...", "") for s in specs)
        out = ell + "".join(sorted((c for c in set(joined) if joined.count(c) == 1), key=lambda c: (c.isupper(), c)))
    return subs, out


def _label_sizes(subs: list, shapes: list) -> dict:
    sizes: dict = {}
    for k, (sub, shape) in enumerate(zip(subs, shapes)):
        for c, n in zip(sub, shape):
            prev = sizes.get(c, 1)
            if n != 1 and prev != 1 and n != prev:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast with previously "
                    f"seen size {prev}"
                )
            sizes[c] = max(prev, n)
    return sizes


def _full_shape(sub: str, shape, sizes: dict) -> tuple:
    return tuple(sizes[c] if n == 1 else n for c, n in zip(sub, shape))


class EinsumBackward0(Node):
    def backward(self, g):
        ops = self.saved_tensors
        grads = []
        for i, target in enumerate(self.subs):
            if self.next_nodes[i] is None:
                grads.append(None)
                continue
            grads.append(self._grad_for(i, target, g, ops))
        return tuple(grads)

    def _grad_for(self, i: int, target: str, g: Tensor, ops) -> Tensor:
        sizes = self.sizes
        spare = [c for c in _LETTERS if c not in sizes]
        terms = [self.out]
        operands = [g]
        for j, (sub, op) in enumerate(zip(self.subs, ops)):
            if j != i:
                terms.append(sub)
                operands.append(op.expand(_full_shape(sub, op.shape, sizes)))
        # a label repeated within the target is a diagonal: give each repeat a fresh label tied by an identity
        dedup = ""
        for c in target:
            if c in dedup:
                fresh = spare.pop()
                terms.append(c + fresh)
                operands.append(wrap(np.eye(sizes[c], dtype=g._data.dtype)))
                dedup += fresh
            else:
                dedup += c
        available = set("".join(terms))
        kept = "".join(c for c in dedup if c in available)
        grad = einsum(",".join(terms) + "->" + kept, *operands)
        # labels only this operand carries were summed away: the gradient is constant along them
        if len(kept) != len(dedup):
            for pos, c in enumerate(dedup):
                if c not in available:
                    grad = grad.unsqueeze(pos)
            grad = grad.expand(tuple(sizes.get(c, 1) if c in sizes else 1 for c in dedup))
        return unbroadcast(grad, self.shapes[i])


@quietly
def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the labelled axes, in Einstein notation (ellipsis and broadcasting allowed)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise NotImplementedError("torch.einsum in sublist format is not supported by ember; pass an equation string")
    for op in operands:
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, not {type(op).__name__}")
    shapes = [op._data.shape for op in operands]
    subs, out = _parse_einsum(equation, shapes)
    sizes = _label_sizes(subs, shapes)
    d0 = operands[0]._data.dtype
    for op in operands[1:]:
        if op._data.dtype != d0:
            raise RuntimeError(f"expected scalar type {_dt_word(d0)} but found {_dt_word(op._data.dtype)}")
    arrays = [np.broadcast_to(op._data, _full_shape(sub, op._data.shape, sizes)) for sub, op in zip(subs, operands)]
    arr = np.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 2)
    res = wrap(np.require(np.asarray(arr, dtype=d0), requirements="C"))
    node = record(res, EinsumBackward0, *operands)
    if node is not None:
        node.save(*operands)
        node.subs, node.out, node.sizes, node.shapes = subs, out, sizes, shapes
    return res


def _dt_word(npd) -> str:
    return dt.scalar_type_name(npd)


@quietly
def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract the last dims axes of a with the first dims axes of b (or the listed axes pairs)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [d % max(a.ndim, 1) for d in da]
    db = [d % max(b.ndim, 1) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} and second has "
                f"size {b.shape[y]} in dim {y}"
            )
    la = _LETTERS[: a.ndim]
    lb = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for x, y in zip(da, db):
        lb[y] = la[x]
    lb = "".join(lb)
    out_sub = "".join(c for k, c in enumerate(la) if k not in da) + "".join(c for k, c in enumerate(lb) if k not in db)
    res = einsum(f"{la},{lb}->{out_sub}", a, b)
    if out is not None:
        return maybe_out(res, out)
    return res


# ---------------------------------------------------------------------------- fused products
@quietly
def mv(input: Tensor, vec: Tensor, *, out=None) -> Tensor:
    """Matrix-vector product."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input._data.shape[0]}), mat ({input._data.shape[0]}x{input._data.shape[1]}), "
            f"vec ({vec._data.shape[0]})"
        )
    return matmul(input, vec, out=out)


def _scaled_sum(input: Tensor, prod: Tensor, beta, alpha) -> Tensor:
    """beta * input + alpha * prod, where beta == 0 ignores input (even NaN in it), as torch does."""
    p = prod if alpha == 1 else prod * alpha
    try:
        ok = np.broadcast_shapes(tuple(p.shape), tuple(input.shape)) == tuple(p.shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"The expanded size of the tensor ({p.shape[-1] if p.ndim else 1}) must match the existing size "
            f"({input.shape[-1] if input.ndim else 1}): input of shape {list(input.shape)} cannot be broadcast to "
            f"the product's shape {list(p.shape)}"
        )
    if beta == 0:
        return p
    return p + (input if beta == 1 else input * beta)


@quietly
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    res = _scaled_sum(input, mv(mat, vec), beta, alpha)
    if out is not None:
        return maybe_out(res, out)
    return res


@quietly
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    res = _scaled_sum(input, bmm(batch1, batch2), beta, alpha)
    if out is not None:
        return maybe_out(res, out)
    return res


@quietly
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    res = _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)
    if out is not None:
        return maybe_out(res, out)
    return res


@quietly
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    res = _scaled_sum(input, outer(vec1, vec2), beta, alpha)
    if out is not None:
        return maybe_out(res, out)
    return res


def _rmatmul(self, other):
    if isinstance(other, np.ndarray):
        other = wrap(other)
    return matmul(other, self)


_ = dt
TENSOR_FUNCS = {
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "addmm": addmm,
    "dot": dot,
    "inner": dot,
    "outer": outer,
    "ger": outer,
    "mv": mv,
    "addmv": addmv,
    "baddbmm": baddbmm,
    "addbmm": addbmm,
    "addr": addr,
}
TENSOR_METHODS = dict(TENSOR_FUNCS)
TENSOR_METHODS.update(
    {
        "__matmul__": lambda self, other: matmul(self, other if isinstance(other, Tensor) else wrap(np.asarray(other))),
        "__rmatmul__": _rmatmul,
    }
)
PUBLIC = dict(TENSOR_FUNCS)
PUBLIC.update({"einsum": einsum, "tensordot": tensordot})

"""Elementwise arithmetic, comparisons and math functions, with broadcasting and autograd."""

from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._quiet_floats import enter_quiet, leave_quiet, quiet, quietly
from .._tensor import Tensor
from ..autograd.grad_mode import grad_enabled
from ._inplace import check_leaf_inplace, inplace_method, maybe_out, refuse_inplace_on_view
from ._op import (
    Node,
    as_ndarray,
    attach,
    float_array,
    record,
    unbroadcast,
    wrap,
)
from .pointwise import (  # registered below with the other elementwise ops
    acos,
    asin,
    atan,
    ceil,
    cos,
    cosh,
    erf,
    exp,
    exp2,
    expm1,
    floor,
    log,
    log1p,
    log2,
    log10,
    reciprocal,
    relu,
    rsqrt,
    sigmoid,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
    trunc,
    zero_gradient,
)

_Scalar = (int, float, bool, np.number, np.bool_)


# ---------------------------------------------------------------------------- dtype handling
def _operands(a, b, op_name: str):
    """Arrays for a and b cast to their promoted dtype, and that dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        da, db = a._data, b._data
        if da.dtype is db.dtype or da.dtype == db.dtype:
            return da, db, _dtype_of(da)
        rt = dt.result_type(a, b)
    elif isinstance(a, Tensor):
        da, db = a._data, b
        if not isinstance(b, _Scalar):
            raise TypeError(f"{op_name}(): unsupported operand type {type(b).__name__}")
        kind = dt.scalar_kind(b)
        ta = _dtype_of(da)
        rt = ta if kind <= ta._kind else dt.default_for_kind(kind)
    else:
        da, db = a, b._data
        if not isinstance(a, _Scalar):
            raise TypeError(f"{op_name}(): unsupported operand type {type(a).__name__}")
        kind = dt.scalar_kind(a)
        tb = _dtype_of(db)
        rt = tb if kind <= tb._kind else dt.default_for_kind(kind)
    if isinstance(da, np.ndarray):
        if da.dtype != rt.np:
            da = da.astype(rt.np)
    else:
        da = _scalar_as(da, rt)
    if isinstance(db, np.ndarray):
        if db.dtype != rt.np:
            db = db.astype(rt.np)
    else:
        db = _scalar_as(db, rt)
    return da, db, rt


def _scalar_as(x, rt: dt.dtype):
    """A Python scalar as a NumPy scalar of rt; out-of-range integers wrap around as in torch."""
    try:
        return rt.np.type(x)
    except OverflowError:
        return np.asarray(x).astype(rt.np)[()]


_NP2DT = {d.np: d for d in dt.ALL}


def _dtype_of(arr: np.ndarray) -> dt.dtype:
    return _NP2DT[arr.dtype]


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def _check_broadcast(a, b, op_name: str) -> None:
    _check_broadcast_all(op_name, a, b)


def _check_broadcast_all(op_name: str, *operands) -> None:
    """Raise torch's error if the operands' shapes do not broadcast: torch combines them left to right, and names
    the first size that fails, with the shape so far as tensor a and the next operand as tensor b."""
    shapes = [_shape(x) for x in operands]
    sa = shapes[0]
    for sb in shapes[1:]:
        try:
            sa = np.broadcast_shapes(sa, sb)
        except ValueError:
            mism = next(
                i for i in range(1, min(len(sa), len(sb)) + 1) if sa[-i] != sb[-i] and 1 not in (sa[-i], sb[-i])
            )
            dim = max(len(sa), len(sb)) - mism
            listed = [str(list(s)) for s in shapes]
            listed = ", ".join(listed[:-1]) + " and " + listed[-1]
            raise RuntimeError(
                f"The size of tensor a ({sa[-mism]}) must match the size of tensor b ({sb[-mism]}) at non-singleton "
                f"dimension {dim} ({op_name} of shapes {listed})"
            ) from None


def _t(x):
    return x if isinstance(x, Tensor) else None


@quietly
def _ufunc(fn, a, b, op_name):
    da, db, rt = _operands(a, b, op_name)
    try:
        out = fn(da, db)
    except ValueError:
        _check_broadcast(a, b, op_name)
        raise
    if not isinstance(out, np.ndarray):
        out = np.asarray(out)
    if out.dtype != rt.np:
        out = out.astype(rt.np)
    return out


def _same_float(np_fn, da: np.ndarray, other):
    """np_fn(da, other) for a float array da and a tensor of the same dtype or a Python int/float.

    That case needs no type promotion, so it skips the general operand handling; None means the
    general path must run (other dtypes, other operand types, shapes that do not broadcast)."""
    quiet_token = enter_quiet()  # inline rather than @quietly: this is the hottest path of all
    try:
        if isinstance(other, Tensor):
            db = other._data
            if db.dtype is not da.dtype:
                return None
        elif other.__class__ is float or other.__class__ is int:
            db = da.dtype.type(other)  # a number beyond float32's range becomes inf, as in torch
        else:
            return None
        arr = np_fn(da, db)
    except (ValueError, OverflowError):
        return None
    finally:
        leave_quiet(quiet_token)
    return arr if arr.__class__ is np.ndarray else np.asarray(arr)


def _needs_grad(a: Tensor, b) -> bool:
    """Whether an op on a and b (a tensor or a scalar) must be recorded."""
    return (a._requires_grad or (isinstance(b, Tensor) and b._requires_grad)) and grad_enabled()


# ---------------------------------------------------------------------------- binary arithmetic
class AddBackward0(Node):
    def backward(self, g):
        ga = unbroadcast(g, self.a_shape) if self.next_nodes[0] is not None else None
        gb = None
        if len(self.next_nodes) > 1 and self.next_nodes[1] is not None:
            gb = unbroadcast(g if self.alpha == 1 else g * self.alpha, self.b_shape)
        return ga, gb


class SubBackward0(Node):
    def backward(self, g):
        ga = unbroadcast(g, self.a_shape) if self.next_nodes[0] is not None else None
        gb = None
        if len(self.next_nodes) > 1 and self.next_nodes[1] is not None:
            gb = unbroadcast(-g if self.alpha == 1 else g * (-self.alpha), self.b_shape)
        return ga, gb


class RsubBackward1(Node):
    def backward(self, g):
        return (-g if self.alpha == 1 else g * (-self.alpha),)


def _scaled(other, alpha):
    """alpha * other for the alpha= argument of add/sub (a no-op for the usual alpha=1)."""
    if alpha == 1:
        return other
    if isinstance(other, Tensor):
        if isinstance(alpha, float) and other._data.dtype.kind != "f":
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        return wrap(_ufunc(np.multiply, other, alpha, "mul"))
    return other * alpha


def _same_float_sum(np_fn, node_cls, input: Tensor, other, out):
    """add/sub with alpha 1 of a float tensor and a same-dtype tensor or Python number, or None when the
    general path must run (see _same_float)."""
    arr = _same_float(np_fn, input._data, other)
    if arr is None:
        return None
    res = wrap(arr)
    node = attach(res, node_cls, input, other) if _needs_grad(input, other) else None
    if node is not None:
        node.a_shape, node.b_shape, node.alpha = input._data.shape, _shape(other), 1
    return res if out is None else maybe_out(res, out)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(f"add(): argument 'input' must be Tensor, not {type(input).__name__}")
        return add(other, input) if alpha == 1 else add(_scaled(other, alpha), input)
    if alpha == 1 and input._data.dtype.kind == "f":
        res = _same_float_sum(np.add, AddBackward0, input, other, out)
        if res is not None:
            return res
    res = wrap(_ufunc(np.add, input, _scaled(other, alpha), "add"))
    node = record(res, AddBackward0, input, _t(other))
    if node is not None:
        node.a_shape, node.b_shape, node.alpha = input._data.shape, _shape(other), alpha
    return res if out is None else maybe_out(res, out)


def _is_bool(x) -> bool:
    return x._data.dtype == np.bool_ if isinstance(x, Tensor) else isinstance(x, (bool, np.bool_))


def _check_bool_sub(input, other) -> None:
    ib, ob = _is_bool(input), _is_bool(other)
    if ib and ob:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if ib or ob:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    if not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    if alpha == 1 and input._data.dtype.kind == "f":
        res = _same_float_sum(np.subtract, SubBackward0, input, other, out)
        if res is not None:
            return res
    if input._data.dtype == np.bool_ or _is_bool(other):
        _check_bool_sub(input, other)
    res = wrap(_ufunc(np.subtract, input, _scaled(other, alpha), "sub"))
    node = record(res, SubBackward0, input, _t(other))
    if node is not None:
        node.a_shape, node.b_shape, node.alpha = input._data.shape, _shape(other), alpha
    return res if out is None else maybe_out(res, out)


@quietly
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    da = input._data
    if alpha == 1 and da.dtype.kind == "f" and (other.__class__ is float or other.__class__ is int):
        try:
            arr = np.subtract(da.dtype.type(other), da)
        except OverflowError:
            arr = None
        if arr is not None:
            res = wrap(arr if arr.__class__ is np.ndarray else np.asarray(arr))
            if input._requires_grad and grad_enabled():
                attach(res, RsubBackward1, input).alpha = 1
            return res
    if input._data.dtype == np.bool_ or _is_bool(other):
        _check_bool_sub(input, other)
    res = wrap(_ufunc(np.subtract, other, _scaled(input, alpha), "rsub"))
    node = record(res, RsubBackward1, input)
    if node is not None:
        node.alpha = alpha
    return res


def _same_shape_operands(node: Node, g):
    """(g's array, a, b) for a node that saved its two operands, when all three share g's dtype and shape
    (the case array formulas cover); None otherwise, and for a Python-number operand."""
    if node.scalar is not None:
        return None
    a, b = node.saved_arrays()
    gd = g._data
    return (gd, a, b) if gd.dtype is a.dtype is b.dtype and gd.shape == a.shape == b.shape else None


class MulBackward0(Node):
    scalar = None

    def backward_arrays(self, g):
        arrays = _same_shape_operands(self, g)
        if arrays is None:
            return None
        gd, a, b = arrays
        return (
            wrap(as_ndarray(np.multiply(gd, b))) if self.next_nodes[0] is not None else None,
            wrap(as_ndarray(np.multiply(gd, a))) if self.next_nodes[1] is not None else None,
        )

    def backward(self, g):
        if self.scalar is not None:
            return (g * self.scalar,)
        a, b = self.saved_tensors
        ga = unbroadcast(g * b, self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(g * a, self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


def _save_product(node, input: Tensor, other) -> None:
    """What a fast-path product or quotient's node keeps: both tensors with their shapes, or the Python scalar."""
    if isinstance(other, Tensor):
        node.save(input, other)
        node.a_shape, node.b_shape = input._data.shape, other._data.shape
    else:
        node.scalar = other


def mul(input, other, *, out=None):
    """Elementwise product, broadcasting."""
    if not isinstance(input, Tensor):
        input, other = other, input
    if input._data.dtype.kind == "f":
        arr = _same_float(np.multiply, input._data, other)
        if arr is not None:
            res = wrap(arr)
            if _needs_grad(input, other):
                _save_product(attach(res, MulBackward0, input, other), input, other)
            return res if out is None else maybe_out(res, out)
    res = wrap(_ufunc(np.multiply, input, other, "mul"))
    if isinstance(other, Tensor):
        node = record(res, MulBackward0, input, other)
        if node is not None:
            node.save(input, other)
            node.a_shape, node.b_shape = input._data.shape, other._data.shape
    else:
        node = record(res, MulBackward0, input)
        if node is not None:
            node.scalar = other
    return res if out is None else maybe_out(res, out)


class DivBackward0(Node):
    scalar = None

    def backward_arrays(self, g):
        arrays = _same_shape_operands(self, g)
        if arrays is None:
            return None
        gd, a, b = arrays
        return (
            wrap(as_ndarray(gd / b)) if self.next_nodes[0] is not None else None,
            wrap(as_ndarray(-gd * a / (b * b))) if self.next_nodes[1] is not None else None,
        )

    def backward(self, g):
        if self.scalar is not None:
            return (g / self.scalar,)
        a, b = self.saved_tensors
        ga = unbroadcast(g / b, self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(-g * a / (b * b), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


class DivBackward2(Node):
    """Rounded division: piecewise constant, so the gradient is zero."""

    def backward(self, g):
        return tuple(None if n is None else unbroadcast(g * 0, s) for n, s in zip(self.next_nodes, self.shapes))


def _to_float_operand(x, rt: dt.dtype):
    if isinstance(x, Tensor):
        return x if x._data.dtype.kind == "f" else x.to(rt)
    return x if isinstance(x, (float, np.floating)) else float(x)


def div(input, other, *, rounding_mode=None, out=None):
    """True division (or 'trunc' / 'floor' rounding), broadcasting."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
            )
        return maybe_out(_rounded_div(input, other, rounding_mode, DivBackward2), out)
    if not isinstance(input, Tensor):
        # scalar / tensor is reciprocal(tensor) * scalar, as torch computes it.
        return mul(reciprocal(other), input)
    if input._data.dtype.kind == "f":
        arr = _same_float(np.true_divide, input._data, other)
        if arr is not None:
            res = wrap(arr)
            if _needs_grad(input, other):
                _save_product(attach(res, DivBackward0, input, other), input, other)
            return res if out is None else maybe_out(res, out)
    a, b = input, other
    if a._data.dtype.kind != "f" or not (isinstance(b, float) or (isinstance(b, Tensor) and b._data.dtype.kind == "f")):
        rt = dt.result_type(input, other)
        if not rt.is_floating_point:
            rt = dt.get_default_dtype()
        a, b = _to_float_operand(a, rt), _to_float_operand(b, rt)
    res = wrap(_ufunc(np.true_divide, a, b, "div"))
    if isinstance(b, Tensor):
        node = record(res, DivBackward0, a, b)
        if node is not None:
            node.save(a, b)
            node.a_shape, node.b_shape = a._data.shape, b._data.shape
    else:
        node = record(res, DivBackward0, a)
        if node is not None:
            node.scalar = b
    return res if out is None else maybe_out(res, out)


true_divide = divide = div


class FloorDivideBackward(Node):
    """floor_divide has no derivative in torch: backward through it is an error."""

    def name(self) -> str:
        return "NotImplemented"  # what torch prints as grad_fn

    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


def _rounded_div(input, other, mode: str, node_cls):
    if not isinstance(input, Tensor):
        input = wrap(np.asarray(_scalar_as(input, dt.result_type(input, other))))
    da, db, rt = _operands(input, other, "div")
    if rt is dt.bool_:
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    if rt._kind == 1:
        if np.any(np.asarray(db) == 0):
            raise RuntimeError("ZeroDivisionError")
        try:
            q = np.floor_divide(da, db)
        except ValueError:
            _check_broadcast(input, other, "div")
            raise
        if mode == "trunc":
            q = q + ((np.remainder(da, db) != 0) & ((np.asarray(da) < 0) != (np.asarray(db) < 0)))
        arr = np.asarray(q, dtype=rt.np)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                arr = np.floor_divide(da, db) if mode == "floor" else np.trunc(np.true_divide(da, db))
            except ValueError:
                _check_broadcast(input, other, "div")
                raise
        arr = np.asarray(arr, dtype=rt.np)
    res = wrap(arr)
    node = record(res, node_cls, input, _t(other))
    if node is not None:
        node.shapes = (input._data.shape, _shape(other))
        node.op = "floor_divide"
    return res


def floor_divide(input, other, *, out=None):
    """Division rounded toward minus infinity (not differentiable, as in torch)."""
    return maybe_out(_rounded_div(input, other, "floor", FloorDivideBackward), out)


class RemainderBackward0(Node):
    """remainder(tensor, scalar)."""

    def backward(self, g):
        return (g,)


class RemainderBackward1(Node):
    """remainder(tensor, tensor): d/db = -floor(a / b)."""

    def backward(self, g):
        a, b = self.saved_tensors
        ga = unbroadcast(g, self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(-g * (a / b).floor(), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


class FmodBackward0(RemainderBackward0):
    """fmod(tensor, scalar)."""


class FmodBackward1(Node):
    """fmod(tensor, tensor): d/db = -trunc(a / b)."""

    def backward(self, g):
        a, b = self.saved_tensors
        ga = unbroadcast(g, self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(-g * (a / b).trunc(), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


def _modulo(np_fn, name, scalar_node, tensor_node, input, other, out):
    if not isinstance(input, Tensor):
        input = wrap(np.asarray(_scalar_as(input, dt.result_type(input, other))))
    kind = dt.result_type(input, other)._kind
    if kind == 0:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    if kind == 1:
        db = other._data if isinstance(other, Tensor) else other
        if np.any(np.asarray(db) == 0):
            raise RuntimeError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        res = wrap(_ufunc(np_fn, input, other, name))
    if isinstance(other, Tensor):
        node = record(res, tensor_node, input, other)
        if node is not None:
            node.save(input, other)
            node.a_shape, node.b_shape = input._data.shape, other._data.shape
    else:
        record(res, scalar_node, input)
    return res if out is None else maybe_out(res, out)


def remainder(input, other, *, out=None):
    """Python-style modulus (takes the sign of the divisor)."""
    return _modulo(np.remainder, "remainder", RemainderBackward0, RemainderBackward1, input, other, out)


def fmod(input, other, *, out=None):
    """C-style modulus (takes the sign of the dividend)."""
    return _modulo(np.fmod, "fmod", FmodBackward0, FmodBackward1, input, other, out)


class PowBackward0(Node):
    """input ** scalar."""

    def backward(self, g):
        (a,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return (g * 0,)
        return (g * e * a ** (e - 1),)


class PowBackward1(Node):
    """input ** tensor."""

    def backward(self, g):
        a, b, out = self.saved_tensors
        ga = gb = None
        if self.next_nodes[0] is not None:
            ga = unbroadcast(where(b == 0, 0.0, g * b * a ** (b - 1)), self.a_shape)
        if self.next_nodes[1] is not None:
            safe = where((a == 0) & (b >= 0), 0.0, out * log(a))
            gb = unbroadcast(g * safe, self.b_shape)
        return ga, gb


class PowBackward2(Node):
    """scalar ** tensor."""

    def backward(self, g):
        (out,) = self.saved_tensors
        if self.base == 0:
            return (g * 0,)
        return (g * out * float(np.log(self.base)),)


def pow(input, exponent, *, out=None):  # noqa: A001
    """input raised to exponent, elementwise."""
    if not isinstance(input, Tensor):
        if isinstance(input, (bool, np.bool_)) and exponent._data.dtype == np.bool_:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        res = wrap(_ufunc(np.power, input, exponent, "pow"))
        node = record(res, PowBackward2, exponent)
        if node is not None:
            node.save(output=res)
            node.base = input
        return res if out is None else maybe_out(res, out)
    _check_int_pow(input, exponent)
    if isinstance(exponent, Tensor):
        res = wrap(_ufunc(np.power, input, exponent, "pow"))
        node = record(res, PowBackward1, input, exponent)
        if node is not None:
            node.save(input, exponent, output=res)
            node.a_shape, node.b_shape = input._data.shape, exponent._data.shape
        return res if out is None else maybe_out(res, out)
    if exponent == 2 and input._data.dtype.kind == "f":
        with quiet():  # _ufunc below is quiet itself
            res = wrap(np.multiply(input._data, input._data))
    else:
        res = wrap(_ufunc(np.power, input, exponent, "pow"))
    node = record(res, PowBackward0, input)
    if node is not None:
        node.save(input)
        node.exponent = exponent
    return res if out is None else maybe_out(res, out)


def _check_int_pow(a: Tensor, e) -> None:
    if a._data.dtype == np.bool_ and (isinstance(e, Tensor) and e._data.dtype == np.bool_):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if a._data.dtype.kind not in "iub":
        return
    if isinstance(e, Tensor):
        negative = e._data.dtype.kind in "iu" and np.any(e._data < 0)
    else:
        negative = isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e < 0
    if negative:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def float_power(input, exponent, *, out=None):
    """pow computed in float64."""
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return maybe_out(pow(a, b), out)


class MaximumBackward0(Node):
    """maximum/minimum: ties split the gradient evenly."""

    def backward(self, g):
        a, b = self.saved_tensors
        pick_a = (a > b) if self.is_max else (a < b)
        share = pick_a.to(g.dtype) + (a == b).to(g.dtype) * 0.5
        ga = unbroadcast(g * share, self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(g * (1 - share), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


class MinimumBackward0(MaximumBackward0):
    pass


class FmaxBackward0(Node):
    """fmax/fmin: the input that was picked (self on ties, or where other is NaN) gets the gradient."""

    def backward(self, g):
        a, b = self.saved_tensors
        pick_a = ((a >= b) if self.is_max else (a <= b)) | b.isnan()
        ga = unbroadcast(where(pick_a, g, 0.0), self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(where(pick_a, 0.0, g), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


class FminBackward0(FmaxBackward0):
    pass


def _max_min(fn, is_max, node_cls, name, input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    res = wrap(_ufunc(fn, input, other, name))
    node = record(res, node_cls, input, other)
    if node is not None:
        node.save(input, other)
        node.is_max = is_max
        node.a_shape, node.b_shape = input._data.shape, other._data.shape
    return res


def maximum(input, other, *, out=None):
    """Elementwise maximum (NaN propagates)."""
    return maybe_out(_max_min(np.maximum, True, MaximumBackward0, "maximum", input, other), out)


def minimum(input, other, *, out=None):
    """Elementwise minimum (NaN propagates)."""
    return maybe_out(_max_min(np.minimum, False, MinimumBackward0, "minimum", input, other), out)


def fmax(input, other, *, out=None):
    """Elementwise maximum ignoring NaN."""
    return maybe_out(_max_min(np.fmax, True, FmaxBackward0, "fmax", input, other), out)


def fmin(input, other, *, out=None):
    """Elementwise minimum ignoring NaN."""
    return maybe_out(_max_min(np.fmin, False, FminBackward0, "fmin", input, other), out)


# ---------------------------------------------------------------------------- comparisons and logic
def _compare(fn, name):
    @quietly  # a Python number beyond the tensor's range compares as inf, without NumPy's cast warning
    def op(input, other, *, out=None):
        if not isinstance(input, Tensor):
            input = wrap(np.asarray(input))
        da, db, _ = _operands(input, other, name)
        try:
            res = fn(da, db)
        except ValueError:
            _check_broadcast(input, other, name)
            raise
        return maybe_out(wrap(np.asarray(res)), out)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} comparison, giving a bool tensor."
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical_or_bitwise(fn, name, bitwise):
    def op(input, other, *, out=None):
        operands = (input, other)
        if not isinstance(input, Tensor):
            input = wrap(np.asarray(input))
        if bitwise:
            for x in operands:
                if (isinstance(x, Tensor) and x._data.dtype.kind == "f") or isinstance(x, float):
                    rt = dt.scalar_type_name(dt.result_type(*operands))  # Half, Float or Double
                    raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{rt}'")
            da, db, _ = _operands(input, other, name)
        else:
            da = input._data.astype(bool)
            db = np.asarray(other._data if isinstance(other, Tensor) else other).astype(bool)
        return maybe_out(wrap(np.asarray(fn(da, db))), out)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}."
    return op


bitwise_and = _logical_or_bitwise(np.bitwise_and, "bitwise_and", True)
bitwise_or = _logical_or_bitwise(np.bitwise_or, "bitwise_or", True)
bitwise_xor = _logical_or_bitwise(np.bitwise_xor, "bitwise_xor", True)
logical_and = _logical_or_bitwise(np.logical_and, "logical_and", False)
logical_or = _logical_or_bitwise(np.logical_or, "logical_or", False)
logical_xor = _logical_or_bitwise(np.logical_xor, "logical_xor", False)


def bitwise_not(input, *, out=None):
    """Bitwise NOT (logical NOT for bool tensors)."""
    if input._data.dtype.kind == "f":
        raise NotImplementedError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return maybe_out(wrap(np.invert(input._data)), out)


def logical_not(input, *, out=None):
    """Elementwise NOT, giving a bool tensor."""
    return maybe_out(wrap(np.logical_not(input._data)), out)


def isnan(input):
    """Which elements are NaN."""
    return wrap(np.isnan(input._data))


def isinf(input):
    """Which elements are +/- infinity."""
    return wrap(np.isinf(input._data))


def isfinite(input):
    """Which elements are finite."""
    return wrap(np.isfinite(input._data))


def isposinf(input):
    """Which elements are +infinity."""
    return wrap(np.isposinf(input._data))


def isneginf(input):
    """Which elements are -infinity."""
    return wrap(np.isneginf(input._data))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """Elementwise |input - other| <= atol + rtol * |other|."""
    return wrap(np.isclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether all elements are close (see isclose)."""
    return bool(np.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def _arr(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


# The unary math ops (exp, log, tanh, ..., floor, ceil, trunc) are in ops/pointwise.py.


@quietly
def round(input, *, decimals: int = 0, out=None):  # noqa: A001
    """Round half to even, as torch does."""
    if decimals == 0:
        return _round0(input, out=out)
    res = wrap(np.round(input._data, decimals))
    record(res, _Round0Node, input)
    return res


_round0 = zero_gradient("round", np.round)
_Round0Node = type("RoundBackward0", (Node,), {"backward": lambda self, g: (g * 0,)})


class SignBackward0(Node):
    def backward(self, g):
        return (g * 0,)


def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element."""
    res = wrap(np.sign(input._data) if input._data.dtype != np.bool_ else input._data.copy())
    record(res, SignBackward0, input)
    return maybe_out(res, out)


sgn = sign


class AbsBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * x.sign(),)


def abs(input, *, out=None):  # noqa: A001
    """Absolute value."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    res = wrap(np.abs(input._data))
    node = record(res, AbsBackward0, input)
    if node is not None:
        node.save(input)
    return maybe_out(res, out)


absolute = abs


class NegBackward0(Node):
    def backward(self, g):
        return (-g,)


def neg(input, *, out=None):
    """-input."""
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )
    res = wrap(np.negative(input._data))
    if input._requires_grad and grad_enabled():
        attach(res, NegBackward0, input)
    return res if out is None else maybe_out(res, out)


negative = neg


class ClampBackward1(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        mask = None
        if self.lo is not None:
            mask = x >= self.lo
        if self.hi is not None:
            m = x <= self.hi
            mask = m if mask is None else mask & m
        return (g * mask.to(g.dtype),)


class ClampMinBackward0(ClampBackward1):
    pass


class ClampMaxBackward0(ClampBackward1):
    pass


class ClampBackward0(Node):
    """clamp with tensor bounds: the gradient goes to the input where it lies inside the bounds and to
    the bound that was applied elsewhere (to max as well wherever max < min, as in torch)."""

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        gx = unbroadcast(where((x >= lo) & (x <= hi), g, 0.0), x.shape)
        glo = ghi = None
        if self.next_nodes[1] is not None:
            below = x < lo
            if self.has_hi:
                below = below & (lo < hi)
            glo = unbroadcast(where(below, g, 0.0), lo.shape)
        if self.next_nodes[2] is not None:
            above = x > hi
            if self.has_lo:
                above = above | (hi < lo)
            ghi = unbroadcast(where(above, g, 0.0), hi.shape)
        return (gx, glo, ghi)


class ClampMinBackward1(ClampBackward0):
    pass


class ClampMaxBackward1(ClampBackward0):
    pass


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """Limit every element to [min, max]."""
    return _clamp(input, min, max, out, ClampBackward1, ClampBackward0)


@quietly
def _clamp(input, min, max, out, node_cls, tensor_node_cls):  # noqa: A002
    """clamp, recording node_cls for number bounds and tensor_node_cls for tensor bounds (torch's names)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = (
            min
            if isinstance(min, Tensor)
            else wrap(np.asarray(-np.inf if min is None else min, dtype=input._data.dtype))
        )
        hi = (
            max
            if isinstance(max, Tensor)
            else wrap(np.asarray(np.inf if max is None else max, dtype=input._data.dtype))
        )
        res = wrap(np.minimum(np.maximum(input._data, lo._data), hi._data).astype(input._data.dtype, copy=False))
        node = record(res, tensor_node_cls, input, _t(min), _t(max))
        if node is not None:
            node.save(input, lo, hi)
            node.has_lo, node.has_hi = min is not None, max is not None
        return maybe_out(res, out)
    a = input._data
    rt = dt.result_type(input, *(v for v in (min, max) if v is not None))
    if a.dtype != rt.np:
        a = a.astype(rt.np)
    res_arr = np.clip(a, min, max) if a.size else a.copy()
    if min is not None and max is not None and min > max:
        res_arr = np.full_like(a, max)
    res = wrap(np.asarray(res_arr, dtype=rt.np))
    node = record(res, node_cls, input)
    if node is not None:
        node.save(input)
        node.lo, node.hi = min, max
    return maybe_out(res, out)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    """Limit every element from below."""
    return _clamp(input, min, None, None, ClampMinBackward0, ClampMinBackward1)


def clamp_max(input, max):  # noqa: A002
    """Limit every element from above."""
    return _clamp(input, None, max, None, ClampMaxBackward0, ClampMaxBackward1)


class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved_tensors
        zero = g * 0
        ga = unbroadcast(where(cond, g, zero), self.a_shape) if self.next_nodes[0] is not None else None
        gb = unbroadcast(where(cond, zero, g), self.b_shape) if self.next_nodes[1] is not None else None
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Pick input where condition holds, other elsewhere; with one argument, nonzero(as_tuple=True)."""
    if input is None and other is None:
        return tuple(wrap(i) for i in np.nonzero(condition._data))
    if condition._data.dtype != np.bool_:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}"
        )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        rt = dt.result_type(input, other)
        res = wrap(np.where(condition._data, input, other).astype(rt.np))
        return res
    da, db, rt = (
        _operands(input, other, "where")
        if isinstance(input, Tensor) or isinstance(other, Tensor)
        else (input, other, None)
    )
    try:
        res = wrap(np.where(condition._data, da, db).astype(rt.np, copy=False))
    except ValueError:
        _check_broadcast_all("where", condition, input, other)
        raise
    node = record(res, WhereBackward0, _t(input), _t(other))
    if node is not None:
        node.save(condition)
        node.a_shape, node.b_shape = _shape(input), _shape(other)
    return maybe_out(res, out)


class LerpBackward0(Node):
    """lerp with a scalar weight."""

    def backward(self, g):
        w = self.weight
        ga = unbroadcast(g * (1 - w), self.shapes[0]) if self.next_nodes[0] is not None else None
        gb = unbroadcast(g * w, self.shapes[1]) if self.next_nodes[1] is not None else None
        return ga, gb


class LerpBackward1(Node):
    """lerp with a tensor weight."""

    def backward(self, g):
        a, b, w = self.saved_tensors
        ga = unbroadcast(g * (1 - w), self.shapes[0]) if self.next_nodes[0] is not None else None
        gb = unbroadcast(g * w, self.shapes[1]) if self.next_nodes[1] is not None else None
        gw = unbroadcast(g * (b - a), self.shapes[2]) if self.next_nodes[2] is not None else None
        return ga, gb, gw


@quietly
def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input), computed from the nearer end as torch does."""
    a, b = input._data, end._data
    w = weight._data if isinstance(weight, Tensor) else weight
    if a.dtype != b.dtype or (isinstance(weight, Tensor) and weight._data.dtype != a.dtype):
        raise RuntimeError(f"expected dtype {input.dtype} for `end` and `weight` but got dtype {end.dtype}")
    try:
        diff = b - a
        arr = np.where(np.abs(w) < 0.5, a + w * diff, b - diff * (1 - np.asarray(w, dtype=a.dtype)))
    except ValueError:
        _check_broadcast_all("lerp", input, end, weight)
        raise
    res = wrap(np.asarray(arr, dtype=a.dtype))
    if isinstance(weight, Tensor):
        node = record(res, LerpBackward1, input, end, weight)
        if node is not None:
            node.save(input, end, weight)
            node.shapes = (a.shape, b.shape, weight._data.shape)
    else:
        node = record(res, LerpBackward0, input, end)
        if node is not None:
            node.weight = weight
            node.shapes = (a.shape, b.shape)
    return res if out is None else maybe_out(res, out)


class AddcmulBackward0(Node):
    def backward(self, g):
        t1, t2 = self.saved_tensors
        v = self.value
        ga = unbroadcast(g, self.shapes[0]) if self.next_nodes[0] is not None else None
        g1 = unbroadcast(g * t2 * v, self.shapes[1]) if self.next_nodes[1] is not None else None
        g2 = unbroadcast(g * t1 * v, self.shapes[2]) if self.next_nodes[2] is not None else None
        return ga, g1, g2


class AddcdivBackward0(Node):
    def backward(self, g):
        t1, t2 = self.saved_tensors
        v = self.value
        ga = unbroadcast(g, self.shapes[0]) if self.next_nodes[0] is not None else None
        g1 = unbroadcast(g * v / t2, self.shapes[1]) if self.next_nodes[1] is not None else None
        g2 = unbroadcast(-g * v * t1 / (t2 * t2), self.shapes[2]) if self.next_nodes[2] is not None else None
        return ga, g1, g2


@quietly
def _addc(name, np_fn, node_cls, input, tensor1, tensor2, value, out):
    try:
        prod = np_fn(tensor1._data, tensor2._data)
        rt = dt.result_type(input, tensor1, tensor2)
        arr = (input._data + (prod if value == 1 else prod * value)).astype(rt.np, copy=False)
    except ValueError:
        _check_broadcast_all(name, input, tensor1, tensor2)
        raise
    res = wrap(arr)
    node = record(res, node_cls, input, tensor1, tensor2)
    if node is not None:
        node.save(tensor1, tensor2)
        node.value = value
        node.shapes = (input._data.shape, tensor1._data.shape, tensor2._data.shape)
    return res if out is None else maybe_out(res, out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    return _addc("addcmul", np.multiply, AddcmulBackward0, input, tensor1, tensor2, value, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2."""
    if tensor1._data.dtype.kind != "f" and tensor2._data.dtype.kind != "f":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv will "
            "perform a true division of tensor1 and tensor2."
        )
    return _addc("addcdiv", np.true_divide, AddcdivBackward0, input, tensor1, tensor2, value, out)


def square(input, *, out=None):
    """input ** 2."""
    return maybe_out(pow(input, 2), out)


class FracBackward0(Node):
    def backward(self, g):
        return (g,)


@quietly
def frac(input, *, out=None):
    """The fractional part, input - trunc(input) (keeps the sign)."""
    a = input._data
    res = wrap(a - np.trunc(a))
    record(res, FracBackward0, input)
    return res if out is None else maybe_out(res, out)


class XlogyBackward0(Node):
    def backward(self, g):
        x, y = self.saved_tensors
        gx = unbroadcast(g * xlogy((x != 0).to(g.dtype), y), self.shapes[0]) if self.next_nodes[0] is not None else None
        gy = unbroadcast(g * x / y, self.shapes[1]) if self.next_nodes[1] is not None else None
        return gx, gy


@quietly
def xlogy(input, other, *, out=None):
    """input * log(other), defined as 0 where input == 0 (unless other is NaN)."""
    if not isinstance(input, Tensor):
        input = wrap(np.asarray(_scalar_as(input, dt.result_type(input, other))))
    if not isinstance(other, Tensor):
        other = wrap(np.asarray(other, dtype=dt.result_type(input, other).np))
    x, y = float_array(input), float_array(other)
    with np.errstate(divide="ignore", invalid="ignore"):
        arr = np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y))
    rt = dt.result_type(input, other)
    res = wrap(np.asarray(arr, dtype=rt.np if rt.is_floating_point else dt.get_default_dtype().np))
    node = record(res, XlogyBackward0, input, other)
    if node is not None:
        node.save(input, other)
        node.shapes = (input._data.shape, other._data.shape)
    return res if out is None else maybe_out(res, out)


_FAST_INPLACE = {"add": np.add, "sub": np.subtract, "mul": np.multiply}


@quietly
def _fast_binary_inplace(self: Tensor, name: str, other, alpha=1) -> bool:
    """In-place add/sub/mul with ufunc out=, no temporaries; False if the slow path is needed."""
    if grad_enabled() and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return False
    a = self._data
    if a.dtype.kind != "f" or not a.flags.writeable:
        return False
    if isinstance(other, Tensor):
        b = other._data
        if b.dtype != a.dtype or b.ndim > a.ndim:
            return False
    elif isinstance(other, (int, float)) and not isinstance(other, bool):
        b = other
    else:
        return False
    if alpha != 1:
        b = b * alpha
    try:
        _FAST_INPLACE[name](a, b, out=a)
    except ValueError:
        return False
    self._version.value += 1
    return True


def _fast_inplace(name: str):
    """For add_, sub_ and mul_: the update done on the arrays with out= when nothing needs recording."""
    if name not in _FAST_INPLACE:
        return None

    def fast(self, *args, **kwargs) -> bool:
        if len(args) != 1 or (kwargs and list(kwargs) != ["alpha"]):
            return False
        return _fast_binary_inplace(self, name, args[0], kwargs.get("alpha", 1))

    return fast


TENSOR_FUNCS = {
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "pow": pow,
    "remainder": remainder,
    "fmod": fmod,
    "floor_divide": floor_divide,
    "true_divide": div,
    "maximum": maximum,
    "minimum": minimum,
    "fmax": fmax,
    "fmin": fmin,
    "rsub": rsub,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "greater": gt,
    "greater_equal": ge,
    "less": lt,
    "less_equal": le,
    "not_equal": ne,
    "bitwise_and": bitwise_and,
    "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor,
    "bitwise_not": bitwise_not,
    "logical_and": logical_and,
    "logical_or": logical_or,
    "logical_xor": logical_xor,
    "logical_not": logical_not,
    "isnan": isnan,
    "isinf": isinf,
    "isfinite": isfinite,
    "isposinf": isposinf,
    "isneginf": isneginf,
    "isclose": isclose,
    "allclose": allclose,
    "equal": equal,
    "exp": exp,
    "exp2": exp2,
    "expm1": expm1,
    "log": log,
    "log2": log2,
    "log10": log10,
    "log1p": log1p,
    "sqrt": sqrt,
    "rsqrt": rsqrt,
    "sin": sin,
    "cos": cos,
    "tan": tan,
    "asin": asin,
    "acos": acos,
    "atan": atan,
    "arcsin": asin,
    "arccos": acos,
    "arctan": atan,
    "sinh": sinh,
    "cosh": cosh,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "reciprocal": reciprocal,
    "erf": erf,
    "floor": floor,
    "ceil": ceil,
    "trunc": trunc,
    "fix": trunc,
    "round": round,
    "sign": sign,
    "sgn": sign,
    "abs": abs,
    "absolute": abs,
    "neg": neg,
    "negative": neg,
    "relu": relu,
    "clamp": clamp,
    "clip": clamp,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "where": lambda self, cond, other: where(cond, self, other),
    "lerp": lerp,
    "addcmul": addcmul,
    "addcdiv": addcdiv,
    "square": square,
    "frac": frac,
    "xlogy": xlogy,
    "float_power": float_power,
}

_INPLACE_NAMES = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "remainder",
    "fmod",
    "floor_divide",
    "true_divide",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "sqrt",
    "rsqrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "reciprocal",
    "erf",
    "floor",
    "ceil",
    "trunc",
    "round",
    "sign",
    "abs",
    "neg",
    "relu",
    "clamp",
    "clip",
    "clamp_min",
    "clamp_max",
    "lerp",
    "addcmul",
    "addcdiv",
    "square",
    "frac",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "xlogy",
    "maximum",
    "minimum",
]

TENSOR_METHODS = dict(TENSOR_FUNCS)
# In-place forms whose result type is the promotion of self and the other operand: a cast torch refuses is the
# error reported first (sub is not: torch refuses bool operands before that).
_PROMOTING_INPLACE = {"add", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "true_divide"}
_PROMOTING_INPLACE |= {"bitwise_and", "bitwise_or", "bitwise_xor", "maximum", "minimum", "xlogy"}
TENSOR_METHODS.update(
    {
        n + "_": inplace_method(TENSOR_FUNCS[n], n + "_", _fast_inplace(n), promotes=n in _PROMOTING_INPLACE)
        for n in _INPLACE_NAMES
    }
)
TENSOR_METHODS.update(
    {
        "subtract": sub,
        "multiply": mul,
        "divide": div,
        "subtract_": TENSOR_METHODS["sub_"],
        "multiply_": TENSOR_METHODS["mul_"],
        "divide_": TENSOR_METHODS["div_"],
    }
)
TENSOR_METHODS.pop("where")
TENSOR_METHODS["where"] = lambda self, condition, other: where(condition, self, other)

PUBLIC = {k: v for k, v in TENSOR_FUNCS.items() if k != "where"}
PUBLIC.update({"where": where, "subtract": sub, "multiply": mul, "divide": div, "relu_": TENSOR_METHODS["relu_"]})


# ---------------------------------------------------------------------------- fills and copies
class FillBackward2(Node):
    """fill_ with a number: the new values do not depend on the old ones, whose gradient is zero."""

    def backward(self, g):
        return (g * 0,)


class FillBackward3(FillBackward2):
    """fill_ with a 0-dim tensor: each element is a copy of it, so it gets the sum of the gradient."""

    def backward(self, g):
        return (g * 0, g.sum().to(self.value_dtype))


@quietly
def fill_(self: Tensor, value) -> Tensor:
    """Set every element to value (a number or a 0-dim tensor)."""
    source = None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        source, value = value, value.item()
    recording = grad_enabled() and (self._requires_grad or (source is not None and source._requires_grad))
    if recording:
        check_leaf_inplace(self)
        if self._base is not None and not hasattr(self, "_detached"):
            refuse_inplace_on_view(self)  # before writing: a refused op changes nothing
    self._data.fill(value)
    self._version.value += 1
    if recording:
        if source is None:
            attach(self, FillBackward2, self)
        else:
            attach(self, FillBackward3, self, source).value_dtype = source.dtype
    return self


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0."""
    return fill_(self, 0)


class CopyBackwards(Node):
    def backward(self, g):
        # The old value of self is overwritten: its gradient is zeros (a tensor, as torch gives, not None).
        zeros = wrap(np.zeros_like(g._data)) if self.next_nodes[0] is not None else None
        return (zeros, unbroadcast(g, self.src_shape).to(self.src_dtype))


@quietly
def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy src's values (broadcast, converted) into self."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    recording = grad_enabled() and (self._requires_grad or src._requires_grad)
    if recording:
        check_leaf_inplace(self)
        if self._base is not None and not hasattr(self, "_detached"):
            refuse_inplace_on_view(self)
    try:
        np.copyto(self._data, np.broadcast_to(src._data, self._data.shape), casting="unsafe")
    except ValueError:
        _check_broadcast_all("copy_", self, src)
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(self._data.shape, src._data.shape))}"
        ) from None
    self._version.value += 1
    if recording:
        holder = wrap(self._data)
        node = record(holder, CopyBackwards, self, src)  # self's old history: its gradient is zeros
        if node is not None:
            node.src_shape, node.src_dtype = src._data.shape, src.dtype
            self.grad_fn = node
            self._requires_grad = True
    return self


class MaskedFillBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        return (where(mask, 0.0, g),)


@quietly
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """input with value written wherever mask is True (broadcast)."""
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)."
            )
        value = value.item()
    try:
        arr = np.where(mask._data, np.asarray(value).astype(input._data.dtype), input._data)
    except ValueError:
        _check_broadcast(input, mask, "masked_fill")
        raise
    if arr.shape != input._data.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {list(mask.shape)} does not broadcast to input shape {list(input.shape)}"
        )
    res = wrap(arr)
    node = record(res, MaskedFillBackward0, input)
    if node is not None:
        node.save(mask)
    return res


TENSOR_METHODS.update(
    {
        "fill_": fill_,
        "zero_": zero_,
        "copy_": copy_,
        "masked_fill": masked_fill,
        "masked_fill_": inplace_method(masked_fill, "masked_fill_"),
    }
)
PUBLIC.update({"masked_fill": masked_fill})

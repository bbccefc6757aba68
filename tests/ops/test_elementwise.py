"""Elementwise ops against torch: values, dtypes, broadcasting, gradients, second derivatives, errors."""

import numpy as np
import pytest
import torch
from helpers import check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)

BROADCAST = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 4)),
    ((4, 1, 3), (2, 3)),
    ((), (2, 2)),
    ((2, 2), ()),
    ((1,), (3, 1)),
    ((0, 3), (3,)),
]

BINARY = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: x - y,
    "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / y,
    "pow": lambda L, x, y: x.abs() ** y,
    "max": lambda L, x, y: L.maximum(x, y),
    "min": lambda L, x, y: L.minimum(x, y),
    "add_alpha": lambda L, x, y: L.add(x, y, alpha=2.5),
    "sub_alpha": lambda L, x, y: L.sub(x, y, alpha=-2),
    "atan2ish": lambda L, x, y: L.where(x > y, x, y),
    "lerp_t": lambda L, x, y: L.lerp(x, y, (x * 0 + 0.3)),
    "lerp": lambda L, x, y: L.lerp(x, y, 0.7),
    "fmax": lambda L, x, y: L.fmax(x, y),
    "fmin": lambda L, x, y: L.fmin(x, y),
    "remainder": lambda L, x, y: L.remainder(x, y),
    "fmod": lambda L, x, y: L.fmod(x, y),
    "xlogy": lambda L, x, y: L.xlogy(x, y.abs()),
    "addcmul": lambda L, x, y: L.addcmul(x, x, y, value=0.5),
    "addcdiv": lambda L, x, y: L.addcdiv(y, x, y, value=2),
}


@pytest.mark.parametrize("sa,sb", BROADCAST)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast(name, sa, sb):
    a = rng.standard_normal(sa).astype(np.float32)
    b = (rng.standard_normal(sb) + 3).astype(np.float32)
    check_op(BINARY[name], a, b, atol=1e-4, rtol=1e-4)


SCALAR = {
    "radd": lambda L, x: 2 + x,
    "rsub": lambda L, x: 2 - x,
    "rmul": lambda L, x: 3 * x,
    "rdiv": lambda L, x: 2 / x,
    "rpow": lambda L, x: 2**x,
    "pow2": lambda L, x: x**2,
    "pow3": lambda L, x: x**3,
    "powh": lambda L, x: x.abs() ** 0.5,
    "pow0": lambda L, x: x**0,
    "mod": lambda L, x: x % 1.5,
    "rmod": lambda L, x: 5.0 % x.detach(),
    "neg": lambda L, x: -x,
    "floordiv": lambda L, x: (x // 0.7).detach(),
    "rfloordiv": lambda L, x: (3 // x).detach(),
    "div_floor": lambda L, x: L.div(x, 0.3, rounding_mode="floor"),
    "div_trunc": lambda L, x: L.div(x, 0.3, rounding_mode="trunc"),
    "sub_s": lambda L, x: x - 1,
    "div_s": lambda L, x: x / 4,
    "clamp": lambda L, x: x.clamp(-0.5, 0.5),
    "clamp_min": lambda L, x: x.clamp(min=0.1),
    "clamp_max": lambda L, x: x.clamp(max=0.1),
    "clip": lambda L, x: L.clip(x, -1, 1),
    "where_s": lambda L, x: L.where(x > 0, x, 0.0),
    "where_s2": lambda L, x: L.where(x > 0, 1.0, x),
    "pos": lambda L, x: +x,
    "frac": lambda L, x: (x * 3).frac(),
    "square": lambda L, x: x.square(),
    "fpow": lambda L, x: L.float_power(x.abs(), 1.5),
    "sq0": lambda L, x: x * L.tensor(2.0),
}


@pytest.mark.parametrize("name", sorted(SCALAR))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_scalar_forms(name, shape):
    x = (rng.standard_normal(shape) + 0.1).astype(np.float32)
    check_op(SCALAR[name], x, atol=1e-4, rtol=1e-4)


UNARY = {
    "exp": (lambda L, x: x.exp(), None),
    "log": (lambda L, x: x.log(), "pos"),
    "log1p": (lambda L, x: x.log1p(), "pos"),
    "log2": (lambda L, x: L.log2(x), "pos"),
    "log10": (lambda L, x: x.log10(), "pos"),
    "expm1": (lambda L, x: x.expm1(), None),
    "exp2": (lambda L, x: x.exp2(), None),
    "sqrt": (lambda L, x: x.sqrt(), "pos"),
    "rsqrt": (lambda L, x: x.rsqrt(), "pos"),
    "abs": (lambda L, x: x.abs(), None),
    "sign": (lambda L, x: x.sign(), None),
    "neg": (lambda L, x: L.neg(x), None),
    "reciprocal": (lambda L, x: x.reciprocal(), "pos"),
    "sin": (lambda L, x: x.sin(), None),
    "cos": (lambda L, x: L.cos(x), None),
    "tan": (lambda L, x: x.tan(), None),
    "tanh": (lambda L, x: x.tanh(), None),
    "sigmoid": (lambda L, x: x.sigmoid(), None),
    "relu": (lambda L, x: x.relu(), None),
    "floor": (lambda L, x: x.floor(), None),
    "ceil": (lambda L, x: x.ceil(), None),
    "round": (lambda L, x: (x * 4).round(), None),
    "round2": (lambda L, x: x.round(decimals=2), None),
    "trunc": (lambda L, x: x.trunc(), None),
    "asin": (lambda L, x: (x * 0.3).asin(), None),
    "acos": (lambda L, x: (x * 0.3).acos(), None),
    "atan": (lambda L, x: x.atan(), None),
    "sinh": (lambda L, x: x.sinh(), None),
    "cosh": (lambda L, x: x.cosh(), None),
    "erf": (lambda L, x: x.erf(), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 0)])
def test_unary(name, shape):
    fn, domain = UNARY[name]
    x = rng.standard_normal(shape).astype(np.float32)
    if domain == "pos":
        x = np.abs(x) + 0.1
    check_op(fn, x, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "reciprocal", "relu", "abs", "erf"])
def test_unary_int_inputs_promote_like_torch(name):
    fn, _ = UNARY[name]
    check_op(fn, np.array([1, 2, 3]), grad=False)


@settings(max_examples=25, deadline=None)
@given(
    shapes=st.tuples(st.lists(st.integers(1, 3), max_size=3), st.lists(st.integers(1, 3), max_size=3)),
    op=st.sampled_from(["add", "mul", "sub", "div", "maximum", "pow"]),
)
def test_hypothesis_broadcasting(shapes, op):
    sa, sb = shapes
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        check_raises(lambda L, x, y: getattr(L, op)(x, y), np.ones(sa, np.float32), np.ones(sb, np.float32))
        return
    a = np.abs(rng.standard_normal(sa)).astype(np.float32) + 0.5
    b = rng.standard_normal(sb).astype(np.float32)
    check_op(lambda L, x, y: getattr(L, op)(x, y), a, b, atol=1e-4, rtol=1e-4)


def test_gradcheck_float64():
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,)) + 3
    for fn in [
        lambda x, y: x * y + x / y - y,
        lambda x, y: x.abs() ** y.abs(),
        lambda x, y: ember.maximum(x, y * 0.1),
        lambda x, y: ember.lerp(x, y, 0.3),
        lambda x, y: ember.where(x > 0, x * y, y.exp()),
        lambda x, y: ember.addcdiv(x, x, y, value=0.5),
        lambda x, y: x.clamp(-0.5, 0.5) * y,
    ]:
        gradcheck(fn, a, b)
    for name in ["exp", "tanh", "sigmoid", "sin", "cos", "atan", "expm1", "erf", "sinh"]:
        gradcheck(
            UNARY[name][0].__get__(None) if False else (lambda x, n=name: UNARY[n][0](ember, x)),
            rng.standard_normal((2, 3)),
        )
    for name in ["log", "sqrt", "rsqrt", "reciprocal", "log1p", "log2"]:
        gradcheck(lambda x, n=name: UNARY[n][0](ember, x), np.abs(rng.standard_normal((2, 3))) + 0.5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: (x**3).sum(),
        lambda x: x.exp() * x.sin(),
        lambda x: x.tanh(),
        lambda x: x.sigmoid() / (x * x + 1),
        lambda x: (x.abs() + 1).log() * x.cos(),
        lambda x: (x * x + 1).sqrt().reciprocal(),
        lambda x: 2**x,
        lambda x: x.abs() ** x.abs(),
    ],
)
def test_second_derivatives(fn):
    gradgradcheck(fn, rng.standard_normal((4,)) + 0.1)


def test_second_derivative_matches_torch():
    for L in (ember, torch):
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (g,) = L.autograd.grad((x**3).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad(g.sum(), x)
        if L is ember:
            e = gg
        else:
            np.testing.assert_allclose(e._data, gg.numpy())
    np.testing.assert_allclose(e._data, 6 * np.array([0.5, -1.0, 2.0], np.float32))


DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _sample(dtype, shape=(3,)):
    if dtype == "bool":
        return np.asarray(rng.standard_normal(shape) > 0)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(1, 5, size=shape).astype(dtype)


OPS = {
    "+": lambda x, y: x + y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "-": lambda x, y: x - y,
    "//": lambda x, y: x // y,
    "%": lambda x, y: x % y,
    "**": lambda x, y: x**y,
    "==": lambda x, y: x == y,
    "<": lambda x, y: x < y,
    ">=": lambda x, y: x >= y,
    "&": lambda x, y: x & y,
    "|": lambda x, y: x | y,
    "^": lambda x, y: x ^ y,
}


def _both(fn, a, b):
    out = []
    for L in (ember, torch):
        conv = [L.tensor(v) if isinstance(v, np.ndarray) else v for v in (a, b)]
        try:
            out.append(fn(*conv))
        except Exception as exc:  # noqa: BLE001 - compared below
            out.append(exc)
    e, t = out
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f"torch raised {t!r}, ember gave {e}"
        assert isinstance(e, type(t)), f"ember raised {e!r}, torch {t!r}"
        return
    assert not isinstance(e, Exception), f"ember raised {e!r}; torch gave {t}"
    assert str(e.dtype) == str(t.dtype), f"dtype {e.dtype} vs torch {t.dtype}"
    np.testing.assert_allclose(
        e._data.astype(np.float64), t.numpy().astype(np.float64), rtol=1e-5, atol=1e-5, equal_nan=True
    )


@settings(max_examples=25, deadline=None)
@given(
    da=st.sampled_from(DTYPES),
    db=st.sampled_from(DTYPES),
    op=st.sampled_from(sorted(OPS)),
    zero_dim=st.sampled_from(["none", "a", "b"]),
)
def test_hypothesis_dtype_promotion_tensor_tensor(da, db, op, zero_dim):
    a = _sample(da, () if zero_dim == "a" else (3,))
    b = _sample(db, () if zero_dim == "b" else (3,))
    _both(OPS[op], a, b)
    ea, eb = ember.tensor(a), ember.tensor(b)
    assert str(ember.result_type(ea, eb)) == str(torch.result_type(torch.tensor(a), torch.tensor(b)))


@settings(max_examples=25, deadline=None)
@given(
    da=st.sampled_from(DTYPES),
    scalar=st.sampled_from([2, 2.5, True, -1, 0.5]),
    op=st.sampled_from(sorted(OPS)),
    reflected=st.booleans(),
)
def test_hypothesis_dtype_promotion_tensor_scalar(da, scalar, op, reflected):
    a = _sample(da)
    if reflected:
        _both(lambda x, y: OPS[op](y, x), a, scalar)
    else:
        _both(OPS[op], a, scalar)
    assert str(ember.result_type(ember.tensor(a), scalar)) == str(torch.result_type(torch.tensor(a), scalar))


def test_promote_types_table():
    for a in DTYPES:
        for b in DTYPES:
            e = ember.promote_types(getattr(ember, a), getattr(ember, b))
            assert str(e) == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))


def test_comparisons_and_logic():
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    for fn in [
        lambda L, x, y: x < y,
        lambda L, x, y: x <= y,
        lambda L, x, y: x > 0.1,
        lambda L, x, y: x != y,
        lambda L, x, y: x == x,
        lambda L, x, y: (x > 0) & (y > 0),
        lambda L, x, y: (x > 0) | (y > 0),
        lambda L, x, y: (x > 0) ^ (y > 0),
        lambda L, x, y: ~(x > 0),
        lambda L, x, y: L.logical_not(x),
        lambda L, x, y: L.logical_and(x, y),
        lambda L, x, y: x.isnan(),
        lambda L, x, y: L.isinf(x / 0),
        lambda L, x, y: L.isfinite(x / 0),
        lambda L, x, y: L.eq(x, y),
        lambda L, x, y: x.ge(y),
        lambda L, x, y: 0.5 < x,
    ]:
        check_op(fn, a, b, grad=False)
    ints = np.array([5, -3, 12])
    check_op(lambda L, x: (x & 6, x | 1, x ^ 3, ~x, x << 1 if False else x), ints, grad=False)
    assert ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-9]))
    assert not ember.allclose(ember.tensor([1.0]), ember.tensor([1.1]))
    assert ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2]))
    assert not ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2, 3]))


def test_errors_match_torch():
    f = np.ones((2, 3), np.float32)
    check_raises(lambda L, x, y: x + y, f, np.ones((4,)))
    check_raises(lambda L, x, y: x & y, f, f)
    check_raises(lambda L, x, y: -x, np.array([True]), f)
    check_raises(lambda L, x, y: x - x, np.array([True]), f)
    check_raises(lambda L, x, y: x // 0, np.array([3]), f)
    check_raises(lambda L, x, y: x % 0, np.array([3]), f)
    check_raises(lambda L, x, y: x**-1, np.array([3]), f)
    check_raises(lambda L, x, y: x.abs(), np.array([True]), f)
    check_raises(lambda L, x, y: L.maximum(x, 1.0), f, f)
    check_raises(lambda L, x, y: L.div(x, y, rounding_mode="bad"), f, f)
    check_raises(lambda L, x, y: L.clamp(x), f, f)
    check_raises(lambda L, x, y: L.where(x, x, y), f, f)
    check_raises(lambda L, x, y: (x // y).sum().backward(), f, f) if False else None
    x = ember.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        (x // 1).sum().backward()


def test_rounding_division_values():
    a, b = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    for mode in ("floor", "trunc"):
        check_op(lambda L, x, y, m=mode: L.div(x, y, rounding_mode=m), a, b, grad=False)
        check_op(lambda L, x, y, m=mode: L.div(x, y, rounding_mode=m), a.astype(np.float32), b.astype(np.float32))
    check_op(lambda L, x, y: (x // y, x % y, L.fmod(x, y)), a, b, grad=False)
    check_op(lambda L, x, y: (x // y, x % y, L.fmod(x, y)), a * 1.5, b * 0.7, grad=False)


def _ver(t):
    return t._version.value if isinstance(t, ember.Tensor) else t._version


def test_inplace_ops_and_version_counter():
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    for name, fn in {
        "add_": lambda x, y: x.add_(y),
        "sub_": lambda x, y: x.sub_(y, alpha=2),
        "mul_": lambda x, y: x.mul_(y),
        "div_": lambda x, y: x.div_(y),
        "pow_": lambda x, y: x.abs_().pow_(2),
        "zero_": lambda x, y: x.zero_(),
        "fill_": lambda x, y: x.fill_(2.5),
        "copy_": lambda x, y: x.copy_(y),
        "clamp_": lambda x, y: x.clamp_(-0.1, 0.2),
        "exp_": lambda x, y: x.exp_(),
        "relu_": lambda x, y: x.relu_(),
        "masked_fill_": lambda x, y: x.masked_fill_(x > 0, 7.0),
        "iadd": lambda x, y: x.__iadd__(y),
        "isub": lambda x, y: x.__isub__(1),
        "imul": lambda x, y: x.__imul__(y),
        "itruediv": lambda x, y: x.__itruediv__(2),
        "sigmoid_": lambda x, y: x.sigmoid_(),
        "neg_": lambda x, y: x.neg_(),
        "floor_": lambda x, y: x.floor_(),
        "clamp_min_": lambda x, y: x.clamp_min_(0),
        "lerp_": lambda x, y: x.lerp_(y.expand(3, 4), 0.5),
    }.items():
        outs = []
        for L in (ember, torch):
            x, y = L.tensor(a.copy()), L.tensor(b.copy())
            v0 = _ver(x)
            r = fn(x, y)
            assert r is x, name
            assert _ver(x) > v0, name
            outs.append(x)
        np.testing.assert_allclose(outs[0]._data, outs[1].numpy(), rtol=1e-6, atol=1e-6, err_msg=name)


def test_inplace_int_result_type_error():
    check_raises(lambda L, x: x.add_(1.5), np.array([1, 2]))
    check_raises(lambda L, x: x.div_(2), np.array([1, 2]))
    check_raises(lambda L, x: x.add_(L.ones(2, 2)), np.array([1.0, 2.0]))


def test_inplace_autograd():
    for L in (ember, torch):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.mul_(x)
        y.add_(1)
        y.sum().backward()
        if L is ember:
            eg = x.grad._data.copy()
        else:
            np.testing.assert_allclose(eg, x.grad.numpy())


def test_random_inplace_fills():
    x = ember.empty(1000)
    x.uniform_(2, 3)
    assert 2 <= x._data.min() and x._data.max() < 3
    x.normal_(5, 0.1)
    assert abs(x._data.mean() - 5) < 0.05
    v = _ver(x)
    x.fill_(1)
    assert _ver(x) == v + 1 and (x._data == 1).all()


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x, lo, hi: L.clamp(x, min=lo),
        lambda L, x, lo, hi: L.clamp(x, max=hi),
        lambda L, x, lo, hi: L.clamp(x, lo, hi),
        lambda L, x, lo, hi: L.clamp(x, hi, lo),  # min > max in places: torch sends those gradients to max
        lambda L, x, lo, hi: x.clamp_min(lo),
        lambda L, x, lo, hi: x.clamp_max(hi),
        lambda L, x, lo, hi: L.clamp(x, min=lo[:1]),  # a broadcast bound gets its gradient summed back
        lambda L, x, lo, hi: x.clamp_min(0.1),
        lambda L, x, lo, hi: x.clamp_max(0.1),
        lambda L, x, lo, hi: x.clamp(min=0.1),
    ],
)
def test_clamp_gradients_reach_tensor_bounds_and_nodes_are_named_as_torch(call):
    rng = np.random.default_rng(4)
    x, lo, hi = (rng.standard_normal((3, 4)) for _ in range(3))
    e_out, t_out = check_op(call, x, lo, hi)
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    gradcheck(lambda *t: call(ember, *t), x, lo, hi)


@pytest.mark.parametrize(
    "call",
    [
        lambda y, lo, hi: y.clamp_(min=lo),
        lambda y, lo, hi: y.clamp_(max=hi),
        lambda y, lo, hi: y.clamp_(lo, hi),
        lambda y, lo, hi: y.clamp_min_(lo),
    ],
)
def test_in_place_clamp_records_tensor_bounds_given_by_keyword_or_position(call):
    """Whether an in-place op is recorded depends on every tensor operand, keyword ones included."""
    grads = {}
    for lib in (ember, torch):
        y = lib.tensor([1.0, 2.0, 3.0])
        lo = lib.tensor([2.0, 2.0, 2.0], requires_grad=True)
        hi = lib.tensor([2.5, 2.5, 2.5], requires_grad=True)
        out = call(y, lo, hi)
        assert out.requires_grad and out.grad_fn is not None
        out.sum().backward()
        grads[lib.__name__] = [None if t.grad is None else t.grad.numpy() for t in (lo, hi)]
    for mine, theirs in zip(grads["ember"], grads["torch"]):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_array_equal(mine, theirs)

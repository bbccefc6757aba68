"""Properties of broadcasting and dtype promotion, with torch as the oracle: shapes, dtypes and values drawn by
hypothesis (the derandomized profile in conftest.py), so cases nobody wrote down are tried too."""

import numpy as np
import torch
from helpers import to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

LIBS = (ember, torch)

# ---------------------------------------------------------------------------------------------------------------
# Shapes


@st.composite
def compatible_shapes(draw, n):
    """n shapes that broadcast together: suffixes of one shape, with some sizes replaced by 1 (0-d and 0-sized
    shapes included)."""
    ndim = draw(st.integers(0, 4))
    full = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    shapes = []
    for _ in range(n):
        k = draw(st.integers(0, ndim))
        shapes.append(tuple(1 if draw(st.booleans()) else s for s in full[ndim - k :]))
    return shapes


def any_shapes(n):
    """n shapes drawn independently: many of them do not broadcast together."""
    return st.lists(st.lists(st.integers(0, 3), max_size=3).map(tuple), min_size=n, max_size=n)


def shapes_of(n):
    return st.one_of(compatible_shapes(n), any_shapes(n))


def broadcasts(*shapes) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Running one call in both libraries


def outcome(fn, lib, *args):
    try:
        return fn(lib, *args)
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return exc


def assert_same_outcome(e, t, context, rtol=1e-6, atol=1e-6):
    """Both raised the same exception type (ember's message begins with torch's first line), or both returned
    tensors of one shape, dtype and values."""
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f"{context}: torch raised {type(t).__name__}: {t}; ember returned {e!r}"
        assert type(e) is type(t), f"{context}: ember raised {type(e).__name__}: {e}; torch {type(t).__name__}: {t}"
        first = str(t).splitlines()[0] if str(t) else ""
        assert str(e).startswith(first), f"{context}: ember's message {str(e)!r} vs torch's {first!r}"
        return
    assert not isinstance(e, Exception), f"{context}: ember raised {type(e).__name__}: {e}; torch returned {t}"
    assert isinstance(e, ember.Tensor), f"{context}: ember returned {type(e).__name__}"
    assert tuple(e.shape) == tuple(t.shape), f"{context}: shape {tuple(e.shape)} vs torch {tuple(t.shape)}"
    assert str(e.dtype) == str(t.dtype), f"{context}: dtype {e.dtype} vs torch {t.dtype}"
    np.testing.assert_allclose(
        to_np(e).astype(np.float64), to_np(t).astype(np.float64), rtol=rtol, atol=atol, equal_nan=True, err_msg=context
    )


# ---------------------------------------------------------------------------------------------------------------
# 1. Broadcasting: values, dtype, shape, errors and the gradients of every operand

BINARY = {
    "add": lambda L, x, y: x + y,
    "add_alpha": lambda L, x, y: L.add(x, y, alpha=-1.5),
    "sub": lambda L, x, y: L.sub(x, y),
    "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / y,
    "pow": lambda L, x, y: x.abs().add(0.5) ** y,
    "maximum": lambda L, x, y: L.maximum(x, y),
    "minimum": lambda L, x, y: L.minimum(x, y),
    "eq": lambda L, x, y: x == y,
    "lt": lambda L, x, y: x < y,
    "ge": lambda L, x, y: L.ge(x, y),
    "ne": lambda L, x, y: x != y,
}

TERNARY = {
    "where": lambda L, c, x, y: L.where(c > 0, x, y),
    "where_scaled": lambda L, c, x, y: L.where(c > 0, x * 2, y.exp()),
    "addcmul": lambda L, c, x, y: L.addcmul(c, x, y, value=0.5),
    "lerp": lambda L, c, x, y: L.lerp(x, y, c.sigmoid()),
}


def _inputs(seed, shapes, dtype, requires_grad):
    """The same random arrays as ember and torch tensors (ties are likely: values are rounded to halves)."""
    rng = np.random.default_rng(seed)
    arrays = [np.round(rng.standard_normal(s) * 2) / 2 for s in shapes]
    pairs = []
    for a in arrays:
        a = a.astype(dtype)
        e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
        if requires_grad:
            e.requires_grad_(True)
            t.requires_grad_(True)
        pairs.append((e, t))
    return pairs


def _compare_with_grads(fn, shapes, dtype, seed, context):
    grad = dtype != "int64"
    pairs = _inputs(seed, shapes, dtype, grad)
    e_in, t_in = [p[0] for p in pairs], [p[1] for p in pairs]
    e, t = outcome(fn, ember, *e_in), outcome(fn, torch, *t_in)
    tol = 1e-5 if dtype == "float32" else 1e-10
    assert_same_outcome(e, t, context, rtol=tol, atol=tol)
    if isinstance(t, Exception) or not t.requires_grad:
        return
    assert e.requires_grad, f"{context}: ember's result does not require grad"
    w = np.random.default_rng(seed + 1).standard_normal(tuple(t.shape)).astype(dtype)
    t_grads = torch.autograd.grad(t, t_in, grad_outputs=torch.tensor(w), allow_unused=True)
    e_grads = ember.autograd.grad(e, e_in, grad_outputs=ember.tensor(w), allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        where = f"{context}: gradient of operand {i}"
        if tg is None:
            assert eg is None or not np.any(to_np(eg)), f"{where}: torch has none, ember {eg}"
            continue
        assert eg is not None, f"{where}: ember has none"
        assert tuple(eg.shape) == shapes[i], f"{where}: shape {tuple(eg.shape)}, operand {shapes[i]}"
        assert str(eg.dtype) == str(tg.dtype), f"{where}: dtype {eg.dtype} vs torch {tg.dtype}"
        np.testing.assert_allclose(to_np(eg), to_np(tg), rtol=tol * 10, atol=tol * 10, err_msg=where)


@settings(max_examples=60)
@given(
    shapes=shapes_of(2),
    name=st.sampled_from(sorted(BINARY)),
    dtype=st.sampled_from(["float32", "float64", "int64"]),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_matches_torch(shapes, name, dtype, seed):
    fn = BINARY[name]
    if dtype == "int64" and name == "pow":
        fn = lambda L, x, y: x.abs() ** y.abs()  # noqa: E731 - integers to negative powers raise in both
    _compare_with_grads(fn, shapes, dtype, seed, f"{name}{tuple(shapes)} {dtype}")


@settings(max_examples=40)
@given(shapes=shapes_of(3), name=st.sampled_from(sorted(TERNARY)), seed=st.integers(0, 2**16))
def test_ternary_broadcasting_matches_torch(shapes, name, seed):
    _compare_with_grads(TERNARY[name], shapes, "float64", seed, f"{name}{tuple(shapes)}")


INPLACE = {
    "add_": lambda L, x, y: x.add_(y),
    "mul_": lambda L, x, y: x.mul_(y),
    "sub_": lambda L, x, y: x.sub_(y, alpha=2),
    "div_": lambda L, x, y: x.div_(y),
    "copy_": lambda L, x, y: x.copy_(y),
    "iadd": lambda L, x, y: x.__iadd__(y),
}


@settings(max_examples=40)
@given(shapes=shapes_of(2), name=st.sampled_from(sorted(INPLACE)), seed=st.integers(0, 2**16))
def test_inplace_broadcasting_matches_torch(shapes, name, seed):
    """An in-place op broadcasts the other operand to the target's shape and never the target itself; through a
    non-leaf target, the gradients of both operands are torch's."""
    context = f"{name}{tuple(shapes)}"

    def run(L, x, y):
        z = x * 1  # a non-leaf, so the in-place op is allowed and recorded
        out = INPLACE[name](L, z, y)
        assert out is z
        return z

    _compare_with_grads(run, shapes, "float64", seed, context)


# ---------------------------------------------------------------------------------------------------------------
# 2. Dtype promotion: every pair of dtypes, every kind of operand

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = {"int": 3, "float": 2.5, "bool": True}

PROMOTING = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: L.sub(x, y),
    "mul": lambda L, x, y: x * y,
    "true_div": lambda L, x, y: x / y,
    "div_trunc": lambda L, x, y: L.div(x, y, rounding_mode="trunc"),
    "floor_div": lambda L, x, y: x // y,
    "remainder": lambda L, x, y: x % y,
    "pow": lambda L, x, y: x**y,
    "eq": lambda L, x, y: x == y,
    "lt": lambda L, x, y: x < y,
    "ge": lambda L, x, y: L.ge(x, y),
    "ne": lambda L, x, y: L.ne(x, y),
    "and": lambda L, x, y: x & y,
    "xor": lambda L, x, y: x ^ y,
    "maximum": lambda L, x, y: L.maximum(x, y),
    "where": lambda L, x, y: L.where(L.tensor([True, False, True]), x, y),
}

# Called as functions: a Python number is not accepted as the first argument (the operators cover that case).
FUNCTIONAL = {"ge", "ne", "maximum"}

INPLACE_PROMOTING = {
    "iadd": lambda L, x, y: x.__iadd__(y),
    "sub_": lambda L, x, y: x.sub_(y),
    "imul": lambda L, x, y: x.__imul__(y),
    "div_": lambda L, x, y: x.div_(y),
    "itruediv": lambda L, x, y: x.__itruediv__(y),
    "floor_divide_": lambda L, x, y: x.floor_divide_(y),
    "remainder_": lambda L, x, y: x.remainder_(y),
    "pow_": lambda L, x, y: x.pow_(y),
    "eq_": lambda L, x, y: x.eq_(y),
    "lt_": lambda L, x, y: x.lt_(y),
    "iand": lambda L, x, y: x.__iand__(y),
}


def _values(dtype: str, zero_d: bool, divisor: bool) -> np.ndarray:
    """Small values of a dtype that no op here overflows; a divisor has no zeros (integer division by zero
    raises) and no negatives (integers to negative powers raise)."""
    if dtype == "bool":
        a = np.array([True, True, True]) if divisor else np.array([True, False, True])
    elif divisor:
        a = np.array([1, 2, 3], dtype=dtype)
    elif dtype == "uint8":
        a = np.array([0, 3, 2], dtype=dtype)
    else:
        a = np.array([-3, 2, 0], dtype=dtype) if dtype[0] == "i" else np.array([-2.5, 1.5, 0], dtype=dtype)
    return a[1] if zero_d else a


def _operand(lib, kind: str, dtype: str, divisor: bool):
    """An operand of a kind: "tensor" (1-d), "0d" (a 0-d tensor) or a Python scalar ("int", "float", "bool")."""
    if kind in SCALARS:
        return SCALARS[kind]
    return lib.tensor(_values(dtype, kind == "0d", divisor))


KINDS = [("tensor", "tensor"), ("tensor", "0d"), ("0d", "tensor"), ("0d", "0d")]
KINDS += [(a, s) for s in SCALARS for a in ("tensor", "0d")] + [(s, "tensor") for s in SCALARS]


def _promotion_mismatches(table, kinds, dtype_pairs):
    bad = []
    for da, db in dtype_pairs:
        for ka, kb in kinds:
            if ka in SCALARS and kb in SCALARS:
                continue
            for name, fn in table.items():
                if ka in SCALARS and name in FUNCTIONAL:
                    continue  # torch.ge(3, t) is refused by torch's argument parser; ember accepts it
                res = []
                for lib in LIBS:
                    x = _operand(lib, ka, da, divisor=False)
                    y = _operand(lib, kb, db, divisor=True)
                    res.append(outcome(fn, lib, x, y))
                try:
                    assert_same_outcome(*res, f"{name}({ka} {da}, {kb} {db})", rtol=1e-3, atol=1e-3)
                except AssertionError as exc:
                    bad.append(str(exc).splitlines()[0])
    return bad


ALL_PAIRS = [(a, b) for a in DTYPES for b in DTYPES]


def test_promotion_of_every_dtype_pair_and_operand_kind():
    """Every op's result (dtype and values) or refusal is torch's, for every pair of dtypes and each of
    tensor-tensor, tensor-0-d, 0-d-0-d and tensor-scalar operands (scalar dtypes do not vary: one per kind)."""
    kinds = [k for k in KINDS if k[1] not in SCALARS and k[0] not in SCALARS]
    bad = _promotion_mismatches(PROMOTING, kinds, ALL_PAIRS)
    kinds = [k for k in KINDS if k[0] in SCALARS or k[1] in SCALARS]
    bad += _promotion_mismatches(PROMOTING, kinds, [(d, d) for d in DTYPES])
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


def test_inplace_promotion_of_every_dtype_pair_and_operand_kind():
    """An in-place op keeps the target's dtype where torch casts the result into it, and refuses (with torch's
    error) where torch refuses the cast (a float result into an integer tensor, anything but bool into bool)."""
    kinds = [k for k in KINDS if k[0] != "0d" or k[1] != "tensor"]  # a 0-d target cannot take a 1-d result
    kinds = [k for k in kinds if k[0] not in SCALARS]
    bad = _promotion_mismatches(INPLACE_PROMOTING, [k for k in kinds if k[1] not in SCALARS], ALL_PAIRS)
    bad += _promotion_mismatches(INPLACE_PROMOTING, [k for k in kinds if k[1] in SCALARS], [(d, d) for d in DTYPES])
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


def test_result_type_of_every_dtype_pair_and_operand_kind():
    bad = []
    for da in DTYPES:
        for db in DTYPES:
            for ka, kb in KINDS:
                args = [[_operand(lib, ka, da, False), _operand(lib, kb, db, True)] for lib in LIBS]
                e, t = ember.result_type(*args[0]), torch.result_type(*args[1])
                if str(e) != str(t):
                    bad.append(f"result_type({ka} {da}, {kb} {db}): {e} vs torch {t}")
    assert not bad, "\n".join(bad[:40])


# Scalars that are not the small, friendly ones: out of an integer type's range, negative for uint8, inf, nan.
ODD_SCALARS = st.one_of(
    st.sampled_from([0, -1, 255, 256, -129, 2**31, 2**63 - 1, -(2**63), True, False]),
    st.sampled_from([0.0, -0.0, 0.5, -2.75, 1e10, float("inf"), float("-inf"), float("nan")]),
)


@settings(max_examples=80)
@given(
    dtype=st.sampled_from(DTYPES),
    zero_d=st.booleans(),
    scalar=ODD_SCALARS,
    name=st.sampled_from(sorted(PROMOTING)),
    reflected=st.booleans(),
    inplace=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tensor_scalar_values_match_torch(dtype, zero_d, scalar, name, reflected, inplace, seed):
    """Random values of every dtype with awkward Python scalars: the result's dtype and values are torch's, or
    both refuse with one error type (overflowing scalars, integer division by zero, negative integer powers)."""
    rng = np.random.default_rng(seed)
    shape = () if zero_d else (3,)
    if dtype == "bool":
        a = rng.random(shape) > 0.5
    elif dtype[0] == "f":
        a = (rng.standard_normal(shape) * 3).astype(dtype)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True).astype(dtype)
    if inplace:
        fn = INPLACE_PROMOTING.get(name + "_") or INPLACE_PROMOTING.get("i" + name)
        if fn is None:
            return
    else:
        fn = PROMOTING[name]
        if reflected and name not in FUNCTIONAL and name != "where":
            fn = lambda L, x, y, f=fn: f(L, y, x)  # noqa: E731
    res = [outcome(fn, lib, lib.tensor(a.copy()), scalar) for lib in LIBS]
    assert_same_outcome(*res, f"{name} {dtype}{list(shape)} {scalar!r} reflected={reflected}", rtol=1e-3, atol=1e-3)

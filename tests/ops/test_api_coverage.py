"""Differential tests for the aliases, comparison/bitwise functions, in-place variants and
small creation helpers that the broader op tests do not name."""

import numpy as np
import pytest
import torch
from helpers import assert_same, check_op, gradcheck

import ember

rng = np.random.default_rng(3)
A = rng.uniform(-0.9, 0.9, (3, 4))
B = rng.uniform(0.5, 2.0, (4,))
INTS_A = rng.integers(-8, 8, (3, 4))
INTS_B = rng.integers(1, 8, (4,))

UNARY_ALIASES = ["absolute", "arccos", "arcsin", "arctan", "fix", "negative", "sgn"]
BINARY_ALIASES = ["divide", "subtract", "true_divide"]
COMPARISONS = ["gt", "greater", "greater_equal", "le", "lt", "less", "less_equal", "ne", "not_equal"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]
LOGICAL = ["logical_or", "logical_xor"]


@pytest.mark.parametrize("name", UNARY_ALIASES)
def test_unary_aliases_match_torch(name):
    check_op(lambda lib, x: getattr(lib, name)(x), A)
    check_op(lambda lib, x: getattr(x, name)(), A)


@pytest.mark.parametrize("name", ["absolute", "arccos", "arcsin", "arctan", "negative"])
def test_unary_alias_gradients(name):
    gradcheck(lambda x: getattr(ember, name)(x), A)


@pytest.mark.parametrize("name", BINARY_ALIASES)
def test_binary_aliases_match_torch(name):
    check_op(lambda lib, x, y: getattr(lib, name)(x, y), A, B)
    check_op(lambda lib, x, y: getattr(x, name)(y), A, B)
    gradcheck(lambda x, y: getattr(ember, name)(x, y), A, B)


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_match_torch(name):
    check_op(lambda lib, x, y: getattr(lib, name)(x, y), A, B, grad=False)
    check_op(lambda lib, x: getattr(x, name)(0.1), A, grad=False)


@pytest.mark.parametrize("name", BITWISE)
def test_bitwise_on_ints_and_bools(name):
    check_op(lambda lib, x, y: getattr(lib, name)(x, y), INTS_A, INTS_B, grad=False)
    check_op(lambda lib, x, y: getattr(x, name)(y), INTS_A > 0, INTS_B > 3, grad=False)


def test_bitwise_not_and_logical_ops():
    check_op(lambda lib, x: lib.bitwise_not(x), INTS_A, grad=False)
    check_op(lambda lib, x: x.bitwise_not(), INTS_A > 0, grad=False)
    for name in LOGICAL:
        check_op(lambda lib, x, y, name=name: getattr(lib, name)(x, y), A, INTS_B, grad=False)


def test_isclose_isposinf_isneginf():
    special = np.array([1.0, np.inf, -np.inf, np.nan, 1.0 + 1e-7])
    check_op(lambda lib, x: (lib.isposinf(x), lib.isneginf(x), x.isposinf(), x.isneginf()), special, grad=False)
    check_op(lambda lib, x, y: lib.isclose(x, y), special, np.ones(5), grad=False)
    check_op(lambda lib, x, y: x.isclose(y, equal_nan=True), special, special, grad=False)


INPLACE_UNARY = [
    "acos_", "asin_", "atan_", "ceil_", "cos_", "cosh_", "erf_", "exp2_", "expm1_", "frac_", "log10_",
    "log1p_", "log2_", "reciprocal_", "round_", "rsqrt_", "sign_", "sin_", "sinh_", "square_", "tan_",
    "tanh_", "trunc_",
]  # fmt: skip


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_inplace_unary_matches_out_of_place(name):
    base = np.abs(A) + 0.05 if name.startswith(("log", "rsqrt", "reciprocal")) else A
    e, t = ember.tensor(base.copy()), torch.tensor(base.copy())
    e_ret, t_ret = getattr(e, name)(), getattr(t, name)()
    assert e_ret is e and t_ret is t
    assert_same(e, t)
    assert e._version.value == 1


INPLACE_BINARY = [
    "divide_", "floor_divide_", "fmod_", "multiply_", "remainder_", "subtract_", "true_divide_", "xlogy_",
]  # fmt: skip


@pytest.mark.parametrize("name", INPLACE_BINARY)
def test_inplace_binary_matches_torch(name):
    e, t = ember.tensor(A.copy()), torch.tensor(A.copy())
    getattr(e, name)(ember.tensor(B))
    getattr(t, name)(torch.tensor(B))
    assert_same(e, t)


@pytest.mark.parametrize("name", ["eq_", "ge_", "gt_", "le_", "lt_", "ne_"])
def test_inplace_comparisons_keep_the_dtype(name):
    e, t = ember.tensor(A.copy()), torch.tensor(A.copy())
    getattr(e, name)(0.1)
    getattr(t, name)(0.1)
    assert_same(e, t)


@pytest.mark.parametrize("name", ["bitwise_and_", "bitwise_or_", "bitwise_xor_"])
def test_inplace_bitwise(name):
    e, t = ember.tensor(INTS_A.copy()), torch.tensor(INTS_A.copy())
    getattr(e, name)(ember.tensor(INTS_B))
    getattr(t, name)(torch.tensor(INTS_B))
    assert_same(e, t)
    e, t = ember.tensor(INTS_A.copy()), torch.tensor(INTS_A.copy())
    e.bitwise_not_()
    t.bitwise_not_()
    assert_same(e, t)


def test_inplace_logical_addc_and_clamp_variants():
    for name, args in [
        ("logical_and_", (B,)),
        ("logical_or_", (B,)),
        ("logical_xor_", (B,)),
        ("logical_not_", ()),
        ("addcmul_", (B, B)),
        ("addcdiv_", (B, B)),
    ]:
        e, t = ember.tensor(A.copy()), torch.tensor(A.copy())
        getattr(e, name)(*(ember.tensor(a) for a in args))
        getattr(t, name)(*(torch.tensor(a) for a in args))
        assert_same(e, t)
    e, t = ember.tensor(A.copy()), torch.tensor(A.copy())
    e.clamp_max_(0.2).clip_(-0.3, 0.1)
    t.clamp_max_(0.2).clip_(-0.3, 0.1)
    assert_same(e, t)


def test_inplace_on_leaf_that_requires_grad_is_refused_like_torch():
    e = ember.tensor(A.copy(), requires_grad=True)
    t = torch.tensor(A.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        t.sin_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        e.sin_()


def test_like_and_new_factories_match_torch():
    src = A.astype(np.float32)
    check_op(
        lambda lib, x: (
            lib.zeros_like(x),
            lib.empty_like(x).zero_(),
            lib.zeros_like(x, dtype=lib.int64),
            x.new_zeros(2, 3),
            x.new_ones((2,)),
            x.new_empty(4).fill_(1.5),
            x.new_full((2, 2), 7),
            x.new_tensor([1, 2]),
            x.type_as(lib.tensor([1])),
        ),
        src,
        grad=False,
    )


def test_creation_helpers_match_torch():
    check_op(lambda lib: (lib.logspace(-2, 2, 7), lib.logspace(0, 3, 4, base=2.0)), grad=False, rtol=1e-6)
    check_op(lambda lib: lib.asarray([[1, 2], [3, 4]]), grad=False)
    check_op(lambda lib: (lib.DoubleTensor([1, 2]), lib.IntTensor([1, 2])), grad=False)
    with pytest.warns(UserWarning):
        expected = torch.range(0, 1, 0.25)
    assert_same(ember.range(0, 1, 0.25), expected)


def test_random_helpers_have_torch_shapes_and_ranges():
    ember.manual_seed(5)
    perm = ember.randperm(10)
    assert perm.dtype == ember.int64 and sorted(perm.tolist()) == list(range(10))
    probs = ember.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    draws = ember.multinomial(probs, 4, replacement=True)
    assert draws.shape == (2, 4) and set(draws[0].tolist()) == {1} and set(draws[1].tolist()) <= {0, 2}
    with pytest.raises(RuntimeError, match="without replacement"):
        ember.multinomial(probs, 4)
    coin = ember.bernoulli(ember.full((1000,), 0.25))
    assert set(coin.tolist()) <= {0.0, 1.0} and 0.15 < coin.mean().item() < 0.35
    x = ember.zeros(2000)
    assert 0.8 < x.exponential_(lambd=1.0).mean().item() < 1.2
    assert x.random_(0, 5).max().item() <= 4 and x.min().item() >= 0
    assert set(x.bernoulli_(0.5).tolist()) <= {0.0, 1.0}
    assert (x.geometric_(0.5) >= 1).all()
    assert (x.log_normal_(0.0, 0.5) > 0).all()
    assert ember.isfinite(x.cauchy_()).all()
    state = ember.get_rng_state()
    a = ember.rand(3)
    ember.set_rng_state(state)
    assert ember.equal(a, ember.rand(3))
    assert ember.initial_seed() == 5


def test_python_conversions_and_attributes():
    e, t = ember.tensor([2.5]), torch.tensor([2.5])
    assert (float(e), int(e), bool(e)) == (float(t), int(t), bool(t))
    assert np.array(e).tolist() == np.array(t).tolist()
    assert e.element_size() == t.element_size() and e.is_complex() is t.is_complex() is False
    assert e.is_cuda is t.is_cuda is False
    assert ember.is_tensor(e) and not ember.is_tensor([1])
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ember.tensor([1.0, 2.0]))


def test_deepcopy_copies_data_and_grad():
    import copy

    e = ember.tensor([1.0, 2.0], requires_grad=True)
    (e * e).sum().backward()
    c = copy.deepcopy(e)
    assert c is not e and c.requires_grad and ember.equal(c.grad, e.grad)
    c.data.add_(1)
    assert e.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(e * 2)


def test_shape_aliases_match_torch():
    check_op(lambda lib, x: (lib.concatenate([x, x], 1), lib.ravel(x), x.ravel(), x.H, x.mH), A)

"""Activation functions and modules against torch: values, gradients, second derivatives, reprs."""

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, check_op, gradcheck, gradgradcheck, outcome_of
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)

# (name, call(lib, x)) for every functional activation and option.
ACTIVATIONS = [
    ("relu", lambda lib, x: lib.nn.functional.relu(x)),
    ("relu6", lambda lib, x: lib.nn.functional.relu6(x * 4)),
    ("leaky_relu", lambda lib, x: lib.nn.functional.leaky_relu(x)),
    ("leaky_relu_slope", lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2)),
    ("elu", lambda lib, x: lib.nn.functional.elu(x)),
    ("elu_alpha", lambda lib, x: lib.nn.functional.elu(x, alpha=0.7)),
    ("celu", lambda lib, x: lib.nn.functional.celu(x, alpha=1.5)),
    ("selu", lambda lib, x: lib.nn.functional.selu(x)),
    ("gelu", lambda lib, x: lib.nn.functional.gelu(x)),
    ("gelu_tanh", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh")),
    ("silu", lambda lib, x: lib.nn.functional.silu(x)),
    ("mish", lambda lib, x: lib.nn.functional.mish(x)),
    ("softplus", lambda lib, x: lib.nn.functional.softplus(x)),
    ("softplus_beta", lambda lib, x: lib.nn.functional.softplus(x * 10, beta=2.0, threshold=5.0)),
    ("softsign", lambda lib, x: lib.nn.functional.softsign(x)),
    ("sigmoid", lambda lib, x: lib.nn.functional.sigmoid(x)),
    ("tanh", lambda lib, x: lib.nn.functional.tanh(x)),
    ("hardtanh", lambda lib, x: lib.nn.functional.hardtanh(x * 2)),
    ("hardtanh_range", lambda lib, x: lib.nn.functional.hardtanh(x * 3, -2.0, 1.5)),
    ("hardsigmoid", lambda lib, x: lib.nn.functional.hardsigmoid(x * 4)),
    ("hardswish", lambda lib, x: lib.nn.functional.hardswish(x * 4)),
    ("logsigmoid", lambda lib, x: lib.nn.functional.logsigmoid(x * 30)),
    ("threshold", lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0)),
    ("tanhshrink", lambda lib, x: lib.nn.functional.tanhshrink(x)),
    ("hardshrink", lambda lib, x: lib.nn.functional.hardshrink(x)),
    ("softshrink", lambda lib, x: lib.nn.functional.softshrink(x)),
    ("softmax0", lambda lib, x: lib.nn.functional.softmax(x, 0)),
    ("softmax_last", lambda lib, x: lib.nn.functional.softmax(x, -1)),
    ("log_softmax", lambda lib, x: lib.nn.functional.log_softmax(x, -1)),
    ("softmin", lambda lib, x: lib.nn.functional.softmin(x, 0)),
    ("softmax_dtype", lambda lib, x: lib.nn.functional.softmax(x, -1, dtype=lib.float64)),
    ("log_softmax_dtype", lambda lib, x: lib.nn.functional.log_softmax(x, 0, dtype=lib.float64)),
]

# Points away from the kinks, so finite differences are valid.
SMOOTH_FOR_GRADCHECK = [
    n
    for n, _ in ACTIVATIONS
    if n not in ("relu6", "hardtanh", "hardtanh_range", "hardsigmoid", "hardswish", "hardshrink", "softshrink")
]


def _sample(shape):
    x = rng.standard_normal(shape).astype(np.float32)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from 0 where some derivatives jump
    return x


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_activation_matches_torch(name, fn, shape):
    x = _sample(shape)
    if name.startswith("hard") or name in ("relu6",):
        x[np.isclose(np.abs(x * 4), 3, atol=1e-2)] = 0.3
    check_op(fn, x, atol=1e-5)


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_grad_fn_name(name, fn):
    x = _sample((3, 4))
    e = fn(ember, ember.tensor(x, requires_grad=True))
    t = fn(torch, torch.tensor(x, requires_grad=True))
    if name in ("softsign", "tanhshrink", "softmin"):
        return  # composites: the name depends on the final op
    assert e.grad_fn.name() == type(t.grad_fn).__name__


@pytest.mark.parametrize("name", SMOOTH_FOR_GRADCHECK)
def test_activation_gradcheck(name):
    fn = dict(ACTIVATIONS)[name]
    x = rng.standard_normal((2, 3)) * 1.5
    x[np.abs(x) < 0.05] = 0.4
    gradcheck(lambda t: fn(ember, t), x)
    if name not in ("relu", "leaky_relu", "leaky_relu_slope", "threshold"):  # piecewise linear: no 2nd derivative
        gradgradcheck(lambda t: fn(ember, t), x)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    name=st.sampled_from([a[0] for a in ACTIVATIONS if "softmax" not in a[0] and a[0] != "log_softmax"]),
)
def test_activation_shapes_hypothesis(shape, name):
    check_op(dict(ACTIVATIONS)[name], _sample(tuple(shape)))


def test_prelu_matches_torch():
    x = _sample((4, 3, 5))
    w = np.array([0.1, 0.25, -0.3], dtype=np.float32)
    check_op(lambda lib, a, b: lib.nn.functional.prelu(a, b), x, w)
    check_op(lambda lib, a, b: lib.nn.functional.prelu(a, b), x, np.array([0.2], dtype=np.float32))
    gradcheck(lambda a, b: ember.nn.functional.prelu(a, b), x.astype(np.float64), w)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.ReLU(),
        lambda nn: nn.ReLU(inplace=True),
        lambda nn: nn.ReLU6(),
        lambda nn: nn.ReLU6(True),
        lambda nn: nn.LeakyReLU(),
        lambda nn: nn.LeakyReLU(0.2, True),
        lambda nn: nn.PReLU(),
        lambda nn: nn.PReLU(3),
        lambda nn: nn.ELU(),
        lambda nn: nn.ELU(alpha=0.5, inplace=True),
        lambda nn: nn.CELU(),
        lambda nn: nn.SELU(),
        lambda nn: nn.SELU(True),
        lambda nn: nn.GELU(),
        lambda nn: nn.GELU("tanh"),
        lambda nn: nn.SiLU(),
        lambda nn: nn.SiLU(True),
        lambda nn: nn.Mish(),
        lambda nn: nn.Softplus(),
        lambda nn: nn.Softplus(beta=2, threshold=10),
        lambda nn: nn.Softsign(),
        lambda nn: nn.Sigmoid(),
        lambda nn: nn.Tanh(),
        lambda nn: nn.Hardtanh(),
        lambda nn: nn.Hardtanh(-2, 2),
        lambda nn: nn.Hardsigmoid(),
        lambda nn: nn.Hardswish(),
        lambda nn: nn.LogSigmoid(),
        lambda nn: nn.Threshold(0.1, 20),
        lambda nn: nn.Softmax(),
        lambda nn: nn.Softmax(dim=1),
        lambda nn: nn.LogSoftmax(dim=-1),
        lambda nn: nn.Softmin(0),
        lambda nn: nn.Tanhshrink(),
        lambda nn: nn.Hardshrink(),
        lambda nn: nn.Softshrink(0.3),
    ],
)
def test_activation_modules_repr_and_forward(make):
    em, tm = make(ember.nn), make(torch.nn)
    assert repr(em) == repr(tm)
    x = _sample((4, 3))
    inplace = getattr(tm, "inplace", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if inplace:
            # In-place modules need a non-leaf input.
            ex = ember.tensor(x, requires_grad=True)
            tx = torch.tensor(x, requires_grad=True)
            eo, to = em(ex * 1), tm(tx * 1)
            assert_same(eo, to)
            eo.sum().backward()
            to.sum().backward()
            assert_same(ex.grad, tx.grad)
        else:
            for name, p in tm.named_parameters():
                getattr(em, name)._data[...] = p.detach().numpy()
            check_op(lambda lib, a: (em if lib is ember else tm)(a), x)


def test_inplace_functional_activations_modify_input():
    for name in ("relu_", "leaky_relu_", "elu_", "hardtanh_", "selu_", "celu_"):
        x = _sample((3, 3))
        e = ember.tensor(x)
        t = torch.tensor(x)
        r_e = getattr(ember.nn.functional, name)(e)
        r_t = getattr(torch.nn.functional, name)(t)
        assert r_e is e
        assert_same(e, t)
        assert_same(r_e, r_t)


def test_softmax_implicit_dim_warns_like_torch():
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 2, 3, 3)]:
        x = _sample(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            e = ember.nn.functional.softmax(ember.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.nn.functional.softmax(torch.tensor(x))
        assert_same(e, t)
    with pytest.warns(UserWarning, match="log_softmax"):
        ember.nn.LogSoftmax()(ember.randn(2, 3))


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    check_op(lambda lib, a: lib.nn.functional.softmax(a, 1), x)
    check_op(lambda lib, a: lib.nn.functional.log_softmax(a, 1), x)
    check_op(lambda lib, a: lib.softmax(a, 1), x)
    check_op(lambda lib, a: a.log_softmax(1), x)


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.nn.functional.softmax(ember.randn(2, 3), 2)


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_activation_of_integer_or_bool_input_does_what_torch_does(name, fn, dtype):
    """Most kernels refuse integers with NotImplementedError naming the kernel; hardtanh and threshold clamp them."""
    values = [0, 1, 1, 0, 5, 7] if dtype != "bool" else [True, False, True]
    res = [outcome_of(lambda lib=lib: fn(lib, lib.tensor(values, dtype=getattr(lib, dtype)))) for lib in (ember, torch)]
    if isinstance(res[1], list):
        np.testing.assert_allclose(res[0], res[1], rtol=1e-6)  # computed in a float dtype= they name
    else:
        assert res[0] == res[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.hardtanh(lib.tensor([-3, 0, 1, 2]), -0.5, 0.5),
        lambda lib: lib.nn.functional.hardtanh(lib.tensor([-3, 0, 1, 2]), -1.7, 1.7),
        lambda lib: lib.nn.functional.hardtanh(lib.tensor([-3, 0, 1, 2], dtype=lib.int8), -300.0, 300.0),
        lambda lib: lib.nn.functional.hardtanh_(lib.tensor([-3, 0, 1, 2]), -1.0, 1.0),
        lambda lib: lib.nn.functional.threshold(lib.tensor([1, 9], dtype=lib.uint8), 300.0, 1.0),
        lambda lib: lib.nn.functional.softshrink(lib.ones(2), -1),
        lambda lib: lib.nn.functional.softshrink(lib.ones(2, dtype=lib.float64), float("nan")),
        lambda lib: lib.nn.functional.softshrink(lib.ones(2), 1e39),
        lambda lib: lib.nn.functional.softshrink(lib.tensor([-1.0, -0.3, 0.2, 0.9]), 0.0),
        lambda lib: lib.nn.functional.hardshrink(lib.tensor([-1.0, -0.3, 0.2, 0.9]), 0.25),
    ],
)
def test_activation_settings_and_integer_forms_match_torch(call):
    assert outcome_of(lambda: call(ember)) == outcome_of(lambda: call(torch))


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shrink_gradient_is_zero_inside_the_band_and_passes_outside(name, dtype):
    values = [-1.0, -0.5, -0.2, -0.0, 0.0, 0.5, 0.7, float("inf"), -float("inf")]
    res = []
    for lib in (ember, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        getattr(lib.nn.functional, name)(x, 0.5).backward(lib.linspace(-2, 2, len(values), dtype=getattr(lib, dtype)))
        res.append(x.grad.numpy())
    np.testing.assert_array_equal(res[0], res[1])


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        ember.nn.functional.gelu(ember.randn(2), approximate="fast")

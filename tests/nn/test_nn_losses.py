"""Loss functions and modules against torch: every option, gradients, grad_fn names, errors."""

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def _f(lib):
    return lib.nn.functional


def _logits(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _labels(n_classes, *shape):
    return rng.integers(0, n_classes, shape).astype(np.int64)


# ---------------------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name,kw",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.3}),
    ],
)
def test_regression_losses(name, kw, reduction):
    x, y = _logits(4, 5) * 2, _logits(4, 5)
    check_op(lambda lib, a, b: getattr(_f(lib), name)(a, b, reduction=reduction, **kw), x, y)
    gradcheck(lambda a, b: getattr(_f(ember), name)(a, b, reduction=reduction, **kw), x[:2, :3], y[:2, :3])


def test_mse_broadcast_warns_like_torch():
    x, y = _logits(3, 4), _logits(4)
    with pytest.warns(UserWarning, match="different to the input size"):
        _f(ember).mse_loss(ember.tensor(x), ember.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, a, b: _f(lib).mse_loss(a, b), x, y)


def test_mse_second_derivative():
    gradgradcheck(lambda a, b: _f(ember).mse_loss(a, b), _logits(3, 2), _logits(3, 2))


def test_mse_repr_and_grad_fn():
    e = ember.nn.MSELoss()(ember.tensor([1.0, 2.0], requires_grad=True), ember.tensor([3.0, 5.0]))
    t = torch.nn.MSELoss()(torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 5.0]))
    assert repr(e) == repr(t) == "tensor(6.5000, grad_fn=<MseLossBackward0>)"


# ---------------------------------------------------------------------------- binary losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(reduction, weighted):
    p = rng.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (3,)).astype(np.float32)
    if weighted:
        check_op(
            lambda lib, a, b, c: _f(lib).binary_cross_entropy(a, b, weight=c, reduction=reduction),
            p,
            y,
            w,
            no_grad_args=(2,),
        )
    else:
        check_op(lambda lib, a, b: _f(lib).binary_cross_entropy(a, b, reduction=reduction), p, y)
    gradcheck(lambda a, b: _f(ember).binary_cross_entropy(a, b, reduction=reduction), p[:2], y[:2])


def test_bce_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.5, 1e-40], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0], dtype=np.float32)
    check_op(lambda lib, a, b: _f(lib).binary_cross_entropy(a, b, reduction="none"), p, y, grad=False)


def test_bce_errors():
    check_raises(lambda lib, a, b: _f(lib).binary_cross_entropy(a, b), np.array([1.5, 0.2]), np.array([1.0, 0.0]))
    check_raises(lambda lib, a, b: _f(lib).binary_cross_entropy(a, b), np.array([[0.5, 0.2]]), np.array([1.0, 0.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(reduction, option):
    x = _logits(4, 3) * 3
    y = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (3,)).astype(np.float32)
    pw = rng.uniform(0.5, 3, (3,)).astype(np.float32)

    def fn(lib, a, b, c, d):
        kw = {}
        if option in ("weight", "both"):
            kw["weight"] = c
        if option in ("pos_weight", "both"):
            kw["pos_weight"] = d
        return _f(lib).binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw)

    check_op(fn, x, y, w, pw, no_grad_args=(2, 3))
    gradcheck(
        lambda a, b: fn(ember, a, b, ember.tensor(w, dtype=ember.float64), ember.tensor(pw, dtype=ember.float64)),
        x[:2],
        y[:2],
    )


def test_bce_with_logits_is_stable():
    x = np.array([1000.0, -1000.0, 50.0, -50.0], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    check_op(lambda lib, a, b: _f(lib).binary_cross_entropy_with_logits(a, b, reduction="none"), x, y)


# ---------------------------------------------------------------------------- class losses
CE_CASES = [
    ((6, 5), (6,)),
    ((5,), ()),
    ((3, 4, 7), (3, 7)),
    ((2, 3, 4, 5), (2, 4, 5)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CE_CASES, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_and_nll(reduction, shapes, weighted, ignore):
    xs, ts = shapes
    c = xs[0] if len(xs) == 1 else xs[1]
    x = _logits(*xs)
    t = _labels(c, *ts)
    if ignore and t.ndim:
        t.flat[0] = 1
        ignore_index = 1
    else:
        ignore_index = -100
    w = rng.uniform(0.5, 2.0, (c,)).astype(np.float32)

    def ce(lib, a, b, ww):
        return _f(lib).cross_entropy(
            a, b, weight=ww if weighted else None, ignore_index=ignore_index, reduction=reduction
        )

    def nll(lib, a, b, ww):
        lsm = _f(lib).log_softmax(a, 0 if a.ndim == 1 else 1)
        return _f(lib).nll_loss(lsm, b, weight=ww if weighted else None, ignore_index=ignore_index, reduction=reduction)

    check_op(ce, x, t, w, no_grad_args=(2,))
    check_op(nll, x, t, w, no_grad_args=(2,))
    e = ce(ember, ember.tensor(x, requires_grad=True), ember.tensor(t), ember.tensor(w))
    tt = ce(torch, torch.tensor(x, requires_grad=True), torch.tensor(t), torch.tensor(w))
    if not (len(xs) == 3 and reduction == "none"):  # torch views its 4-D result back to 3-D there
        assert e.grad_fn.name() == type(tt.grad_fn).__name__


def test_cross_entropy_gradcheck_and_double_backward():
    t = ember.tensor(_labels(4, 3))
    w = ember.tensor(rng.uniform(0.5, 2, (4,)))
    for red in REDUCTIONS:
        gradcheck(lambda a, red=red: _f(ember).cross_entropy(a, t, weight=w, reduction=red), _logits(3, 4))
        gradgradcheck(lambda a, red=red: _f(ember).cross_entropy(a, t, reduction=red), _logits(3, 4))
    t3 = ember.tensor(_labels(3, 2, 4))
    gradgradcheck(lambda a: _f(ember).cross_entropy(a, t3), _logits(2, 3, 4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(reduction, smoothing, weighted):
    x = _logits(5, 4)
    p = rng.uniform(0, 1, (5, 4)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2.0, (4,)).astype(np.float32)
    check_op(
        lambda lib, a, b, c: _f(lib).cross_entropy(
            a, b, weight=c if weighted else None, reduction=reduction, label_smoothing=smoothing
        ),
        x,
        p,
        w,
        no_grad_args=(2,),
    )
    x3 = _logits(2, 3, 4)
    p3 = rng.uniform(0, 1, (2, 3, 4)).astype(np.float32)
    check_op(lambda lib, a, b: _f(lib).cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing), x3, p3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shapes", CE_CASES[:3], ids=str)
def test_cross_entropy_label_smoothing_indices(reduction, weighted, shapes):
    xs, ts = shapes
    c = xs[0] if len(xs) == 1 else xs[1]
    x = _logits(*xs)
    t = _labels(c, *ts)
    if t.ndim:
        t.flat[0] = 2
    w = rng.uniform(0.5, 2.0, (c,)).astype(np.float32)
    check_op(
        lambda lib, a, b, ww: _f(lib).cross_entropy(
            a, b, weight=ww if weighted else None, ignore_index=2, reduction=reduction, label_smoothing=0.2
        ),
        x,
        t,
        w,
        no_grad_args=(2,),
    )


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 6), extra=st.lists(st.integers(1, 3), max_size=2))
def test_cross_entropy_hypothesis_shapes(n, c, extra):
    x = _logits(n, c, *extra)
    t = _labels(c, n, *extra)
    check_op(lambda lib, a, b: _f(lib).cross_entropy(a, b), x, t)


def test_cross_entropy_is_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 0.0]], dtype=np.float32)
    t = np.array([2, 1])
    check_op(lambda lib, a, b: _f(lib).cross_entropy(a, b, reduction="none"), x, t)


def test_class_loss_errors():
    x = _logits(3, 5)
    exc = check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), x, np.array([1, 12, 0]))
    assert str(exc) == "Target 12 is out of bounds."
    exc = check_raises(lambda lib, a, b: _f(lib).nll_loss(a, b), x, np.array([1, -3, 0]))
    assert "Target -3 is out of bounds." in str(exc)
    exc = check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), x, rng.uniform(size=(3, 4)).astype(np.float32))
    assert "multi-target not supported" in str(exc)
    exc = check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), x, np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert "expected target dtype to be Long" in str(exc) and "Float" in str(exc)
    exc = check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), x, np.array([1, 2]))
    assert "batch_size (3)" in str(exc) and "batch_size (2)" in str(exc)
    check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b, reduction="avg"), x, np.array([1, 2, 0]))
    check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), _logits(2, 3, 4), np.array([[1, 2, 0]]))


def test_kdim_out_of_range_target():
    check_raises(lambda lib, a, b: _f(lib).cross_entropy(a, b), _logits(2, 3, 4), np.full((2, 4), 7))


# ---------------------------------------------------------------------------- KL divergence
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(rng.dirichlet(np.ones(4), 3)).astype(np.float32)
    y = rng.dirichlet(np.ones(4), 3).astype(np.float32)
    y[0, 0] = 0.0
    if log_target:
        y = np.log(y + 1e-3).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, a, b: _f(lib).kl_div(a, b, reduction=reduction, log_target=log_target), x, y)


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        _f(ember).kl_div(ember.randn(2, 3), ember.rand(2, 3))


# ---------------------------------------------------------------------------- modules and legacy arguments
LOSS_MODULES = [
    ("MSELoss", {}),
    ("L1Loss", {}),
    ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.5}),
    ("BCEWithLogitsLoss", {}),
    ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}),
    ("NLLLoss", {}),
    ("KLDivLoss", {"reduction": "batchmean"}),
    ("BCELoss", {}),
]


@pytest.mark.parametrize("name,kw", LOSS_MODULES, ids=[f"{n}{k}" for n, k in LOSS_MODULES])
def test_loss_modules(name, kw):
    em, tm = getattr(ember.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(em) == repr(tm)
    if name in ("CrossEntropyLoss", "NLLLoss"):
        x, y = _logits(4, 3), _labels(3, 4)
        if name == "NLLLoss":
            x = np.log(rng.dirichlet(np.ones(3), 4)).astype(np.float32)
    elif name == "BCELoss":
        x, y = rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32), rng.uniform(0, 1, (4, 3)).astype(np.float32)
    elif name == "KLDivLoss":
        x, y = np.log(rng.dirichlet(np.ones(3), 4)).astype(np.float32), rng.dirichlet(np.ones(3), 4).astype(np.float32)
    else:
        x, y = _logits(4, 3), rng.uniform(0, 1, (4, 3)).astype(np.float32)
    check_op(lambda lib, a, b: (em if lib is ember else tm)(a, b), x, y)


def test_weighted_loss_modules_register_weight_buffer():
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    em = ember.nn.CrossEntropyLoss(weight=ember.tensor(w))
    tm = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight"]
    x, y = _logits(5, 3), _labels(3, 5)
    check_op(lambda lib, a, b: (em if lib is ember else tm)(a, b), x, y)
    em = ember.nn.BCEWithLogitsLoss(pos_weight=ember.tensor(w))
    tm = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    assert list(em.state_dict()) == list(tm.state_dict())


@pytest.mark.parametrize(
    "size_average,reduce", [(None, False), (False, None), (True, True), (False, True), (True, False)]
)
def test_legacy_size_average_reduce(size_average, reduce):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        em = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert em.reduction == tm.reduction
        x, y = _logits(3, 2), _logits(3, 2)
        check_op(
            lambda lib, a, b: _f(lib).cross_entropy(a, b.argmax(1), size_average=size_average, reduce=reduce),
            x,
            y,
            grad=False,
        )
        check_op(lambda lib, a, b: _f(lib).l1_loss(a, b, size_average=size_average, reduce=reduce), x, y)


def test_loss_backward_through_model():
    x, y = _logits(8, 4), _labels(3, 8)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    em = ember.nn.Sequential(ember.nn.Linear(4, 5), ember.nn.Tanh(), ember.nn.Linear(5, 3))
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    le = ember.nn.CrossEntropyLoss()(em(ember.tensor(x)), ember.tensor(y))
    lt = torch.nn.CrossEntropyLoss()(tm(torch.tensor(x)), torch.tensor(y))
    assert_same(le, lt)
    le.backward()
    lt.backward()
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=1e-6, err_msg=n)

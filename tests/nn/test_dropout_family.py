"""The dropout family and rrelu against torch: values, warnings, errors and generator state after each call."""

# ruff: noqa: B023  (each lambda is called at once, inside the loop that defines it)

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

TF, EF = torch.nn.functional, ember.nn.functional
PS = (0.1, 0.2, 0.3, 0.45, 0.5, 0.7, 0.9)


def seed_both(seed: int) -> None:
    torch.manual_seed(seed)
    ember.manual_seed(seed)


def same(t, e) -> None:
    """Bit-identical values, dtype and shape, and both generators in the same state afterwards."""
    ta, ea = t.detach().numpy(), e.detach().numpy()
    assert ta.dtype == ea.dtype and ta.shape == ea.shape
    assert ea.tobytes() == ta.tobytes()
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


def pair(shape, dtype=np.float32, seed: int = 0):
    """The same random input as a torch and an ember tensor."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return torch.from_numpy(a.copy()), ember.tensor(a.copy())


def same_outcome(tcall, ecall):
    """Both calls return equal results or raise the same error type and message; warnings match too."""
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        try:
            t, terr = tcall(), None
        except Exception as exc:  # noqa: BLE001
            t, terr = None, exc
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        try:
            e, eerr = ecall(), None
        except Exception as exc:  # noqa: BLE001
            e, eerr = None, exc
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    if terr is not None:
        assert type(eerr) is type(terr) and str(eerr) == str(terr)
        np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())
    else:
        assert eerr is None, eerr
        same(t, e)


@pytest.mark.parametrize("p", PS)
def test_half_precision_scale(p):
    for name in ("dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout3d"):
        shape = {"dropout1d": (3, 4, 5), "dropout3d": (2, 3, 2, 2, 2)}.get(name, (4, 6, 3, 3))
        t, e = pair(shape, np.float16)
        seed_both(int(p * 100))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same(getattr(TF, name)(t, p, True), getattr(EF, name)(e, p, True))
    seed_both(1)
    same(TF.dropout(torch.ones(6, dtype=torch.float16), p), EF.dropout(ember.ones(6, dtype=ember.float16), p))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize(
    "name", ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]
)
def test_integer_input(dtype, name):
    for p in (0.0, 0.3, 1.0):
        for inplace in (False, True):
            seed_both(3)
            t = torch.ones(2, 3, 2, 2, 2, dtype=getattr(torch, dtype))
            e = ember.ones(2, 3, 2, 2, 2, dtype=getattr(ember, dtype))
            same_outcome(lambda: getattr(TF, name)(t, p, True, inplace), lambda: getattr(EF, name)(e, p, True, inplace))


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"])
@pytest.mark.parametrize("ndim", range(7))
def test_channel_dropout_shapes(name, ndim):
    shape = (2, 3, 4, 3, 2, 2)[:ndim]
    for p in (0.0, 0.3, 0.5, 1.0):
        for inplace in (False, True):
            t, e = pair(shape)
            seed_both(ndim * 10 + int(p * 10))
            same_outcome(lambda: getattr(TF, name)(t, p, True, inplace), lambda: getattr(EF, name)(e, p, True, inplace))
            if inplace and ndim in (1, 2, 3, 4, 5, 6):
                assert t.numpy().tobytes() == e.numpy().tobytes()  # the input itself changed as torch's did


@pytest.mark.parametrize("name", ["dropout1d", "dropout3d", "feature_alpha_dropout"])
def test_probability_checked_and_eval_identity(name):
    seed_both(0)
    for p in (-0.1, 1.5):
        same_outcome(
            lambda: getattr(TF, name)(torch.ones(2, 2, 2), p), lambda: getattr(EF, name)(ember.ones(2, 2, 2), p)
        )
    e = ember.ones(2, 3, 4)
    assert getattr(EF, name)(e, 0.5, False) is e


def test_modules_and_reprs():
    for cls, args in [
        ("Dropout1d", ()),
        ("Dropout3d", (0.2, True)),
        ("FeatureAlphaDropout", (0.3,)),
        ("RReLU", ()),
        ("RReLU", (0.1, 0.3, True)),
    ]:
        assert repr(getattr(ember.nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))
    t, e = pair((4, 5, 6))
    for cls, x in [("Dropout1d", (t, e)), ("Dropout3d", pair((2, 3, 2, 2, 2))), ("FeatureAlphaDropout", (t, e))]:
        tm, em = getattr(torch.nn, cls)(0.4), getattr(ember.nn, cls)(0.4)
        seed_both(5)
        same(tm(x[0]), em(x[1]))
        tm.eval(), em.eval()
        same(tm(x[0]), em(x[1]))
    seed_both(6)
    same(torch.nn.RReLU(0.1, 0.4)(t), ember.nn.RReLU(0.1, 0.4)(e))
    same(torch.nn.RReLU(0.1, 0.4).eval()(t), ember.nn.RReLU(0.1, 0.4).eval()(e))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_training_draws(dtype):
    t, e = pair((5, 7), dtype)  # float32 too: the bounds are rounded to float32 before the double arithmetic
    t[0, :3] = torch.tensor([0.0, -0.0, float("nan")], dtype=t.dtype)
    e[0, :3] = ember.tensor([0.0, -0.0, float("nan")], dtype=e.dtype)
    for lower, upper in [(0.125, 1 / 3), (0.1, 0.3), (0.2, 0.2), (0.0, 1.0)]:
        seed_both(7)
        same(TF.rrelu(t, lower, upper, True), EF.rrelu(e, lower, upper, True))
        same(TF.rrelu(t.t(), lower, upper, True), EF.rrelu(e.t(), lower, upper, True))  # memory order
        same(torch.rrelu(t, lower, upper, True), ember.rrelu(e, lower, upper, True))
        same(TF.rrelu(t, lower, upper), EF.rrelu(e, lower, upper))
    tc, ec = t.clone(), e.clone()
    seed_both(8)
    tr, er = TF.rrelu_(tc, training=True), EF.rrelu_(ec, training=True)
    assert tr is tc and er is ec
    same(tc, ec)
    tc, ec = t.clone(), e.clone()
    seed_both(8)
    same(torch.rrelu_(tc, 0.1, 0.2, True), ember.rrelu_(ec, 0.1, 0.2, True))


def test_rrelu_gradients_and_errors():
    seed_both(0)
    t, e = pair((4, 6), np.float64)
    for training in (True, False):
        tx, ex = t.clone().requires_grad_(), e.clone().requires_grad_()
        seed_both(9)
        ty, ey = TF.rrelu(tx, training=training), EF.rrelu(ex, training=training)
        same(ty, ey)
        ty.sum().backward()
        ey.sum().backward()
        np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())
    half = lambda lib: lib.ones(3, dtype=lib.float16)  # noqa: E731
    same_outcome(lambda: TF.rrelu(half(torch), training=True), lambda: EF.rrelu(half(ember), training=True))
    same_outcome(lambda: TF.rrelu(half(torch)), lambda: EF.rrelu(half(ember)))
    for dtype in ("int64", "bool"):
        for training in (True, False):
            same_outcome(
                lambda: TF.rrelu(torch.ones(3, dtype=getattr(torch, dtype)), training=training),
                lambda: EF.rrelu(ember.ones(3, dtype=getattr(ember, dtype)), training=training),
            )
    for training in (True, False):
        same_outcome(
            lambda: TF.rrelu(torch.ones(3), 0.5, 0.2, training), lambda: EF.rrelu(ember.ones(3), 0.5, 0.2, training)
        )


def test_review_cases_against_torch():
    # alpha dropout's mask follows a non-contiguous input's layout, as dropout's does
    x = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    seed_both(0)
    same(TF.alpha_dropout(torch.tensor(x).t(), 0.5, True), EF.alpha_dropout(ember.tensor(x).t(), 0.5, True))
    # in place on unbatched input that requires grad
    for tf, ef, shape in ((TF.dropout1d, EF.dropout1d, (2, 3)), (TF.dropout3d, EF.dropout3d, (2, 3, 4, 5))):
        seed_both(1)
        tl, el = torch.ones(shape, requires_grad=True), ember.ones(shape, requires_grad=True)
        same(tf(tl.mul(1), 0.5, True, inplace=True), ef(el.mul(1), 0.5, True, inplace=True))
    # an empty input draws nothing
    for tf, ef, shape in ((TF.dropout2d, EF.dropout2d, (4, 3, 0, 2)), (TF.dropout1d, EF.dropout1d, (4, 0, 2))):
        seed_both(2)
        same(tf(torch.ones(shape), 0.5, True), ef(ember.ones(shape), 0.5, True))
    # NaN probability and non-finite rrelu bounds
    same_outcome(
        lambda: TF.dropout(torch.ones(3), float("nan"), True), lambda: EF.dropout(ember.ones(3), float("nan"), True)
    )
    for lower, upper in ((float("inf"), 1.0), (0.1, float("nan"))):
        same_outcome(
            lambda: TF.rrelu(torch.ones(3), lower, upper, True), lambda: EF.rrelu(ember.ones(3), lower, upper, True)
        )

"""Floating-point edge cases stay quiet inside ember, as in torch, while NumPy warnings elsewhere still show."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember

X = np.array([1.0, 0.0, -1.0], dtype=np.float32)


def _edge_ops(lib):
    t = lib.tensor(X)
    return [
        t / 0,
        lib.log(t),
        t.reciprocal(),
        lib.tensor([1e30]) * 1e30,
        t.rsqrt(),
        lib.log1p(t - 2),
        lib.tensor([3e38, 3e38]).sum(),
        lib.exp(lib.tensor([100.0])),
        lib.tensor([0.0]).pow(-1),
    ]


def _edge_backward(lib):
    w = lib.tensor(X.copy(), requires_grad=True)
    (lib.log(w) * lib.sqrt(w)).sum().backward()
    opt = lib.optim.Adam([w], lr=0.1)
    opt.step()  # an inf / NaN gradient goes into the moments silently
    return [w.grad, w.detach()]


def test_division_by_zero_and_invalid_values_are_silent_like_torch():
    for make in (_edge_ops, _edge_backward):
        outs = {}
        for lib in (ember, torch):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # any warning raised would fail here
                outs[lib.__name__] = make(lib)
        for mine, theirs in zip(outs["ember"], outs["torch"]):
            np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())


def test_the_users_numpy_error_state_is_left_as_it_was():
    before = np.geterr()
    try:
        np.seterr(all="raise")
        assert ember.isinf(ember.tensor([1.0]) / 0).all()
        with pytest.raises(FloatingPointError, match="divide by zero encountered"):
            np.ones(1) / np.zeros(1)
        assert np.geterr()["divide"] == "raise"
    finally:
        np.seterr(**before)


def test_numpy_warnings_outside_ember_still_show():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.log(ember.tensor([0.0]))
        np.ones(1) / np.zeros(1)
    assert [str(w.message) for w in caught] == ["divide by zero encountered in divide"]


@pytest.mark.parametrize("fallbacks", ["", "errstate"])
def test_quiet_whatever_the_import_order_and_either_way_of_setting_the_error_state(fallbacks):
    code = (
        "import warnings\n"
        "with warnings.catch_warnings():\n"  # what pytest does at collection: a filter installed here would be lost
        "    import ember\n"
        "from ember import _quiet_floats\n"
        "t = ember.tensor([1.0, 0.0], requires_grad=True)\n"
        "(t / 0).sum(); ember.log(t).sum().backward()\n"
        "print(_quiet_floats.FAST)\n"
    )
    env = {**os.environ, "EMBER_FALLBACKS": fallbacks}
    run = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ("False" if fallbacks else "True")


@pytest.fixture
def numpy_raises():
    before = np.geterr()
    np.seterr(all="raise")
    yield
    np.seterr(**before)


def _numpy_division_by_zero():
    return np.ones(1) / np.zeros(1)


def test_user_callbacks_inside_backward_run_under_the_users_error_state(numpy_raises):
    """Hooks and custom Functions are the user's code: ember's quiet backward must not silence them."""
    x = ember.tensor([1.0, 0.0], requires_grad=True)
    handle = x.register_hook(lambda g: _numpy_division_by_zero())
    with pytest.raises(FloatingPointError, match="divide by zero encountered"):
        (x / 0).sum().backward()  # ember's own inf stays quiet; the hook's NumPy division raises
    handle.remove()

    class Reciprocal(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, g):
            _numpy_division_by_zero()
            return g

    with pytest.raises(FloatingPointError, match="divide by zero encountered"):
        Reciprocal.apply(ember.tensor([1.0], requires_grad=True)).sum().backward()
    y = ember.tensor([1.0, 0.0], requires_grad=True)
    ember.log(y).sum().backward()  # without user code in it, backward stays quiet
    assert np.isinf(y.grad.numpy()[1])


def test_an_optimizer_closure_runs_under_the_users_error_state(numpy_raises):
    p = ember.nn.Parameter(ember.tensor([1.0]))
    opt = ember.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        (p * 2).sum().backward()
        _numpy_division_by_zero()

    with pytest.raises(FloatingPointError, match="divide by zero encountered"):
        opt.step(closure)
    p.grad = ember.tensor([np.inf])
    opt.step()  # an infinite gradient updates quietly, as in torch
    assert np.isinf(p.detach().numpy()).all()

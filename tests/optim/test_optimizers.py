"""Every optimizer follows torch's trajectory on the same problem, for several option sets."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from _problem import make_arrays, make_params, to_numpy, train

import ember

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.5)}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.02, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-5}),
    ("Adagrad", {"maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"rho": 0.5, "weight_decay": 0.01}),
    ("Adadelta", {"lr": 0.5, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.4, 0.99), "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01}),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _run_both(name, kw, steps=25, dtype=np.float32):
    X, Y, weights = make_arrays(dtype)
    e_params = make_params(ember, weights)
    t_params = make_params(torch, weights)
    e_opt = getattr(ember.optim, name)(e_params, **kw)
    t_opt = getattr(torch.optim, name)(t_params, **kw)
    e_losses = train(ember, e_opt, e_params, X, Y, steps)
    t_losses = train(torch, t_opt, t_params, X, Y, steps)
    return e_opt, t_opt, e_params, t_params, e_losses, t_losses


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_trajectory_matches_torch(case):
    name, kw = case
    e_opt, t_opt, e_params, t_params, e_losses, t_losses = _run_both(name, kw)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-5, atol=1e-6)
    for e, t in zip(to_numpy(e_params), to_numpy(t_params)):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
    # state has the same keys and values as torch's, and none for the parameter without a grad
    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert sorted(e_sd["state"]) == sorted(t_sd["state"])
    for idx, t_state in t_sd["state"].items():
        e_state = e_sd["state"][idx]
        assert list(e_state) == list(t_state)
        for key, tv in t_state.items():
            ev = e_state[key]
            assert isinstance(ev, ember.Tensor)
            assert str(ev.dtype) == str(tv.dtype)
            scale = max(1.0, float(np.abs(tv.numpy()).max()))
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-4, atol=1e-5 * scale, err_msg=key)
    assert e_sd["param_groups"] == t_sd["param_groups"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
def test_float64_trajectory(name):
    kw = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    *_, e_params, t_params, e_losses, t_losses = _run_both(name, kw, dtype=np.float64)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-10)
    for e, t in zip(to_numpy(e_params), to_numpy(t_params)):
        assert e.dtype == np.float64
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_unused_parameter_is_skipped():
    e_opt, _, e_params, _, _, _ = _run_both("Adam", {"lr": 0.1}, steps=3)
    X, Y, weights = make_arrays()
    np.testing.assert_array_equal(e_params[4].detach().numpy(), weights[4])
    assert e_params[4] not in e_opt.state
    assert e_params[0] in e_opt.state


@pytest.mark.parametrize("name", sorted({n for n, _ in CASES}))
def test_parameters_after_one_without_a_gradient_are_updated(name):
    """A parameter with no gradient is skipped, and the ones listed after it in its group still step."""
    out = []
    for lib in (ember, torch):
        params = [lib.tensor([1.0, -2.0], requires_grad=True) for _ in range(3)]
        opt = getattr(lib.optim, name)(params, lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            (params[1] * params[1] + params[2] * 3).sum().backward()
            opt.step()
        assert params[0].grad is None
        out.append([p.detach().numpy().copy() for p in params])
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out[0][0], [1.0, -2.0])


@pytest.mark.parametrize("case", CASES[::3], ids=_ids)
def test_state_dict_round_trip_is_exact(case):
    name, kw = case
    X, Y, weights = make_arrays()
    full = make_params(ember, weights)
    opt = getattr(ember.optim, name)(full, **kw)
    train(ember, opt, full, X, Y, 25)

    first = make_params(ember, weights)
    opt1 = getattr(ember.optim, name)(first, **kw)
    train(ember, opt1, first, X, Y, 10)
    saved = copy.deepcopy(opt1.state_dict())
    resumed = make_params(ember, to_numpy(first))
    opt2 = getattr(ember.optim, name)(resumed, **kw)
    opt2.load_state_dict(saved)
    train(ember, opt2, resumed, X, Y, 15)
    for a, b in zip(to_numpy(full), to_numpy(resumed)):
        np.testing.assert_array_equal(a, b)


def _torch_to_ember(obj):
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _torch_to_ember(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_torch_to_ember(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_torch_to_ember(v) for v in obj)
    return obj


@pytest.mark.parametrize("case", CASES[1::3], ids=_ids)
def test_torch_state_dict_loads_into_ember(case):
    name, kw = case
    X, Y, weights = make_arrays()
    t_params = make_params(torch, weights)
    t_opt = getattr(torch.optim, name)(t_params, **kw)
    train(torch, t_opt, t_params, X, Y, 10)
    e_params = make_params(ember, to_numpy(t_params))
    e_opt = getattr(ember.optim, name)(e_params, **kw)
    e_opt.load_state_dict(_torch_to_ember(t_opt.state_dict()))
    assert e_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    train(torch, t_opt, t_params, X, Y, 15)
    train(ember, e_opt, e_params, X, Y, 15)
    for e, t in zip(to_numpy(e_params), to_numpy(t_params)):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_param_groups_with_own_hyperparameters():
    X, Y, weights = make_arrays()
    results = []
    for lib in (ember, torch):
        params = make_params(lib, weights)
        groups = [{"params": params[:2], "lr": 0.05}, {"params": params[2:4], "momentum": 0.5}]
        opt = lib.optim.SGD(groups, lr=0.1, momentum=0.9)
        train(lib, opt, params, X, Y, 20)
        results.append(to_numpy(params))
        assert [g["lr"] for g in opt.param_groups] == [0.05, 0.1]
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_tensor_lr_and_closure():
    X, Y, weights = make_arrays()
    out = []
    for lib in (ember, torch):
        params = make_params(lib, weights)
        opt = lib.optim.Adam(params, lr=lib.tensor(0.01))
        Xt, Yt = lib.tensor(X), lib.tensor(Y)

        def closure(lib=lib, params=params, opt=opt, Xt=Xt, Yt=Yt):
            opt.zero_grad()
            loss = (((lib.tanh(Xt @ params[0] + params[1]) @ params[2] + params[3]) - Yt) ** 2).mean()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(10)]
        out.append((losses, to_numpy(params)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-5)
    for e, t in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_step_updates_in_place_and_bumps_version():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    data = w._data
    opt = ember.optim.Adam([w], lr=0.1)
    w.grad = ember.tensor([0.5, -0.5])
    v0 = w._version.value
    opt.step()
    assert w._data is data
    assert w._version.value == v0 + 1
    assert not w.grad_fn and w.requires_grad


def test_step_runs_without_recording_a_graph():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    (w * w).sum().backward()
    opt.step()
    assert w.grad_fn is None and w.is_leaf
    assert opt.state[w]["momentum_buffer"].grad_fn is None

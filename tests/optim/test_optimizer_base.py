"""Optimizer base behaviour: construction errors, param groups, zero_grad, repr, hooks, state_dict layout."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember


def _both(fn):
    """Run fn(lib) on both libraries; both must raise the same exception type and message."""
    errs = []
    for lib in (torch, ember):
        try:
            fn(lib)
        except Exception as exc:  # noqa: BLE001 - compared below
            errs.append(exc)
        else:
            errs.append(None)
    t_exc, e_exc = errs
    assert t_exc is not None, "torch did not raise"
    assert e_exc is not None, f"ember did not raise; torch raised {t_exc!r}"
    assert type(e_exc) is type(t_exc), f"{e_exc!r} vs torch {t_exc!r}"
    assert str(e_exc) == str(t_exc)


def _leaf(lib, n=3):
    return lib.zeros(n, requires_grad=True)


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.optim.SGD([], lr=0.1),
        lambda lib: lib.optim.SGD([_leaf(lib)], lr=-0.1),
        lambda lib: lib.optim.Adam([_leaf(lib)], lr=-1e-3),
        lambda lib: lib.optim.Adam([_leaf(lib)], betas=(1.0, 0.9)),
        lambda lib: lib.optim.Adam([_leaf(lib)], betas=(0.9, -0.1)),
        lambda lib: lib.optim.Adam([_leaf(lib)], eps=-1.0),
        lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, momentum=-1),
        lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, nesterov=True),
        lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, weight_decay=-1),
        lambda lib: lib.optim.RMSprop([_leaf(lib)], alpha=-0.5),
        lambda lib: lib.optim.Adagrad([_leaf(lib)], lr_decay=-1),
        lambda lib: lib.optim.Adadelta([_leaf(lib)], rho=1.5),
        lambda lib: lib.optim.SGD(_leaf(lib), lr=0.1),
        lambda lib: lib.optim.SGD([_leaf(lib) * 2], lr=0.1),
        lambda lib: lib.optim.SGD([1.0], lr=0.1),
        lambda lib: lib.optim.SGD([{"params": {_leaf(lib)}}], lr=0.1),
        lambda lib: lib.optim.SGD([{"params": [_leaf(lib)]}, "x"], lr=0.1),
    ],
)
def test_construction_errors_match_torch(build):
    _both(build)


def test_invalid_lr_message():
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -0.1$"):
        ember.optim.SGD([_leaf(ember)], lr=-0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.Adam([])


def test_parameter_in_two_groups_is_an_error():
    def build(lib):
        p = _leaf(lib)
        lib.optim.SGD([{"params": [p]}, {"params": [p, _leaf(lib)]}], lr=0.1)

    _both(build)

    w = _leaf(ember)
    opt = ember.optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})


def test_duplicate_within_a_group_warns():
    w = _leaf(ember)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([w, w], lr=0.1)


def test_add_param_group_fills_defaults_and_accepts_a_tensor():
    a, b = _leaf(ember), _leaf(ember, 2)
    opt = ember.optim.Adam([a], lr=0.01, weight_decay=0.1)
    opt.add_param_group({"params": b, "lr": 0.5})
    g = opt.param_groups[1]
    assert g["params"] == [b] or g["params"][0] is b
    assert g["lr"] == 0.5 and g["weight_decay"] == 0.1 and g["betas"] == (0.9, 0.999)
    assert opt.defaults["lr"] == 0.01


def test_named_parameters_are_recorded():
    a, b = _leaf(ember), _leaf(ember, 2)
    opt = ember.optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_zero_grad_to_none_and_to_zero():
    w = _leaf(ember)
    opt = ember.optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g
    np.testing.assert_array_equal(w.grad.numpy(), 0)
    opt.zero_grad()
    assert w.grad is None


def test_repr_matches_torch():
    reprs = [repr(lib.optim.SGD([_leaf(lib)], lr=0.1, momentum=0.9)) for lib in (ember, torch)]
    assert reprs[0] == reprs[1]
    reprs = [repr(lib.optim.AdamW([_leaf(lib)])) for lib in (ember, torch)]
    assert reprs[0] == reprs[1]


def test_defaults_match_torch():
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"]:
        kw = {"lr": 0.1} if name == "SGD" else {}
        e = getattr(ember.optim, name)([_leaf(ember)], **kw)
        t = getattr(torch.optim, name)([_leaf(torch)], **kw)
        assert e.defaults == t.defaults, name
        assert list(e.defaults) == list(t.defaults), name


def test_state_is_keyed_by_parameter():
    w = _leaf(ember)
    opt = ember.optim.Adam([w])
    assert len(opt.state) == 0
    w.grad = ember.ones(3)
    opt.step()
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    assert opt.state[w]["step"].item() == 1.0


def test_adagrad_creates_state_at_construction_like_torch():
    e = ember.optim.Adagrad([_leaf(ember)], initial_accumulator_value=0.5).state_dict()
    t = torch.optim.Adagrad([_leaf(torch)], initial_accumulator_value=0.5).state_dict()
    assert list(e["state"][0]) == list(t["state"][0])
    np.testing.assert_array_equal(e["state"][0]["sum"].numpy(), t["state"][0]["sum"].numpy())


def test_state_dict_layout_matches_torch():
    sds = []
    for lib in (ember, torch):
        a, b, c = _leaf(lib, 2), _leaf(lib, 3), _leaf(lib, 4)
        opt = lib.optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
        for p in (a, c):
            p.grad = lib.ones(p.shape)
        opt.step()
        sds.append(opt.state_dict())
    e, t = sds
    assert e["param_groups"] == t["param_groups"]
    assert list(e["state"]) == list(t["state"]) == [0, 2]
    for k in (0, 2):
        np.testing.assert_array_equal(e["state"][k]["momentum_buffer"].numpy(), t["state"][k]["momentum_buffer"])


def test_load_state_dict_errors():
    a = _leaf(ember)
    opt = ember.optim.SGD([a], lr=0.1)
    other = ember.optim.SGD([{"params": [_leaf(ember)]}, {"params": [_leaf(ember)]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    two = ember.optim.SGD([_leaf(ember), _leaf(ember)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(two.state_dict())


def test_load_state_dict_accepts_a_plain_number_step():
    w = _leaf(ember)
    opt = ember.optim.Adam([w])
    w.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 7
    fresh = ember.optim.Adam([w])
    fresh.load_state_dict(sd)
    step = fresh.state[w]["step"]
    assert isinstance(step, ember.Tensor) and step.dtype == ember.float32 and step.item() == 7.0


def test_step_hooks_run_in_order():
    w = _leaf(ember)
    opt = ember.optim.SGD([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    w.grad = ember.ones(3)
    opt.step()
    assert calls == ["pre", "post"]
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


def test_custom_optimizer_subclass():
    class Plain(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    w = _leaf(ember)
    opt = Plain([w])
    (w + 1).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), -0.1)

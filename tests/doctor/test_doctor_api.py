"""The Doctor API the trainer relies on: state_dict for exact resume, hooks and their removal, sampling cost,
raw-tensor mode, reports, and clear errors."""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest
from doctor_helpers import by_key, digits, mlp, train

import ember
from ember import nn
from ember.doctor import Doctor, Finding
from ember.optim import optimizer as optimizer_module


def problem_model():
    """A model with findings of several kinds (partly dead ReLUs, randn-initialised weights)."""
    model = mlp([64, 128, 64, 10])
    with ember.no_grad():
        model[0].bias[:80].fill_(-8.0)
        model[2].weight.copy_(ember.randn(64, 128))
    return model


def plain(value) -> bool:
    """Whether value is made only of dicts, lists, str, int, float, bool and None."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


# ---------------------------------------------------------------------------- state_dict / resume
def run_steps(model, opt, doctor, first: int, last: int) -> None:
    """Steps first..last-1 of a loop that calls doctor.step before optimizer.step; batch k is the same in every run."""
    x, y = digits()
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, x.shape[0], 64) for _ in range(last)]
    for idx in batches[first:]:
        idx = ember.tensor(idx)
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        doctor.step(loss, opt)
        opt.step()


def test_state_dict_round_trip_resumes_to_identical_findings(tmp_path):
    ember.manual_seed(0)
    full_model = problem_model()
    full = Doctor(full_model, every=7)
    full_opt = ember.optim.SGD(full_model.parameters(), lr=0.02)
    run_steps(full_model, full_opt, full, 0, 113)
    state_after_next_sample = full.state_dict()
    run_steps(full_model, full_opt, full, 113, 150)

    ember.manual_seed(0)
    model = problem_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.02)
    first = Doctor(model, every=7)
    # stop before step 105, a sampled one after the warm-up: the update measured around the last optimizer step
    # is still pending and will be judged
    run_steps(model, opt, first, 0, 105)
    state = first.state_dict()
    assert state["pending_update"] and state["step"] == 105
    assert plain(state)
    json.dumps(state)  # plain enough for JSON as well
    path = tmp_path / "ckpt.pt"
    ember.save({"model": model.state_dict(), "opt": opt.state_dict(), "doctor": state}, path)
    first.close()

    ckpt = ember.load(path)
    resumed_model = mlp([64, 128, 64, 10])
    resumed_model.load_state_dict(ckpt["model"])
    resumed_opt = ember.optim.SGD(resumed_model.parameters(), lr=0.02)
    resumed_opt.load_state_dict(ckpt["opt"])
    doctor = Doctor(resumed_model, every=7)
    doctor.load_state_dict(ckpt["doctor"])
    assert doctor.steps == 105
    run_steps(resumed_model, resumed_opt, doctor, 105, 113)
    assert doctor.state_dict() == state_after_next_sample
    run_steps(resumed_model, resumed_opt, doctor, 113, 150)

    assert [f.to_dict() for f in doctor.findings()] == [f.to_dict() for f in full.findings()]
    assert doctor.state_dict() == full.state_dict()
    assert {f.kind for f in full.findings()} >= {"dead_relu", "bad_init"}
    assert doctor.report() == full.report()


def test_load_state_dict_rejects_foreign_state():
    doctor = Doctor(mlp([64, 8, 10]))
    with pytest.raises(ValueError, match="not a doctor state"):
        doctor.load_state_dict({"step": 3})
    other = Doctor(nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()))
    other._order = ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match=r"layer\(s\) 3 that this doctor does not watch"):
        doctor.load_state_dict(other.state_dict())


# ---------------------------------------------------------------------------- hooks and cost
def test_close_removes_every_hook():
    model = mlp([64, 16, 10])
    before_pre, before_post = len(optimizer_module._GLOBAL_PRE_HOOKS), len(optimizer_module._GLOBAL_POST_HOOKS)
    doctor = Doctor(model)
    assert all(len(m._forward_hooks) == 1 for m in model)  # Linear, ReLU, Linear
    assert len(optimizer_module._GLOBAL_PRE_HOOKS) == before_pre + 1
    doctor.close()
    assert all(len(m._forward_hooks) == 0 for m in model)
    assert len(optimizer_module._GLOBAL_PRE_HOOKS) == before_pre
    assert len(optimizer_module._GLOBAL_POST_HOOKS) == before_post
    doctor.close()  # twice is fine


def test_context_manager_closes_and_findings_stay_readable():
    model = mlp([64, 16, 10])
    with Doctor(model, every=1) as doctor:
        train(model, ember.optim.SGD(model.parameters(), lr=0.01), 3, doctor=doctor)
    assert all(len(m._forward_hooks) == 0 for m in model)
    assert doctor.findings() == []
    assert "closed" in repr(doctor)


def test_a_dropped_doctor_leaves_no_global_optimizer_hook():
    gc.collect()  # doctors of earlier tests, dropped without close()
    before = len(optimizer_module._GLOBAL_POST_HOOKS)
    doctor = Doctor(params={"w": ember.randn(3, 3, requires_grad=True)})
    assert len(optimizer_module._GLOBAL_POST_HOOKS) == before + 1
    del doctor
    gc.collect()
    assert len(optimizer_module._GLOBAL_POST_HOOKS) == before


def test_only_sampled_steps_do_any_measuring(monkeypatch):
    from ember.doctor import doctor as doctor_module

    calls = {"summarise": 0, "norm": 0}
    real_summarise, real_norm = doctor_module.summarise_output, doctor_module.norm

    def counting_summarise(*args):
        calls["summarise"] += 1
        return real_summarise(*args)

    def counting_norm(a):
        calls["norm"] += 1
        return real_norm(a)

    monkeypatch.setattr(doctor_module, "summarise_output", counting_summarise)
    monkeypatch.setattr(doctor_module, "norm", counting_norm)
    model = mlp([64, 16, 10])  # 3 watched modules, 2 weights
    train(model, ember.optim.SGD(model.parameters(), lr=0.01), 30, every=10)
    assert calls["summarise"] == 3 * 3  # steps 0, 10, 20 only
    # per sampled step: 2 gradient norms, and 2 x 2 norms for the update sizes around the optimizer step
    assert calls["norm"] == 3 * (2 + 4)


def test_evaluation_passes_are_not_sampled():
    model = mlp([64, 16, 10])
    doctor = Doctor(model, every=1)
    x, _ = digits()
    model.eval()
    with ember.no_grad():
        model(x[:8])
    assert doctor._records == {} and doctor._recent == {}
    model.train()
    with ember.no_grad():
        model(x[:8])
    assert doctor._records == {}


def test_doctor_step_before_optimizer_step_works_too():
    model = problem_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.02)
    doctor = Doctor(model, every=5)
    x, y = digits()
    loss_fn = nn.CrossEntropyLoss()
    for i in range(20):
        loss = loss_fn(model(x[i * 32 : i * 32 + 32]), y[i * 32 : i * 32 + 32])
        opt.zero_grad()
        loss.backward()
        doctor.step(loss, opt)
        opt.step()
    assert {"dead_relu", "bad_init"} <= {f.kind for f in doctor.findings()}
    assert doctor._memo.get("max_norms")


# ---------------------------------------------------------------------------- findings and report
def test_findings_are_deduplicated_and_keep_the_first_step():
    model = problem_model()
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.02), 40, every=5)
    found = doctor.findings()
    keys = [(f.kind, f.layer) for f in found]
    assert len(keys) == len(set(keys))
    dead = by_key(doctor)[("dead_relu", "1")]
    assert dead.step == 10 and dead.data["last_step"] == 35  # first seen, then confirmed at every later sample


def test_messages_name_the_layer_and_report_lists_them():
    model = problem_model()
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.02), 20, every=5)
    found = doctor.findings()
    assert found
    for f in found:
        if f.layer is not None:
            assert f"layer {f.layer}" in f.message.lower()
    report = doctor.report()
    assert report.startswith(f"Training doctor: {len(found)} problems found in 20 steps (sampled every 5):")
    for i, f in enumerate(found, start=1):
        assert f"\n{i}. {f.severity.capitalize()}: {f.title} in layer {f.layer}" in report


def test_finding_round_trip_and_text():
    f = Finding("dead_relu", "warning", "60% of the units are dead.", "use LeakyReLU.", "act1", 40, {"x": 1.5})
    assert Finding.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    text = str(f)
    assert "\n" not in text
    assert text == (
        "Warning: dead ReLU units in layer act1 (first seen at step 40). 60% of the units are dead. Try: use LeakyReLU."
    )
    assert str(Finding("loss_not_decreasing", "warning", "stalled.", "wait.")).startswith(
        "Warning: loss not decreasing. Stalled."
    )


def test_finding_rejects_unknown_kind_and_incomplete_dicts():
    with pytest.raises(ValueError, match="kind must be one of"):
        Finding("sad", "warning", "m", "s")
    with pytest.raises(ValueError, match="severity must be"):
        Finding("nan", "fatal", "m", "s")
    with pytest.raises(ValueError, match="missing key"):
        Finding.from_dict({"kind": "nan"})


# ---------------------------------------------------------------------------- raw tensors and errors
def test_raw_tensor_mode_watches_gradients_and_update_sizes():
    w1 = ember.randn(32, 64, requires_grad=True)
    b1 = ember.zeros(32, requires_grad=True)
    w2 = ember.randn(10, 32, requires_grad=True)
    with ember.no_grad():
        w1.mul_(0.1)
        w2.mul_(0.1)
    opt = ember.optim.SGD([w1, b1, w2], lr=1e-8)
    doctor = Doctor(params={"w1": w1, "b1": b1, "w2": w2}, every=5)
    x, y = digits()
    loss_fn = nn.CrossEntropyLoss()
    for i in range(110):
        j = (i * 64) % 1344
        loss = loss_fn(ember.relu(x[j : j + 64] @ w1.t() + b1) @ w2.t(), y[j : j + 64])
        opt.zero_grad()
        loss.backward()
        opt.step()
        doctor.step(loss, opt)
    assert [f.kind for f in doctor.findings()] == ["lr_too_low"]
    assert doctor._memo["max_norms"]  # gradients were read through p.grad


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": None}, TypeError, "needs a model"),
        ({"model": {"w": 1}}, TypeError, r"expects an nn.Module, got dict \(for raw tensors use Doctor\(params="),
        ({"model": nn.Linear(2, 2), "params": {}}, ValueError, "not both"),
        ({"model": nn.Linear(2, 2), "every": 0}, ValueError, "positive integer"),
        ({"params": {"w": np.ones((2, 2))}}, TypeError, "'w' is a ndarray, not a tensor"),
        ({"params": [1, 2]}, TypeError, "expects a dict of name -> tensor"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Doctor(**kwargs)


def test_step_rejects_a_non_number_loss():
    doctor = Doctor(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="loss must be a tensor or a number, got str"):
        doctor.step("0.5")
    with pytest.raises(TypeError, match="expected an optimizer, got int"):
        doctor.step(0.5, optimizer=3)


def test_the_report_gives_one_paragraph_per_kind_and_takes_advice_in_other_words():
    import ember
    from ember.doctor import Doctor

    nn = ember.nn
    model = nn.Sequential(
        nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)
    )  # (output layer last)
    for layer in (model[0], model[2]):
        ember.nn.init.zeros_(layer.weight)
        ember.nn.init.uniform_(layer.bias, 0.5, 1.0)  # so the second layer sees inputs too
    doctor = Doctor(model, every=1)
    loss = model(ember.randn(16, 8)).pow(2).mean()
    loss.backward()
    doctor.step(loss)
    report = " ".join(doctor.report().split())
    assert report.count("bad initialisation") == 1 and "The same in layer 2." in report
    custom = " ".join(doctor.report(advice={"bad_init": "ask a friend."}).split())
    assert "Try: ask a friend. The same in layer 2." in custom

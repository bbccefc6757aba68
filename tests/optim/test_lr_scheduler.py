"""Learning-rate schedules produce exactly torch's sequence of learning rates."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import ember

STEPS = 40


def _opt(lib, name="SGD", groups=1):
    params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    pg = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
    if name == "SGD":
        return lib.optim.SGD(pg, lr=0.1, momentum=0.9)
    return getattr(lib.optim, name)(pg, lr=0.1)


def _lambda(epoch):
    return 0.95**epoch


SCHEDULES = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=_lambda),
    "LambdaLR-list": lambda s, o: s.LambdaLR(o, lr_lambda=[_lambda, lambda e: 1 / (e + 1)]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=6),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=9, eta_min=0.001),
    "CosineAnnealingLR-long": lambda s, o: s.CosineAnnealingLR(o, T_max=25),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts-1": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
    "LinearLR-default": lambda s, o: s.LinearLR(o),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=20, power=2.0),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=5), s.CosineAnnealingLR(o, T_max=20)], milestones=[5]
    ),
    "SequentialLR-3": lambda s, o: s.SequentialLR(
        o,
        [s.ConstantLR(o, factor=0.5, total_iters=3), s.ExponentialLR(o, gamma=0.9), s.StepLR(o, 4)],
        milestones=[6, 15],
    ),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ExponentialLR(o, gamma=0.9), s.StepLR(o, 5, 0.5)]),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS + 1),
    "OneCycleLR-linear-3phase": lambda s, o: s.OneCycleLR(
        o, max_lr=[0.5, 2.0], epochs=5, steps_per_epoch=9, anneal_strategy="linear", three_phase=True
    ),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode="triangular2"),
    "CyclicLR-exp": lambda s, o: s.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="exp_range", gamma=0.95
    ),
}


def _sequence(lib, key, opt_name="SGD"):
    opt = _opt(lib, opt_name, groups=2)
    sched = SCHEDULES[key](lib.optim.lr_scheduler, opt)
    lrs = [list(sched.get_last_lr())]
    moms = []
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append([g.get("momentum", g.get("betas")) for g in opt.param_groups])
    return lrs, moms, [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("key", list(SCHEDULES))
def test_sequence_identical_to_torch(key):
    e_lrs, e_moms, e_final = _sequence(ember, key)
    t_lrs, t_moms, t_final = _sequence(torch, key)
    assert e_lrs == t_lrs
    assert e_moms == t_moms
    assert e_final == t_final


@pytest.mark.parametrize("key", ["OneCycleLR", "CyclicLR"])
def test_beta1_cycling_with_adam(key):
    e = _sequence(ember, key, "Adam")
    t = _sequence(torch, key, "Adam")
    assert e == t


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mode": "max", "factor": 0.5, "patience": 2},
        {"patience": 1, "threshold": 0.1, "threshold_mode": "abs", "cooldown": 2, "min_lr": 0.02},
        {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [0.05, 0.001]},
    ],
)
def test_reduce_on_plateau_identical_to_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.8, 0.8, 0.8, 0.8, 0.81, 1.2, 0.5] * 3 + [0.5] * 12
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib, groups=2)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(m)
            seq.append((list(sched.get_last_lr()), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_reduce_on_plateau_errors():
    for lib in (ember, torch):
        opt = _opt(lib)
        with pytest.raises(ValueError, match="Factor should be < 1.0."):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
        with pytest.raises(ValueError, match="mode avg is unknown!"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="avg")


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR", "LinearLR"])
def test_state_dict_round_trip(key):
    lib = ember
    opt = _opt(lib, groups=2)
    sched = SCHEDULES[key](lib.optim.lr_scheduler, opt)
    for _ in range(10):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    opt_sd = opt.state_dict()
    assert "optimizer" not in sd

    opt2 = _opt(lib, groups=2)
    sched2 = SCHEDULES[key](lib.optim.lr_scheduler, opt2)
    sched2.load_state_dict(sd)
    opt2.load_state_dict(opt_sd)
    for _ in range(15):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_state_dict_keys_match_torch():
    for key in ["StepLR", "OneCycleLR", "CosineAnnealingWarmRestarts"]:
        sds = []
        for lib in (ember, torch):
            opt = _opt(lib)
            sched = SCHEDULES[key](lib.optim.lr_scheduler, opt)
            opt.step()
            sched.step()
            sds.append(sched.state_dict())
        assert sorted(sds[0]) == sorted(sds[1]), key
        assert sds[0]["base_lrs"] == sds[1]["base_lrs"]
        assert sds[0]["last_epoch"] == sds[1]["last_epoch"] == 1


def test_initial_lr_recorded_and_required_when_resuming():
    opt = _opt(ember)
    ember.optim.lr_scheduler.StepLR(opt, 3)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(_opt(ember), 3, last_epoch=4)


def test_step_before_optimizer_step_warns():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _opt(ember)
    sched2 = ember.optim.lr_scheduler.StepLR(opt2, 3)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ember.optim.lr_scheduler.StepLR(object(), 3)


def test_epoch_argument_uses_closed_form():
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [1, 5, 9, 2]:
                opt.step()
                sched.step(epoch)
                out.append(sched.get_last_lr()[0])
        seqs.append(out)
    assert seqs[0] == seqs[1]
    assert math.isclose(seqs[0][2], 0.1 * 0.5**3)


def test_cosine_annealing_resumed_at_a_later_epoch_matches_torch():
    """Built with last_epoch > 0 (groups carrying initial_lr); get_lr() called before the first step() gives
    the closed form's value."""
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib, groups=2)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01, last_epoch=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # get_lr() outside step() warns
            out = [sched.get_last_lr(), sched.get_lr()]
        for _ in range(4):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        seqs.append(out)
    assert seqs[0] == seqs[1]


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_stepped_to_given_epochs_match_torch(T_mult):
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=T_mult, eta_min=0.001)
        out = []
        for epoch in [1, 4, 5.5, 8, 13, 30, 2]:
            opt.step()
            sched.step(epoch)
            out.append((sched.get_last_lr()[0], sched.T_i, sched.T_cur))
        seqs.append(out)
    assert seqs[0] == seqs[1]

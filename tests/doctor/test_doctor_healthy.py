"""Healthy training runs on the digits: the doctor must stay silent (no false alarms) and warn about nothing."""

from __future__ import annotations

import pytest
from doctor_helpers import mlp, train

import ember
from ember import nn

pytestmark = pytest.mark.filterwarnings("error")  # the doctor itself must not warn either


def adam(lr):
    return lambda params: ember.optim.Adam(params, lr=lr)


def sgd(lr, momentum=0.0):
    return lambda params: ember.optim.SGD(params, lr=lr, momentum=momentum)


HEALTHY = {
    "default init, Adam 1e-3": ([64, 128, 64, 10], nn.ReLU, None, adam(1e-3)),
    "default init, SGD 0.1": ([64, 128, 64, 10], nn.ReLU, None, sgd(0.1)),
    "kaiming, SGD momentum": ([64, 128, 64, 10], nn.ReLU, nn.init.kaiming_normal_, sgd(0.05, 0.9)),
    "xavier + tanh, Adam": ([64, 128, 64, 10], nn.Tanh, nn.init.xavier_normal_, adam(1e-3)),
    "default + sigmoid, Adam": ([64, 128, 64, 10], nn.Sigmoid, None, adam(1e-3)),
    "default + GELU, AdamW": ([64, 128, 64, 10], nn.GELU, None, lambda p: ember.optim.AdamW(p, lr=1e-3)),
    "deep kaiming ReLU, Adam": ([64] + [64] * 6 + [10], nn.ReLU, nn.init.kaiming_normal_, adam(1e-3)),
}


@pytest.mark.parametrize("name", list(HEALTHY))
def test_healthy_run_has_no_findings(name):
    sizes, act, init, make_opt = HEALTHY[name]
    model = mlp(sizes, act=act, init=init)
    # 130 steps (about 6 epochs at batch 64), sampled every 5 steps: many chances for a false alarm
    doctor = train(model, make_opt(model.parameters()), 130, every=5)
    assert doctor.findings() == [], doctor.report()
    assert doctor.report() == "Training doctor: no problems found in 130 steps (sampled every 5)."


def test_healthy_run_learns():
    """The healthy reference really trains (so silence is not just a dead loop)."""
    model = mlp([64, 128, 64, 10])
    losses = []
    nn_loss = nn.CrossEntropyLoss()

    def loss_fn(out, target):
        loss = nn_loss(out, target)
        losses.append(loss.item())
        return loss

    doctor = train(model, ember.optim.Adam(model.parameters(), lr=1e-3), 130, every=20, loss_fn=loss_fn)
    assert sum(losses[-20:]) / 20 < 0.5 * sum(losses[:20]) / 20
    assert doctor.findings() == []

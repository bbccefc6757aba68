"""Initializers: bounds and statistics against torch's formulas, fan rules, gains, errors."""

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import init


def big(*shape):
    return ember.empty(*shape)


@pytest.mark.parametrize(
    "nonlinearity,param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
            lib.nn.init.calculate_gain("swish")
        with pytest.raises(ValueError, match="negative_slope True not a valid number"):
            lib.nn.init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 3, 2, 2), (2, 3, 1, 2, 2)])
def test_fan_rules(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(*shape)
    )
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            lib.nn.init.xavier_uniform_(lib.empty(5))


def _check_uniform(arr, bound):
    assert np.abs(arr).max() <= bound
    assert np.abs(arr).max() > 0.99 * bound
    assert abs(arr.mean()) < 0.02 * bound
    assert abs(arr.std() - bound / math.sqrt(3)) < 0.02 * bound


def _check_normal(arr, std, mean=0.0):
    assert abs(arr.mean() - mean) < 0.02 * std + 1e-3
    assert abs(arr.std() - std) < 0.02 * std


def test_uniform_normal_constant():
    t = init.uniform_(big(300, 300), -2, 3)
    a = t.numpy()
    assert a.min() >= -2 and a.max() <= 3 and abs(a.mean() - 0.5) < 0.05
    _check_normal(init.normal_(big(300, 300), 1.5, 0.5).numpy(), 0.5, 1.5)
    assert np.all(init.constant_(big(3, 3), 0.7).numpy() == np.float32(0.7))
    assert np.all(init.ones_(big(2)).numpy() == 1) and np.all(init.zeros_(big(2)).numpy() == 0)
    assert np.array_equal(init.eye_(big(3, 4)).numpy(), np.eye(3, 4))


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    t = big(400, 200)
    assert init.xavier_uniform_(t, gain=gain) is t
    _check_uniform(t.numpy(), gain * math.sqrt(6.0 / 600))
    _check_normal(init.xavier_normal_(big(400, 200), gain=gain).numpy(), gain * math.sqrt(2.0 / 600))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (300, 100, 3)
    fan = 100 * 3 if mode == "fan_in" else 300 * 3
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    _check_uniform(
        init.kaiming_uniform_(big(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy(), math.sqrt(3) * std
    )
    _check_normal(init.kaiming_normal_(big(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy(), std)


def test_kaiming_bad_mode_and_empty_tensor():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Mode fan_avg not supported"):
            lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="fan_avg")
        with pytest.warns(UserWarning, match="no-op"):
            lib.nn.init.kaiming_uniform_(lib.empty(0, 3))


def test_trunc_normal():
    a = init.trunc_normal_(big(400, 400), mean=0.5, std=1.0, a=-1.0, b=2.0).numpy()
    assert a.min() >= -1.0 and a.max() <= 2.0
    tt = torch.nn.init.trunc_normal_(torch.empty(400, 400), mean=0.5, std=1.0, a=-1.0, b=2.0).numpy()
    assert abs(a.mean() - tt.mean()) < 0.02 and abs(a.std() - tt.std()) < 0.02


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(big(*shape), gain=2.0)
    m = t.numpy().reshape(shape[0], -1)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, 4 * np.eye(m.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(m.T @ m, 4 * np.eye(m.shape[1]), atol=1e-5)


def test_dirac():
    e = init.dirac_(big(4, 2, 3, 3)).numpy()
    t = torch.nn.init.dirac_(torch.empty(4, 2, 3, 3)).numpy()
    assert np.array_equal(e, t)
    assert np.array_equal(
        init.dirac_(big(4, 2, 3), groups=2).numpy(), torch.nn.init.dirac_(torch.empty(4, 2, 3), groups=2).numpy()
    )


def test_generator_makes_init_reproducible_and_grad_is_not_recorded():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    a = init.kaiming_normal_(big(5, 5), generator=g1)
    b = init.kaiming_normal_(big(5, 5), generator=g2)
    assert np.array_equal(a.numpy(), b.numpy())
    p = ember.nn.Parameter(ember.empty(3, 3))
    out = init.xavier_uniform_(p)
    assert out is p and p.grad_fn is None and p.is_leaf and p.requires_grad

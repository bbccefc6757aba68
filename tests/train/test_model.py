"""build_model / build_loss / build_optimizer / build_scheduler, checked against PyTorch as the oracle."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.train import load_config
from ember.train.model import build_loss, build_model, build_optimizer, build_scheduler


def cfg_with(**overrides):
    return load_config(None, {k.replace("__", "."): v for k, v in overrides.items()})


TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky_relu": torch.nn.LeakyReLU,
    "elu": torch.nn.ELU,
    "gelu": torch.nn.GELU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "silu": torch.nn.SiLU,
}


def torch_mlp(in_features, hidden, classes, activation="relu", batch_norm=False, dropout=0.0, log_softmax=False):
    """The same MLP written directly in PyTorch."""
    layers, width = [], in_features
    for k, size in enumerate(hidden, start=1):
        layers.append((f"fc{k}", torch.nn.Linear(width, size)))
        if batch_norm:
            layers.append((f"bn{k}", torch.nn.BatchNorm1d(size)))
        layers.append((f"act{k}", TORCH_ACTIVATIONS[activation]()))
        if dropout:
            layers.append((f"drop{k}", torch.nn.Dropout(dropout)))
        width = size
    layers.append(("out", torch.nn.Linear(width, classes)))
    if log_softmax:
        layers.append(("log_softmax", torch.nn.LogSoftmax(dim=1)))
    return torch.nn.Sequential(OrderedDict(layers))


@pytest.mark.parametrize(
    "overrides, torch_kwargs",
    [
        ({}, {}),
        ({"model.hidden": "32", "model.activation": "tanh"}, {"hidden": [32], "activation": "tanh"}),
        (
            {"model.batch_norm": True, "model.dropout": 0.25, "model.activation": "gelu", "train.loss": "nll"},
            {"batch_norm": True, "dropout": 0.25, "activation": "gelu", "log_softmax": True},
        ),
        ({"model.hidden": "", "model.activation": "leaky_relu"}, {"hidden": []}),
    ],
)
def test_model_repr_matches_pytorch(overrides, torch_kwargs):
    cfg = load_config(None, overrides)
    kwargs = {"hidden": [128, 64], **torch_kwargs}
    assert repr(build_model(cfg, 64, 10)) == repr(torch_mlp(64, kwargs.pop("hidden"), 10, **kwargs))


def test_same_seed_same_weights_and_outputs_match_pytorch():
    cfg = cfg_with(model__batch_norm=True, model__hidden="16,8")
    a, b = build_model(cfg, 12, 3), build_model(cfg, 12, 3)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    other = build_model(cfg_with(train__seed=1, model__batch_norm=True, model__hidden="16,8"), 12, 3)
    assert not np.array_equal(other.fc1.weight.detach().numpy(), a.fc1.weight.detach().numpy())
    # the PyTorch twin with the same weights computes the same outputs
    twin = torch_mlp(12, [16, 8], 3, batch_norm=True)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in a.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)
    a.eval(), twin.eval()
    np.testing.assert_allclose(
        a(ember.from_numpy(x)).detach().numpy(), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def weight_stats(init, activation, layer="fc1", seed=0):
    cfg = cfg_with(model__init=init, model__activation=activation, model__hidden="400,300", train__seed=seed)
    model = build_model(cfg, 500, 10)
    w = getattr(model, layer).weight.detach().numpy()
    return w, getattr(model, layer).bias.detach().numpy()


def torch_weights(fn, shape, **kwargs):
    torch.manual_seed(0)
    w = torch.empty(shape)
    fn(w, **kwargs)
    return w.numpy()


@pytest.mark.parametrize(
    "init, activation, layer, torch_fn, torch_kwargs",
    [
        ("kaiming", "relu", "fc1", torch.nn.init.kaiming_normal_, {"nonlinearity": "relu"}),
        ("kaiming", "leaky_relu", "fc2", torch.nn.init.kaiming_normal_, {"a": 0.01, "nonlinearity": "leaky_relu"}),
        ("kaiming", "tanh", "fc1", torch.nn.init.kaiming_normal_, {"nonlinearity": "tanh"}),
        ("kaiming", "relu", "out", torch.nn.init.kaiming_normal_, {"nonlinearity": "linear"}),
        ("xavier", "tanh", "fc1", torch.nn.init.xavier_uniform_, {"gain": torch.nn.init.calculate_gain("tanh")}),
        ("xavier", "sigmoid", "fc2", torch.nn.init.xavier_uniform_, {"gain": 1.0}),  # sigmoid's gain is 1
        ("xavier", "relu", "fc1", torch.nn.init.xavier_uniform_, {"gain": 1.0}),
        ("normal", "relu", "fc1", torch.nn.init.normal_, {"std": 0.01}),
        ("randn", "relu", "fc2", torch.nn.init.normal_, {"std": 1.0}),
    ],
)
def test_init_statistics_match_pytorch(init, activation, layer, torch_fn, torch_kwargs):
    w, bias = weight_stats(init, activation, layer)
    expected = torch_weights(torch_fn, w.shape, **torch_kwargs)
    # 3,000+ draws each: the standard deviations agree within a few percent, the means are near zero
    assert abs(w.std() / expected.std() - 1) < 0.05, (w.std(), expected.std())
    assert abs(w.mean()) < 4 * expected.std() / math.sqrt(w.size)
    np.testing.assert_array_equal(bias, 0)


def test_xavier_stays_within_the_uniform_bound():
    w, _ = weight_stats("xavier", "tanh", "fc2")
    bound = (5 / 3) * math.sqrt(6 / (400 + 300))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_default_init_is_pytorchs_linear_init():
    w, bias = weight_stats("default", "relu", "fc1")
    expected = torch.nn.Linear(500, 400).weight.detach().numpy()
    assert abs(w.std() / expected.std() - 1) < 0.05
    assert np.abs(w).max() <= 1 / math.sqrt(500) and np.abs(bias).max() <= 1 / math.sqrt(500)
    assert np.abs(bias).max() > 0  # the default keeps a random bias


def test_zeros_init():
    w, bias = weight_stats("zeros", "relu", "fc2")
    np.testing.assert_array_equal(w, 0)
    np.testing.assert_array_equal(bias, 0)


# ------------------------------------------------------------------------------------------------- losses


def test_losses_match_pytorch():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 4)).astype(np.float32)
    target = np.array([0, 3, 1, 1, 2, 0])
    x, y = ember.from_numpy(scores), ember.from_numpy(target)
    tx, ty = torch.from_numpy(scores), torch.from_numpy(target)
    ce = build_loss(cfg_with())(x, y).item()
    assert ce == pytest.approx(torch.nn.functional.cross_entropy(tx, ty).item(), rel=1e-5)
    logp = torch.log_softmax(tx, dim=1)
    nll = build_loss(cfg_with(train__loss="nll"))(ember.from_numpy(logp.numpy()), y).item()
    assert nll == pytest.approx(ce, rel=1e-5)
    mse = build_loss(cfg_with(train__loss="mse"))(x, y).item()
    one_hot = torch.nn.functional.one_hot(ty, 4).float()
    assert mse == pytest.approx(torch.nn.functional.mse_loss(tx, one_hot).item(), rel=1e-5)


def test_mse_loss_gradient_matches_pytorch():
    scores = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    target = np.array([4, 0, 2])
    x = ember.from_numpy(scores.copy()).requires_grad_()
    build_loss(cfg_with(train__loss="mse"))(x, ember.from_numpy(target)).backward()
    tx = torch.from_numpy(scores.copy()).requires_grad_()
    torch.nn.functional.mse_loss(tx, torch.nn.functional.one_hot(torch.from_numpy(target), 5).float()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------------------------- optimizers


TORCH_OPTIMIZERS = {
    "sgd": lambda p, c: torch.optim.SGD(p, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay),
    "adam": lambda p, c: torch.optim.Adam(p, lr=c.lr, weight_decay=c.weight_decay),
    "adamw": lambda p, c: torch.optim.AdamW(p, lr=c.lr, weight_decay=c.weight_decay),
    "rmsprop": lambda p, c: torch.optim.RMSprop(p, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay),
    "adagrad": lambda p, c: torch.optim.Adagrad(p, lr=c.lr, weight_decay=c.weight_decay),
}


@pytest.mark.parametrize("name", list(TORCH_OPTIMIZERS))
def test_optimizer_steps_match_pytorch(name):
    cfg = cfg_with(
        train__optimizer=name, train__lr=0.05, train__momentum=0.9, train__weight_decay=0.01, model__hidden="6"
    )
    model = build_model(cfg, 4, 3)
    twin = torch_mlp(4, [6], 3)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    opt, topt = build_optimizer(cfg, model), TORCH_OPTIMIZERS[name](twin.parameters(), cfg.train)
    assert type(opt).__name__ == type(topt).__name__
    rng = np.random.default_rng(0)
    loss_fn = build_loss(cfg)
    for _ in range(3):
        x = rng.normal(size=(8, 4)).astype(np.float32)
        y = rng.integers(0, 3, size=8)
        opt.zero_grad(), topt.zero_grad()
        loss_fn(model(ember.from_numpy(x)), ember.from_numpy(y)).backward()
        torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step(), topt.step()
    for (name_, p), q in zip(model.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-4, atol=1e-6, err_msg=name_)


# ------------------------------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    "schedule, make_torch",
    [
        ("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
        ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6)),
        ("exponential", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.5)),
    ],
)
def test_schedules_match_pytorch(schedule, make_torch):
    cfg = cfg_with(train__schedule=schedule, train__step_size=2, train__gamma=0.5, train__epochs=6, train__lr=0.1)
    opt = build_optimizer(cfg, build_model(cfg, 4, 2))
    sched = build_scheduler(cfg, opt)
    topt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    tsched = make_torch(topt)
    for _ in range(6):
        opt.step(), topt.step()
        sched.step(), tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-9)


def test_no_schedule_is_none():
    cfg = cfg_with()
    assert build_scheduler(cfg, build_optimizer(cfg, build_model(cfg, 4, 2))) is None


def test_model_layer_names_are_readable():
    model = build_model(cfg_with(model__batch_norm=True, model__dropout=0.5), 8, 2)
    names = [name for name, _ in model.named_children()]
    assert names == ["fc1", "bn1", "act1", "drop1", "fc2", "bn2", "act2", "drop2", "out"]
    assert isinstance(model.out, nn.Linear) and model.out.out_features == 2


def test_cnn_model_is_lenet_style_and_matches_the_same_pytorch_network():
    cfg = cfg_with(model__kind="cnn", model__hidden="32")
    model = build_model(cfg, 784, 10)
    t = torch.nn.Sequential(
        OrderedDict(
            [
                ("image", torch.nn.Unflatten(1, (1, 28, 28))),
                ("conv1", torch.nn.Conv2d(1, 6, 5, padding=2)),
                ("conv_act1", torch.nn.ReLU()),
                ("pool1", torch.nn.MaxPool2d(2)),
                ("conv2", torch.nn.Conv2d(6, 16, 5, padding=2)),
                ("conv_act2", torch.nn.ReLU()),
                ("pool2", torch.nn.MaxPool2d(2)),
                ("flatten", torch.nn.Flatten()),
                ("fc1", torch.nn.Linear(16 * 7 * 7, 32)),
                ("act1", torch.nn.ReLU()),
                ("out", torch.nn.Linear(32, 10)),
            ]
        )
    )
    assert repr(model) == repr(t)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 784)).astype(np.float32)
    np.testing.assert_allclose(model(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_cnn_model_needs_square_images():
    with pytest.raises(ember.train.ConfigError, match="needs square one-channel images"):
        build_model(cfg_with(model__kind="cnn"), 13, 3)
    with pytest.raises(ember.train.ConfigError, match="model.kind"):
        cfg_with(model__kind="rnn")

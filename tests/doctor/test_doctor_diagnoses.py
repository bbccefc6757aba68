"""Each problem the doctor knows, caused on purpose with a tiny model, and the diagnosis it must give."""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np
import pytest
from doctor_helpers import by_key, digits, kinds, mlp, train

import ember
from ember import nn
from ember.doctor import Doctor

# NaN/inf are caused on purpose below; NumPy's own warnings about them are expected noise
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def percent_in(message: str) -> list[int]:
    return [int(p) for p in re.findall(r"(\d+)%", message)]


# ---------------------------------------------------------------------------- dead ReLU
def test_dead_relu_from_large_negative_biases():
    model = mlp([64, 128, 10])
    with ember.no_grad():
        model[0].bias.fill_(-8.0)  # every pre-activation far below zero
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.05), 20)
    f = by_key(doctor)[("dead_relu", "1")]
    assert f.severity == "error"  # not a single unit alive
    assert "All 128 units of layer 1 (ReLU)" in f.message
    assert f.data["dead_fraction"] == 1.0
    assert "Layer 0 drives their pre-activations below zero" in f.message  # the layer feeding the dead units
    assert "kaiming" in f.suggestion and "LeakyReLU" in f.suggestion and "learning rate" in f.suggestion


def test_dead_relu_partial_reports_the_share():
    model = mlp([64, 128, 10])
    with ember.no_grad():
        model[0].bias[:96].fill_(-8.0)  # 75% of the units can never fire
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 20)
    f = by_key(doctor)[("dead_relu", "1")]
    assert f.severity == "warning"
    assert 0.75 <= f.data["dead_fraction"] < 0.85
    assert percent_in(f.message)[0] in range(75, 85)
    assert f.step == 10  # the third sample (steps 0, 5, 10) is the first with enough evidence


def test_dead_relu_channels_of_a_convolution_are_counted_per_channel():
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 10),
    )
    with ember.no_grad():
        model[1].bias[:6].fill_(-50.0)  # six of the eight channels can never fire
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 20)
    f = by_key(doctor)[("dead_relu", "2")]
    assert "of the 8 channels (6)" in f.message and "layer 2 (ReLU)" in f.message
    assert f.data["units"] == 8 and f.data["dead_units"] == 6


def test_leaky_relu_with_a_real_slope_is_not_called_dead():
    model = nn.Sequential(nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, 10))
    with ember.no_grad():
        model[0].bias.fill_(-8.0)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 15)
    assert "dead_relu" not in kinds(doctor)


# ---------------------------------------------------------------------------- saturation
def test_saturated_sigmoid_and_tanh_from_huge_weights():
    model = nn.Sequential(nn.Linear(64, 64), nn.Sigmoid(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    with ember.no_grad():
        model[0].weight.mul_(30)
        model[2].weight.mul_(30)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.05), 15)
    found = by_key(doctor)
    sig, tanh = found[("saturation", "1")], found[("saturation", "3")]
    assert "layer 1 (Sigmoid)" in sig.message and "below 0.01 or above 0.99" in sig.message
    assert "layer 3 (Tanh)" in tanh.message
    for f in (sig, tanh):
        assert f.data["saturated_fraction"] > 0.5
        assert percent_in(f.message)[0] == round(100 * f.data["saturated_fraction"])
        assert "xavier" in f.suggestion and "normalise the inputs" in f.suggestion


def test_confident_output_sigmoid_is_not_saturation():
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
    with ember.no_grad():
        model[2].weight.mul_(50)  # the output probabilities sit at 0 or 1, as a sure classifier's do
    x, y = digits()
    loss = nn.BCELoss()
    doctor = train(
        model,
        ember.optim.SGD(model.parameters(), lr=0.01),
        15,
        data=(x, (y > 4).float()),
        loss_fn=lambda out, t: loss(out.squeeze(1).clamp(1e-6, 1 - 1e-6), t),
    )
    assert "saturation" not in kinds(doctor)


# ---------------------------------------------------------------------------- gradients
def test_vanishing_gradients_in_a_deep_sigmoid_stack():
    layers: list[nn.Module] = []
    for i in range(10):
        layers += [nn.Linear(64 if i == 0 else 32, 32), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.1), 11)
    f = by_key(doctor)[("vanishing_gradients", "0")]
    assert f.step == 5  # two sampled steps in a row (0 and 5) must agree
    assert f.data["ratio"] < 1e-3 and f.data["first_norm"] < 1e-4
    assert "0.weight" in f.message and "20.weight" in f.message
    assert "ReLU" in f.suggestion and "BatchNorm1d" in f.suggestion


def test_exploding_gradients_in_a_deep_net_with_big_weights():
    model = mlp([64] + [64] * 7 + [10])
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.5)  # ~3x the Kaiming std, compounded over 8 layers
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=1e-6), 6)
    found = [f for f in doctor.findings() if f.kind == "exploding_gradients"]
    assert found and found[0].step == 0 and found[0].severity == "error"
    f = found[0]
    assert f.data["max_norm"] > 1e3
    assert f"{f.layer}.weight" in f.message and "above the limit of 1e+03" in f.message
    assert "clip_grad_norm_" in f.suggestion


# ---------------------------------------------------------------------------- NaN / inf
def test_nan_from_a_huge_learning_rate_names_step_and_layer():
    model = mlp([64, 64, 10])
    # 1e10 overflows to NaN within a few steps from any initial weights (1e4 did so only for some draws)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=1e10), 30)
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert f.severity == "error"
    assert f.layer in ("0", "1", "2")
    assert f"first appeared at step {f.step}" in f.message
    assert f"layer {f.layer}" in f.message
    assert "learning rate" in f.suggestion


def test_nan_from_log_of_a_negative_blames_the_loss():
    model = mlp([64, 16, 1])
    x, y = digits()

    def bad_loss(out, target):
        return -(out.squeeze(1) - target.float()).log().mean()  # log of negative numbers

    doctor = train(model, ember.optim.SGD(model.parameters(), lr=1e-3), 3, loss_fn=bad_loss)
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert f.step == 0 and f.layer is None
    assert "the loss is nan" in f.message and "loss computation itself" in f.message
    assert len([g for g in doctor.findings() if g.kind == "nan"]) == 1


def test_nan_in_the_input_data_points_at_the_first_layer():
    x, y = digits()
    x = x.clone()
    x[:, 3] = float("nan")
    model = mlp([64, 16, 10])
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 7, data=(x, y))  # step 1 is unsampled
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert f.step == 0 and f.layer == "0"
    assert "input batch itself contains NaN" in f.message


def test_nan_from_an_overflowing_layer_on_an_unsampled_step():
    model = mlp([64, 16, 10])
    doctor = Doctor(model, every=10)
    x, y = digits()
    loss_fn = nn.CrossEntropyLoss()
    for step in range(4):
        if step == 3:
            with ember.no_grad():
                model[2].weight.fill_(1e38)  # finite weights whose products overflow float32
        loss = loss_fn(model(x[:32]), y[:32])
        loss.backward()
        doctor.step(loss)
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert f.step == 3 and f.layer == "2"
    assert "overflowed on finite inputs" in f.message


def test_a_forward_overflow_from_one_input_row_is_located_before_the_update_makes_the_weights_nan():
    # the trainer's order: backward, optimizer.step(), doctor.step(); the NaN weights written by the update
    # must not be blamed for a forward that overflowed on its input
    model = mlp([64, 16, 10])
    with ember.no_grad():
        model[0].weight.abs_()  # all positive: a row of 3e38 then overflows whatever the drawn weights
    doctor = Doctor(model, every=10)
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    x, y = digits()
    loss_fn = nn.CrossEntropyLoss()
    for step in range(3):
        batch = x[:32].clone()
        if step == 1:  # an unsampled step
            batch[5] = 3e38  # finite, but the first layer's sums overflow float32
        opt.zero_grad()
        loss = loss_fn(model(batch), y[:32])
        loss.backward()
        opt.step()
        doctor.step(loss, opt)
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert f.step == 1 and f.layer == "0"
    assert "overflowed on finite inputs (largest |input| 3e+38, in row 5 of the batch)" in f.message
    assert "optimizer update" not in f.message


def test_nan_input_rows_are_named():
    x, y = digits()
    batch = x[:16].clone()
    batch[[3, 9], 7] = float("nan")
    model = mlp([64, 16, 10])
    doctor = Doctor(model, every=5)
    loss = nn.CrossEntropyLoss()(model(batch), y[:16])
    loss.backward()
    doctor.step(loss)
    f = next(f for f in doctor.findings() if f.kind == "nan")
    assert "check the data: rows 3, 9 of the batch" in f.message


# ---------------------------------------------------------------------------- learning rate
def test_lr_too_high_when_the_loss_rises():
    x, _ = digits()
    target = x[:, 20] * 2 + x[:, 30]
    model = nn.Sequential(nn.Linear(64, 1))
    nn.init.zeros_(model[0].weight)  # the same start whatever the random stream: the loss rises steadily
    nn.init.zeros_(model[0].bias)

    def mse(out, t):
        return ((out.squeeze(1) - t) ** 2).mean()

    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.04), 45, data=(x, target), loss_fn=mse)
    f = by_key(doctor)[("lr_too_high", None)]
    assert f.message.startswith("The loss rose from") and "at lr 0.04" in f.message
    assert f.data["last_mean"] > f.data["first_mean"]
    assert "learning rate" in f.suggestion


def test_lr_too_high_when_the_loss_climbs_back():
    model = mlp([64, 128, 10])
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=1.0, momentum=0.9), 150)
    f = by_key(doctor)[("lr_too_high", None)]
    assert "climbed back" in f.message and "at lr 1" in f.message
    assert f.data["last_mean"] > f.data["best_mean"]


def test_lr_too_low_when_weights_hardly_move():
    model = mlp([64, 128, 10])
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=1e-7), 110)
    found = by_key(doctor)
    f = found[("lr_too_low", None)]
    assert f.step == 100  # the first check after the 100-step warm-up
    assert f.data["update_ratio"] < 1e-6
    assert "at lr 1e-07" in f.message
    assert "multiply the learning rate" in f.suggestion
    assert ("loss_not_decreasing", None) not in found  # the more precise diagnosis replaces the generic one


def test_loss_not_decreasing_when_nothing_can_be_learned():
    rx, ry = ember.randn(4000, 64), ember.randint(0, 10, (4000,))  # labels unrelated to inputs
    model = mlp([64, 32, 10])
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 110, data=(rx, ry))
    found = by_key(doctor)
    f = found[("loss_not_decreasing", None)]
    assert "training has stalled" in f.message and "first 20 steps" in f.message
    assert abs(f.data["last_mean"] - f.data["first_mean"]) < 0.05 * f.data["first_mean"]
    assert {k for k, _ in found} == {"loss_not_decreasing"}


# ---------------------------------------------------------------------------- initialisation
def seed001_mlp(in_features: int) -> nn.Sequential:
    """The seed program's 3-layer MLP with its mistake: weights filled with plain randn (std 1)."""
    model = nn.Sequential(
        OrderedDict(
            fc1=nn.Linear(in_features, 200),
            relu1=nn.ReLU(),
            fc2=nn.Linear(200, 200),
            relu2=nn.ReLU(),
            fc3=nn.Linear(200, 10),
        )
    )
    with ember.no_grad():
        for layer in (model.fc1, model.fc2, model.fc3):
            layer.weight.copy_(ember.randn(*layer.weight.shape))
            layer.bias.zero_()
    return model


def test_bad_init_randn_mlp_on_784_features():
    data = (ember.randn(1000, 784), ember.randint(0, 10, (1000,)))
    model = seed001_mlp(784)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 3, data=data, batch=200, every=20)
    found = by_key(doctor)
    f = found[("bad_init", "fc1")]
    assert f.step == 0
    assert "Layer fc1 (Linear) weight std 1.00 is 20x the Kaiming std for fan_in 784 (0.0505)" in f.message
    gain = float(re.search(r"come out (\d+)x larger", f.message).group(1))
    assert 24 <= gain <= 32  # pre-activations ~28x their input: sqrt(784)
    assert "kaiming_normal_" in f.suggestion
    assert ("bad_init", "fc2") in found and "fan_in 200 (0.1)" in found[("bad_init", "fc2")].message
    assert ("bad_init", "fc3") in found


def test_bad_init_randn_mlp_on_digits():
    model = seed001_mlp(64)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 3, every=20)
    found = by_key(doctor)
    assert {("bad_init", "fc1"), ("bad_init", "fc2"), ("bad_init", "fc3")} <= set(found)
    assert "fan_in 64" in found[("bad_init", "fc1")].message


def test_bad_init_all_zero_hidden_layer_breaks_symmetry_but_zero_output_layer_is_fine():
    model = mlp([64, 32, 10])
    nn.init.zeros_(model[0].weight)
    nn.init.zeros_(model[2].weight)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.1), 3)
    found = by_key(doctor)
    f = found[("bad_init", "0")]
    assert f.severity == "error" and "32 units of layer 0 (Linear) are all zero" in f.message
    assert ("bad_init", "2") not in found  # a zero-initialised output layer still learns


def test_bad_init_tiny_weights():
    model = mlp([64, 64, 64, 10])
    nn.init.normal_(model[0].weight, 0.0, 1e-5)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 2)
    f = by_key(doctor)[("bad_init", "0")]
    assert "smaller than the Kaiming std for fan_in 64" in f.message


@pytest.mark.parametrize(
    "init",
    [None, nn.init.kaiming_normal_, nn.init.kaiming_uniform_, nn.init.xavier_normal_, nn.init.xavier_uniform_],
    ids=["default", "kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"],
)
def test_bad_init_silent_for_sound_inits(init):
    data = (ember.randn(400, 784), ember.randint(0, 10, (400,)))
    model = mlp([784, 200, 200, 10], init=init)
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.01), 2, data=data, batch=100)
    assert "bad_init" not in kinds(doctor)


# ---------------------------------------------------------------------------- raw tensors (seed 001 as written)
def seed001_raw(kaiming: bool):
    w1, b1 = ember.randn(200, 784, requires_grad=True), ember.zeros(200, requires_grad=True)
    w2, b2 = ember.randn(200, 200, requires_grad=True), ember.zeros(200, requires_grad=True)
    w3, b3 = ember.randn(10, 200, requires_grad=True), ember.zeros(10, requires_grad=True)
    if kaiming:
        for w in (w1, w2, w3):
            nn.init.kaiming_normal_(w)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}


@pytest.mark.parametrize("kaiming", [False, True])
def test_raw_tensor_loop(kaiming):
    p = seed001_raw(kaiming)
    F = nn.functional

    def forward(x):
        x = F.relu(x @ p["w1"].t() + p["b1"])
        x = F.relu(x @ p["w2"].t() + p["b2"])
        return x @ p["w3"].t() + p["b3"]

    optimizer = ember.optim.SGD(list(p.values()), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x, y = ember.randn(600, 784), ember.randint(0, 10, (600,))
    doctor = Doctor(params=p, every=5)
    for step in range(12):
        idx = ember.tensor(np.arange(step * 50, step * 50 + 50) % 600)
        loss = loss_fn(forward(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        doctor.step(loss.item(), optimizer)  # a float loss is fine too
    found = by_key(doctor)
    if kaiming:
        assert found == {}
        assert "no problems found in 12 steps" in doctor.report()
    else:
        f = found[("bad_init", "w1")]
        assert "Layer w1 weight std 1.00 is 20x the Kaiming std for fan_in 784 (0.0505)" in f.message
        assert ("bad_init", "w2") in found
        assert not any(layer in ("b1", "b2", "b3") for _, layer in found)  # biases are not weights


def test_growing_gradients_count_as_exploding_before_they_are_huge():
    from ember.doctor import checks
    from ember.doctor.thresholds import Thresholds

    memo: dict = {}
    th = Thresholds()
    found = []
    for step, scale in enumerate([1e-3, 1e-2, 1e-1, 1.0]):
        found = checks.gradients([("a", scale / 10), ("b", scale)], memo, step, th)
    assert [f.kind for f in found] == ["exploding_gradients"]
    assert "grew from 1.0e-03 to 1.0e+00 over the last 4 sampled steps" in found[0].message


def test_a_loss_that_spikes_early_and_settles_is_a_learning_rate_too_high():
    # SGD with lr 3 and momentum 0.9: the loss leaps from 2.3 to ~40 within a few steps, then settles
    model = mlp([64, 32, 10])
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=3.0, momentum=0.9), 40)
    f = next(f for f in doctor.findings() if f.kind == "lr_too_high")
    assert f.step is not None and f.step < 20
    assert re.search(r"The loss jumped from 2\.3\d at the first step", f.message)
    assert f.data["loss"] >= 10 * f.data["first_loss"]

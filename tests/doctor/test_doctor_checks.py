"""The doctor's check functions fed hand-made statistics: the edges that a trained model rarely lands on."""

from __future__ import annotations

from doctor_helpers import by_key, train

import ember
from ember import nn
from ember.doctor import checks
from ember.doctor.thresholds import Thresholds


# ---------------------------------------------------------------------------- update ratio
def test_update_ratio_fires_once_the_streak_is_full_and_keeps_firing():
    th = Thresholds()  # streak 2, update_ratio_high 0.1
    memo: dict = {}
    ratios = {"0": 0.5, "2": 0.4}
    assert checks.update_ratio(ratios, 1.0, memo, 0, th) is None  # one high step is not yet a streak
    for step in (1, 2, 3):
        f = checks.update_ratio(ratios, 1.0, memo, step, th)
        assert f is not None and f.kind == "lr_too_high" and f.step == step
        assert f"for {th.streak} sampled steps in a row" in f.message
        assert f.data["median_ratio"] == 0.45


def test_update_ratio_is_quiet_when_one_step_of_the_streak_is_healthy():
    th = Thresholds()
    memo: dict = {}
    assert checks.update_ratio({"0": 0.5}, 1.0, memo, 0, th) is None
    assert checks.update_ratio({"0": 1e-3}, 1.0, memo, 1, th) is None
    assert checks.update_ratio({"0": 0.5}, 1.0, memo, 2, th) is None  # the streak holds a healthy step
    assert checks.update_ratio({"0": 0.5}, 1.0, memo, 3, th) is not None


def test_update_ratio_names_the_layer_with_the_largest_ratio_not_the_last_name():
    th = Thresholds(streak=1)
    # name order (a < b < c) differs from ratio order (b > a > c)
    f = checks.update_ratio({"a": 0.3, "b": 0.9, "c": 0.2}, 0.5, {}, 7, th)
    assert f is not None
    assert f.data["max_ratio"] == 0.9
    assert "largest 9.0e-01 in layer b" in f.message
    assert "median update/weight ratio 3.0e-01" in f.message


# ---------------------------------------------------------------------------- saturation
def test_saturation_messages_name_each_activations_band():
    th = Thresholds()  # saturation_margin 0.01
    tanh = checks.saturation("1", "Tanh", "tanh", 0.8, 5, "0", 10, th)
    assert tanh is not None
    assert "(beyond +-0.99, averaged over the last 5 sampled batches)" in tanh.message
    sigmoid = checks.saturation("1", "Sigmoid", "sigmoid", 0.8, 5, "0", 10, th)
    assert sigmoid is not None
    assert "(below 0.01 or above 0.99, averaged" in sigmoid.message
    loose = checks.saturation("1", "Tanh", "tanh", 0.8, 5, None, 10, Thresholds(saturation_margin=0.1))
    assert loose is not None and "beyond +-0.9," in loose.message


# ---------------------------------------------------------------------------- initialisation
def _weight_stats(shape, std, mean, rows_identical):
    fan = 1
    for d in shape[1:]:
        fan *= d
    return {
        "std": std,
        "mean": mean,
        "all_zero": False,
        "rows_identical": rows_identical,
        "fan_in": fan,
        "shape": tuple(shape),
    }


def test_a_one_row_layer_is_not_called_symmetric():
    th = Thresholds()
    # one output unit: its single row trivially "equals the first"; nothing can be broken symmetry there
    one_row = _weight_stats((1, 64), std=0.07, mean=0.01, rows_identical=True)
    assert checks.bad_init("0", "Linear", one_row, None, False, 0, th) is None
    # two identical rows are the real problem
    two_rows = _weight_stats((2, 64), std=0.07, mean=0.01, rows_identical=True)
    f = checks.bad_init("0", "Linear", two_rows, None, False, 0, th)
    assert f is not None and f.severity == "error"
    assert "The weights of the 2 units of layer 0 (Linear) are identical" in f.message


def test_a_one_unit_bottleneck_trains_without_an_init_finding():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 1), nn.Tanh(), nn.Linear(1, 10))
    doctor = train(model, ember.optim.SGD(model.parameters(), lr=0.05), 11)
    assert ("bad_init", "0") not in by_key(doctor)


# ---------------------------------------------------------------------------- gradients
def test_vanishing_needs_the_first_norm_strictly_below_the_ratio():
    th = Thresholds()  # vanishing_ratio 1e-3, vanishing_abs 1e-4, streak 2
    last = 0.05
    tie = th.vanishing_ratio * last  # 5e-5: below vanishing_abs, exactly at the ratio
    memo: dict = {}
    for step in range(4):
        found = checks.gradients([("0", tie), ("2", last)], memo, step, th)
        assert [f.kind for f in found] == []
    assert memo["vanish_streak"] == 0
    below = tie * 0.5
    memo = {}
    found = []
    for step in range(2):
        found = checks.gradients([("0", below), ("2", last)], memo, step, th)
    assert [f.kind for f in found] == ["vanishing_gradients"]

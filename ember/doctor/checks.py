"""The doctor's diagnoses: each function turns measured numbers into a Finding (or None when all is well).

The functions are pure apart from `memo`, a dict of plain values the doctor keeps (and saves in its state_dict)
for checks that need agreement over several sampled steps.
"""

from __future__ import annotations

import math
import statistics

from .finding import Finding
from .loss_history import LossHistory
from .thresholds import Thresholds

INIT_HINT = (
    "nn.init.kaiming_normal_(weight, nonlinearity='relu') before ReLU-like "
    "activations, nn.init.xavier_normal_(weight) before tanh/sigmoid, or keep the layer's default init "
    "(never plain randn, whose std is 1 whatever the fan-in)"
)


def _where(layer: str, cls_name: str | None) -> str:
    return f"layer {layer} ({cls_name})" if cls_name else f"layer {layer}"


def _g(x: float) -> str:
    """A number in 3 significant digits."""
    return f"{x:.3g}"


def _e(x: float) -> str:
    """A number in scientific notation."""
    return f"{x:.1e}"


def _lr_text(lr: float | None) -> str:
    return f" at lr {_g(lr)}" if lr is not None else ""


# ---------------------------------------------------------------------------- activations
def dead_relu(
    layer: str,
    cls_name: str,
    dead_fraction: float,
    units: int,
    samples: int,
    examples: int,
    feeder: str | None,
    step: int,
    th: Thresholds,
    unit: str = "units",
) -> Finding | None:
    """Too many ReLU units (or feature-map channels, unit="channels") that output 0 for every example in the
    pooled sampled batches."""
    if dead_fraction <= th.dead_fraction:
        return None
    dead = round(dead_fraction * units)
    source = f"layer {feeder}" if feeder else "the layer before it"
    count = f"all {units} {unit}" if dead == units else f"{dead_fraction:.0%} of the {units} {unit} ({dead})"
    message = (
        f"{count} of {_where(layer, cls_name)} were never active "
        f"over the last {samples} sampled batches ({examples} examples): they output 0 for every input, pass no "
        f"gradient back, and so never recover. {source.capitalize()} drives their pre-activations below zero."
    )
    suggestion = (
        f"lower the learning rate, initialise {source} with nn.init.kaiming_normal_ and zero biases, "
        "or use nn.LeakyReLU(0.01) (or ELU/GELU) instead of ReLU."
    )
    severity = "error" if dead == units else "warning"
    data = {"dead_fraction": dead_fraction, "dead_units": dead, "units": units, "samples": samples}
    return Finding("dead_relu", severity, message, suggestion, layer, step, data)


def saturation(
    layer: str,
    cls_name: str,
    kind: str,
    fraction: float,
    samples: int,
    feeder: str | None,
    step: int,
    th: Thresholds,
) -> Finding | None:
    """Most sigmoid/tanh outputs pinned near an asymptote, where the slope (and so the gradient) is ~0."""
    if fraction <= th.saturation_fraction:
        return None
    m = th.saturation_margin
    band = f"below {_g(m)} or above {_g(1 - m)}" if kind == "sigmoid" else f"beyond +-{_g(1 - m)}"
    source = f"layer {feeder}" if feeder else "the layer before it"
    message = (
        f"{fraction:.0%} of the outputs of {_where(layer, cls_name)} are saturated ({band}, averaged over the last "
        f"{samples} sampled batches): there the slope of the {kind} is almost 0, so almost no gradient flows back "
        f"through these units. {source.capitalize()} feeds it pre-activations that are too large."
    )
    suggestion = (
        f"initialise {source} with nn.init.xavier_normal_ (or keep the default init), normalise the inputs to zero "
        "mean and unit variance, lower the learning rate, or use ReLU in the hidden layers."
    )
    data = {"saturated_fraction": fraction, "samples": samples, "activation": kind}
    return Finding("saturation", "warning", message, suggestion, layer, step, data)


# ---------------------------------------------------------------------------- gradients
def gradients(
    norms: list[tuple[str, float]], memo: dict, step: int, th: Thresholds, suffix: str = ".weight"
) -> list[Finding]:
    """Vanishing (first layer's gradient tiny next to the last's) and exploding (huge or fast-growing) gradients.

    `norms` are the weight-gradient norms of the parametrised layers in forward order, all finite; `suffix`
    turns a layer name into its weight's name ("" for raw tensors, which are the weights themselves).
    """
    found: list[Finding] = []
    if not norms:
        return found
    (first, first_norm), (last, last_norm) = norms[0], norms[-1]
    vanishing = (
        len(norms) >= 2
        and last_norm > 0
        and first_norm < th.vanishing_ratio * last_norm
        and first_norm < th.vanishing_abs
    )
    memo["vanish_streak"] = memo.get("vanish_streak", 0) + 1 if vanishing else 0
    if memo["vanish_streak"] >= th.streak:
        ratio = first_norm / last_norm
        path = " -> ".join(f"{name} {_e(n)}" for name, n in norms)
        message = (
            f"the gradient norm of {first}{suffix} (the first layer) is {_e(first_norm)}, {_e(ratio)} times the "
            f"{_e(last_norm)} of {last}{suffix} (the last layer), for {memo['vanish_streak']} sampled steps in a row: "
            f"the early layers barely learn. Gradient norms in forward order: {path}."
        )
        suggestion = (
            "use ReLU/LeakyReLU instead of sigmoid/tanh in hidden layers, a fan-in-scaled init (kaiming/xavier), "
            "add normalisation (nn.BatchNorm1d or nn.LayerNorm), or make the network shallower."
        )
        data = {"first_norm": first_norm, "last_norm": last_norm, "ratio": ratio, "norms": dict(norms)}
        found.append(Finding("vanishing_gradients", "warning", message, suggestion, first, step, data))

    top, top_norm = max(norms, key=lambda item: item[1])
    history = [*memo.get("max_norms", []), top_norm][-th.exploding_growth_samples :]
    memo["max_norms"] = history
    growing = len(history) == th.exploding_growth_samples and all(
        b >= th.exploding_growth * a > 0 for a, b in zip(history, history[1:])
    )
    if top_norm > th.exploding_norm or growing:
        if top_norm > th.exploding_norm:
            what = f"reached {_g(top_norm)}, above the limit of {_g(th.exploding_norm)}"
        else:
            what = (
                f"grew from {_e(history[0])} to {_e(history[-1])} over the last {len(history)} sampled steps "
                f"(at least {_g(th.exploding_growth)}x each time)"
            )
        message = (
            f"the largest weight-gradient norm, at {top}{suffix}, {what}: updates this large throw the weights "
            "around and usually end in NaN."
        )
        suggestion = (
            "clip gradients (nn.utils.clip_grad_norm_(model.parameters(), 1.0) after backward), lower the "
            "learning rate, add normalisation layers, and use a fan-in-scaled init (kaiming/xavier)."
        )
        data = {"max_norm": top_norm, "history": list(history), "norms": dict(norms)}
        found.append(Finding("exploding_gradients", "error", message, suggestion, top, step, data))
    return found


# ---------------------------------------------------------------------------- learning rate
def update_ratio(ratios: dict[str, float], lr: float | None, memo: dict, step: int, th: Thresholds) -> Finding | None:
    """The optimizer changes the weights by a large share of their size every step (update/weight ratio)."""
    if not ratios:
        return None
    median = statistics.median(ratios.values())
    recent = [*memo.get("ratios", []), median][-max(th.streak, 1) :]
    memo["ratios"] = recent
    memo["largest_ratio"] = max(ratios.values())
    if len(recent) < th.streak or min(recent) <= th.update_ratio_high:
        return None
    worst, worst_ratio = max(ratios.items(), key=lambda item: item[1])
    message = (
        f"each optimizer step changes the weights by {median:.0%} of their size (median update/weight ratio "
        f"{_e(median)}, largest {_e(worst_ratio)} in layer {worst}){_lr_text(lr)}, for {len(recent)} sampled steps in a "
        f"row; about 1e-3 is healthy, and above {_g(th.update_ratio_high)} each step overwrites what was learned."
    )
    suggestion = "divide the learning rate by 10 (or more), or use a warm-up / decaying learning-rate schedule."
    data = {"median_ratio": median, "max_ratio": worst_ratio, "ratios": dict(ratios), "lr": lr}
    return Finding("lr_too_high", "warning", message, suggestion, None, step, data)


def loss_spike(first: float, value: float, lr: float | None, step: int, th: Thresholds) -> Finding | None:
    """lr_too_high when one step's loss reaches loss_spike times the first step's loss."""
    if not (math.isfinite(first) and math.isfinite(value)) or first <= 0 or value < th.loss_spike * first:
        return None
    message = (
        f"the loss jumped from {_g(first)} at the first step to {_g(value)} at step {step}{_lr_text(lr)}: the "
        "optimizer overshoots so far that it undoes what the initialisation gave, even if the loss settles later."
    )
    suggestion = "divide the learning rate by 10 (or more), lower the momentum, or use a warm-up schedule."
    data = {"first_loss": first, "loss": value, "lr": lr}
    return Finding("lr_too_high", "warning", message, suggestion, None, step, data)


def loss_trend(history: LossHistory, largest_ratio: float | None, lr: float | None, step: int, th: Thresholds):
    """Rising, oscillating, or stalled loss: lr_too_high, lr_too_low (with tiny updates) or loss_not_decreasing.

    `largest_ratio` is the latest update/weight ratio of the layer the optimizer moved most: when even that one
    hardly moves, the learning rate (not a vanishing gradient in some layers) is to blame.
    """
    if not history.ready:
        return None
    w = history.window
    first, last = history.first_mean, history.last_mean
    best = history.update_best()
    scale = abs(first)
    if scale < 1e-12:
        return None
    window_text = f"the mean of the last {w} steps, up to step {step}"
    data = {"first_mean": first, "last_mean": last, "best_mean": best, "window": w, "lr": lr}
    rising = last > first + (th.loss_rise - 1.0) * scale
    gave_back = best < first and last > best + th.loss_giveback * (first - best) and last > 1.1 * best
    if rising or gave_back:
        if rising:
            trend = f"the loss rose from {_g(first)} (mean of the first {w} steps) to {_g(last)} ({window_text})"
        else:
            trend = f"the loss fell from {_g(first)} to {_g(best)} and then climbed back to {_g(last)} ({window_text})"
        message = f"{trend}{_lr_text(lr)}: the optimizer overshoots the minimum."
        suggestion = "divide the learning rate by 10, clip gradients, or use a decaying learning-rate schedule."
        return Finding("lr_too_high", "warning", message, suggestion, None, step, data)

    if history.count < th.loss_warmup:
        return None
    stalled = last > first - th.loss_margin * scale
    if not stalled:
        return None
    spread = history.last_std
    data["last_std"] = spread
    change = (last - first) / scale
    flat = (
        f"after {history.count} steps the loss is {_g(last)} ({window_text}), against {_g(first)} for the first "
        f"{w} steps ({change:+.1%}), less than the {th.loss_margin:.0%} drop expected"
    )
    if spread > th.loss_oscillation * abs(last):
        message = (
            f"{flat}, and it jumps around wildly (standard deviation {_g(spread)} within the window){_lr_text(lr)}: "
            "each step overshoots."
        )
        suggestion = "divide the learning rate by 10, or use a larger batch size to steady the gradient."
        return Finding("lr_too_high", "warning", message, suggestion, None, step, data)
    if largest_ratio is not None and largest_ratio < th.update_ratio_low:
        data["update_ratio"] = largest_ratio
        message = (
            f"{flat}, and each optimizer step changes the weights by at most {_e(largest_ratio)} of their size"
            f"{_lr_text(lr)} (about 1e-3 is healthy): the weights hardly move."
        )
        suggestion = "multiply the learning rate by 10 to 1000 (e.g. SGD 0.01-0.1, Adam 1e-3) and watch the loss."
        return Finding("lr_too_low", "warning", message, suggestion, None, step, data)
    message = f"{flat}: training has stalled."
    suggestion = (
        "check that optimizer.zero_grad(), loss.backward() and optimizer.step() all run each step and that the "
        "labels match the inputs; then try the learning rate 10x up and down, and look at the other findings "
        "(initialisation, dead or saturated units), which often cause a stall."
    )
    return Finding("loss_not_decreasing", "warning", message, suggestion, None, step, data)


# ---------------------------------------------------------------------------- initialisation
def bad_init(
    layer: str,
    cls_name: str | None,
    weight_stats: dict,
    gain: float | None,
    is_last: bool,
    step: int,
    th: Thresholds,
) -> Finding | None:
    """Weights far from the scale their fan-in calls for, or units that are clones of each other (symmetry)."""
    std, fan, shape = weight_stats["std"], weight_stats["fan_in"], weight_stats["shape"]
    kstd = math.sqrt(2.0 / max(fan, 1))
    # the looser of the two fan-ins a 2-D tensor could have, for raw tensors whose layout is unknown
    loose = math.sqrt(2.0 / max(min(weight_stats.get("fan_candidates", [fan])), 1))
    where = _where(layer, cls_name)
    data = {"weight_std": std, "fan_in": fan, "kaiming_std": kstd, "shape": list(shape), "gain": gain}
    if weight_stats["rows_identical"] and not is_last and shape[0] > 1:
        value = weight_stats["mean"]
        what = (
            "are all zero"
            if weight_stats["all_zero"]
            else f"are identical (every row equals the first, e.g. {_g(value)})"
        )
        message = (
            f"the weights of the {shape[0]} units of {where} {what}: every unit computes the same output and receives "
            "the same gradient, so the units never become different (broken symmetry is needed to learn)."
        )
        suggestion = f"initialise the weights randomly, scaled to the fan-in: {INIT_HINT}."
        return Finding("bad_init", "error", message, suggestion, layer, step, data)
    if std > th.init_std_factor * loose and (gain is None or gain > th.init_gain_max):
        factor = std / kstd
        message = f"{where} weight std {std:.2f} is {factor:.0f}x the Kaiming std for fan_in {fan} ({kstd:.3g})"
        if gain is not None:
            message += f"; its pre-activations come out {gain:.0f}x larger than its inputs at step {step}"
        message += (
            ": activations grow layer after layer, so units saturate or blow up and the logits become huge, "
            "which makes the loss huge and training stall or jump around."
        )
        suggestion = f"re-initialise the weights to the fan-in: {INIT_HINT}."
        return Finding("bad_init", "warning", message, suggestion, layer, step, data)
    if 0 < std < th.init_tiny_factor * kstd and not is_last and (gain is None or gain < th.init_gain_min):
        factor = kstd / std
        message = (
            f"{where} weight std {_e(std)} is {factor:.0f}x smaller than the Kaiming std for fan_in {fan} "
            f"({kstd:.3g}): the signal shrinks toward zero layer after layer and the gradients vanish."
        )
        suggestion = f"re-initialise the weights to the fan-in: {INIT_HINT}."
        return Finding("bad_init", "warning", message, suggestion, layer, step, data)
    return None


# ---------------------------------------------------------------------------- NaN / inf
def nan(step: int, loss_value: float, layer: str | None, cause: str) -> Finding:
    """The first step with a NaN/inf loss, activation or gradient, and where it came from."""
    loss_text = f"the loss is {loss_value}" if not math.isfinite(loss_value) else f"the loss is still {_g(loss_value)}"
    message = f"NaN/inf first appeared at step {step} ({loss_text}): {cause}."
    suggestion = (
        "lower the learning rate, clip gradients (nn.utils.clip_grad_norm_), normalise the inputs, and guard "
        "log/division/sqrt in the loss with a small eps (use F.cross_entropy or F.log_softmax rather than log(softmax), "
        "and x.clamp(min=1e-8) before a log)."
    )
    data = {"loss": loss_value if math.isfinite(loss_value) else str(loss_value)}
    return Finding("nan", "error", message, suggestion, layer, step, data)

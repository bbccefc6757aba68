"""Thresholds: the numbers at which the training doctor calls something a problem (documented in docs/doctor.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Every limit the doctor's checks use; pass a modified copy to Doctor(thresholds=...) to tune them."""

    # dead_relu: share of a ReLU layer's units never active over the pooled sampled batches
    dead_fraction: float = 0.5
    # LeakyReLU layers whose negative slope is at most this count as ReLUs for the dead-unit check
    leaky_slope_max: float = 0.05
    # saturation: share of sigmoid/tanh outputs within `saturation_margin` of an asymptote
    saturation_fraction: float = 0.5
    saturation_margin: float = 0.01
    # dead/saturation statistics pool the most recent sampled batches; no verdict before `activation_min_samples`
    activation_window: int = 5
    activation_min_samples: int = 3
    # vanishing: first layer's weight-gradient norm below ratio x the last layer's and below `vanishing_abs`
    vanishing_ratio: float = 1e-3
    vanishing_abs: float = 1e-4
    # exploding: any weight-gradient norm above this, or the largest norm growing `exploding_growth`x per sample
    exploding_norm: float = 1e3
    exploding_growth: float = 10.0
    exploding_growth_samples: int = 4
    # gradient and update-ratio verdicts need this many consecutive sampled steps agreeing
    streak: int = 2
    # update-to-weight ratio |delta w| / |w| per optimizer step (about 1e-3 is healthy)
    update_ratio_high: float = 1e-1
    update_ratio_low: float = 1e-6
    # loss checks compare means over windows of `loss_window` steps, once `loss_warmup` steps have passed
    loss_window: int = 20
    loss_warmup: int = 100
    # stalled: the latest window's mean is not below the first window's by this fraction
    loss_margin: float = 0.05
    # rising: the latest window's mean exceeds the first window's by this factor ...
    loss_rise: float = 1.25
    # ... or gave back this share of the progress made down to the best window seen
    loss_giveback: float = 0.5
    # oscillating: the latest window's standard deviation exceeds this share of its mean, while stalled
    loss_oscillation: float = 0.5
    # a spike: one step's loss reaches this many times the first step's (an overshooting optimizer, even when the
    # loss settles back later and no window comparison sees it)
    loss_spike: float = 10.0
    # bad_init: weight std more than this many times the Kaiming std for its fan-in ...
    init_std_factor: float = 5.0
    # ... confirmed by the layer's measured gain (pre-activation std / input rms) above this
    init_gain_max: float = 5.0
    # weights this many times smaller than the Kaiming std (in a layer followed by others) starve the signal
    init_tiny_factor: float = 0.01
    # ... confirmed by the layer's measured gain (pre-activation std / input rms) below this
    init_gain_min: float = 0.1

    def __post_init__(self) -> None:
        for name in ("activation_window", "activation_min_samples", "streak", "loss_window", "loss_warmup"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Thresholds.{name} must be a positive integer; got {getattr(self, name)!r}")
        if self.activation_min_samples > self.activation_window:
            raise ValueError(
                f"Thresholds.activation_min_samples ({self.activation_min_samples}) must not exceed "
                f"activation_window ({self.activation_window})"
            )

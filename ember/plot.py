"""Matplotlib figures of a training run and of ember's activation functions (`ember plot`; needs ember[plot])."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._atomic import write_atomic
from .report.svg import ink_on

# figure sizes in inches at DPI dots per inch; the PNGs are exactly these sizes times DPI
DPI = 100
CURVES_SIZE = (11.0, 4.0)
CONFUSION_SIZE = (7.0, 6.0)
ACTIVATIONS_SIZE = (18.0, 9.0)

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "celu", "gelu", "silu", "softplus")


def _figure(size: tuple[float, float]):
    """A matplotlib Figure drawn by the Agg canvas: works without a display and leaves pyplot's state alone."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install ember[plot]") from None
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, out_png: str | os.PathLike) -> Path:
    out = Path(out_png)
    # Atomic: a failed save leaves an older plot intact.
    write_atomic(out, lambda fh: fig.savefig(fh, dpi=DPI, format="png"))
    return out


def plot_curves(run_dir: str | os.PathLike, out_png: str | os.PathLike) -> Path:
    """Loss and accuracy against epoch (train and val; per-step losses faint) written as a PNG."""
    from ember.report.curves import accuracy_series, loss_series, series_axes
    from ember.report.run_files import read_metrics

    metrics = read_metrics(run_dir)
    if not metrics.epochs and not metrics.steps:
        from ember.train import RunDir

        raise ValueError(f"{RunDir(run_dir).metrics} has no step or epoch lines yet; nothing to plot")
    fig = _figure(CURVES_SIZE)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, chart in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        series = loss_series(metrics) if chart == "loss" else accuracy_series(metrics)
        for s in series:
            if not s.xs:
                continue
            if s.faint:
                ax.plot(s.xs, s.ys, color=s.color, alpha=0.35, linewidth=0.8, label=s.label)
            else:
                ax.plot(s.xs, s.ys, color=s.color, marker="o", markersize=3, linewidth=1.8, label=s.label)
        # the report's axes: whole epochs marked, distinct tick labels, accuracy spanning its values within 0-1
        # (x keeps matplotlib's margin, so the first and last markers are not cut in half)
        axes = series_axes(chart, series)
        ax.set_ylim(*axes.y_range)
        ax.set_xticks(axes.x_ticks, labels=axes.x_labels)
        ax.set_yticks(axes.y_ticks, labels=axes.y_labels)
        ax.set_title(chart)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(Path(run_dir).resolve().name)
    fig.tight_layout()
    return _save(fig, out_png)


def plot_confusion(
    run_dir: str | os.PathLike, out_png: str | os.PathLike, split: str = "test", checkpoint: str = "model"
) -> Path:
    """The confusion matrix of the run's model on a split (counts in the cells) written as a PNG."""
    from ember.report.html import confusion_matrix
    from ember.train import evaluate_run

    result = evaluate_run(run_dir, split=split, checkpoint=checkpoint)
    names = [str(n) for n in result.class_names]
    matrix = confusion_matrix(result.y_true, result.y_pred, len(names))
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = _figure(CONFUSION_SIZE)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="share of the true class")
    k = len(names)
    ax.set_xticks(range(k), labels=names, rotation=45 if max(map(len, names), default=0) > 3 else 0, ha="right")
    ax.set_yticks(range(k), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 30:  # counts stay legible up to about this many classes
        for i in range(k):
            for j in range(k):
                if matrix[i, j]:
                    r, g, b, _ = image.cmap(image.norm(share[i, j]))  # the cell's own colour decides the ink
                    color = ink_on(r * 255, g * 255, b * 255)
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_title(f"{Path(run_dir).resolve().name}: {split} accuracy {result.accuracy:.2%}")
    fig.tight_layout()
    return _save(fig, out_png)


def _activation_functions() -> dict[str, Callable[[Any], Any]]:
    import ember
    import ember.nn.functional as F

    return {
        "sigmoid": ember.sigmoid,
        "tanh": ember.tanh,
        "relu": ember.relu,
        "leaky_relu": F.leaky_relu,
        "elu": F.elu,
        "celu": F.celu,
        "gelu": F.gelu,
        "silu": F.silu,
        "softplus": F.softplus,
    }


def activation_curves(low: float = -10.0, high: float = 10.0, points: int = 1000) -> dict[str, tuple[np.ndarray, ...]]:
    """name -> (x, f(x), f'(x)) for each activation, the derivative taken by ember's autograd."""
    import ember

    out = {}
    for name, fn in _activation_functions().items():
        x = ember.linspace(low, high, points, requires_grad=True)
        y = fn(x)
        y.sum().backward()  # d(sum f(x_i))/dx_i = f'(x_i), since each output depends on one input
        out[name] = (x.detach().numpy().copy(), y.detach().numpy().copy(), x.grad.numpy().copy())
    return out


def plot_activations(out_png: str | os.PathLike) -> Path:
    """Each activation and its autograd derivative side by side, in a 3 x 3 grid of pairs, written as a PNG."""
    curves = activation_curves()
    fig = _figure(ACTIVATIONS_SIZE)
    axes = fig.subplots(3, 6)
    for k, name in enumerate(ACTIVATION_NAMES):
        x, y, dy = curves[name]
        value_ax, grad_ax = axes[k // 3, 2 * (k % 3)], axes[k // 3, 2 * (k % 3) + 1]
        value_ax.plot(x, y, color="#0072B2")
        value_ax.set_title(name)
        grad_ax.plot(x, dy, color="#D55E00")
        grad_ax.set_title(f"{name}'s derivative")
        for ax in (value_ax, grad_ax):
            ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return _save(fig, out_png)

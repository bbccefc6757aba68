"""The training curves of a run as plain series (x in epochs), shared by the HTML report and the matplotlib plots."""

from __future__ import annotations

from .run_files import RunMetrics
from .svg import STEP_COLOR, TRAIN_COLOR, VAL_COLOR, ChartAxes, Series, accuracy_range, chart_axes

CHARTS = ("loss", "accuracy")  # the charts of a run, each with its rule for the y axis


def _number(value) -> float:
    """A metrics value as a float; missing values (None) become NaN, which breaks the line there."""
    return float("nan") if value is None else float(value)


def step_positions(metrics: RunMetrics) -> list[float]:
    """Where each step line sits on the epoch axis: its global step divided by the steps in one epoch."""
    per_epoch = metrics.steps_per_epoch()
    if per_epoch is None:  # no epoch has ended yet: all steps belong to the first epoch, whose length is unknown
        per_epoch = max((s.get("step", 0) for s in metrics.steps), default=1) or 1
    return [s.get("step", 0) / per_epoch for s in metrics.steps]


def loss_series(metrics: RunMetrics) -> list[Series]:
    """Per-step training loss (faint), then train and validation loss at each epoch end."""
    epochs = [float(e["epoch"]) for e in metrics.epochs]
    out = []
    if metrics.steps:
        out.append(
            Series(
                "step loss", step_positions(metrics), [_number(s.get("loss")) for s in metrics.steps], STEP_COLOR, True
            )
        )
    out.append(Series("train loss", epochs, [_number(e.get("train_loss")) for e in metrics.epochs], TRAIN_COLOR))
    if any(e.get("val_loss") is not None for e in metrics.epochs):
        out.append(Series("val loss", epochs, [_number(e.get("val_loss")) for e in metrics.epochs], VAL_COLOR))
    return out


def accuracy_series(metrics: RunMetrics) -> list[Series]:
    """Train and validation accuracy at each epoch end."""
    epochs = [float(e["epoch"]) for e in metrics.epochs]
    out = [Series("train accuracy", epochs, [_number(e.get("train_acc")) for e in metrics.epochs], TRAIN_COLOR)]
    if any(e.get("val_acc") is not None for e in metrics.epochs):
        out.append(Series("val accuracy", epochs, [_number(e.get("val_acc")) for e in metrics.epochs], VAL_COLOR))
    return out


def curve_axes(chart: str, xs: list[float], ys: list[float]) -> ChartAxes:
    """The axes of a run's loss or accuracy chart over these points, the same for the report, `ember plot` and the
    dashboard: whole epochs marked, distinct tick labels; loss spans its values, accuracy its values within 0-1."""
    if chart not in CHARTS:
        raise ValueError(f"no chart called {chart!r}; the charts are {', '.join(CHARTS)}")
    y_range = accuracy_range(ys) if chart == "accuracy" else None
    return chart_axes(xs, ys, epochs=True, y_range=y_range)


def series_axes(chart: str, series: list[Series]) -> ChartAxes:
    """`curve_axes` of every point of the series."""
    return curve_axes(chart, [float(x) for s in series for x in s.xs], [float(y) for s in series for y in s.ys])

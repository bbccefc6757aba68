"""Inline SVG builders for the report: line charts of training curves and a confusion-matrix heatmap."""

from __future__ import annotations

import dataclasses
import math
from html import escape

import numpy as np

# colours that stay distinct for colour-blind readers (Okabe-Ito)
TRAIN_COLOR = "#0072B2"
VAL_COLOR = "#D55E00"
STEP_COLOR = "#56B4E9"
TEST_COLOR = "#009E73"


@dataclasses.dataclass
class Series:
    """One line of a chart; points whose y is not finite break the line instead of being drawn."""

    label: str
    xs: list[float]
    ys: list[float]
    color: str
    faint: bool = False  # thin and translucent, without markers (e.g. per-step losses under the epoch curves)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw_step = (high - low) / max(count, 1)
    if not (math.isfinite(raw_step) and raw_step > 0):  # a span too wide or too narrow for a float
        return [low, high]
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first, last = low / step, high / step
    if not (step > 0 and math.isfinite(first) and math.isfinite(last)):
        return [low, high]
    first, last = math.ceil(first - 1e-9), math.floor(last + 1e-9)
    ticks: list[float] = []
    # each tick is index * step (no running sum, so no drift and an exact 0), at most a few more than count
    for index in range(first, min(last, first + 2 * count + 2) + 1):
        value = float(f"{index * step:.12g}")
        if not ticks or value != ticks[-1]:  # near a float's resolution neighbouring ticks can coincide
            ticks.append(value)
    return ticks


def _format_tick(value: float, digits: int = 4) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.{max(1, digits - 3)}e}"
    return f"{value:.{digits}g}"


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels for ticks with as few digits as keep them distinct (a nearly flat loss: 2.3025, 2.3026, ...,
    never 2.303 four times)."""
    for digits in range(4, 13):
        labels = [_format_tick(t, digits) for t in ticks]
        if len(set(labels)) == len(labels):
            return labels
    return labels


def epoch_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Whole epochs from 1 (or low) to high, every epoch when they fit, else every k-th: the same marks on
    every chart of a run, a one-epoch run included."""
    first, last = max(1, math.ceil(low - 1e-9)), math.floor(high + 1e-9)
    if last < first:
        return [float(last)] if last >= 1 else []
    step = max(1, math.ceil((last - first + 1) / most))
    return [float(e) for e in range(first, last + 1, step)]


def _bounds(values: list[float], pad_fraction: float = 0.0) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if high == low:
        spread = abs(low) * 0.1 or 1.0
        return low - spread, high + spread
    pad = (high - low) * pad_fraction
    if not math.isfinite(pad):  # the span itself overflows: no margin
        return low, high
    return low - pad, high + pad


def accuracy_range(values: list[float]) -> tuple[float, float]:
    """The accuracies' own span with a margin, inside [0, 1]: curves between 0.95 and 0.99 are not drawn flat."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    pad = max(0.02, 0.1 * (high - low))
    return max(0.0, low - pad), min(1.0, high + pad)


@dataclasses.dataclass
class ChartAxes:
    """Where a chart's axes run and what they mark: the ranges, the tick values and their labels."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_ticks: list[float]
    x_labels: list[str]
    y_ticks: list[float]
    y_labels: list[str]

    def to_json(self) -> dict[str, list]:
        """The axes as JSON-ready lists (the dashboard's server sends them to its page)."""
        return {name: list(value) for name, value in dataclasses.asdict(self).items()}


def chart_axes(
    xs: list[float], ys: list[float], *, epochs: bool = True, y_range: tuple[float, float] | None = None
) -> ChartAxes:
    """The axes of a chart of these points: x spans the x values (whole epochs marked when `epochs`), y spans the
    y values with a 5% margin unless `y_range` is given; tick labels as distinct as the ticks.

    Only the smallest and largest finite value of each list matter, so [min, max] gives the same axes as all
    the values (the dashboard's page sends just those)."""
    x_low, x_high = _bounds([float(x) for x in xs])
    y_low, y_high = y_range if y_range is not None else _bounds([float(y) for y in ys], pad_fraction=0.05)
    if epochs:
        x_ticks = [t for t in epoch_ticks(x_low, x_high) if x_low - 1e-9 <= t <= x_high + 1e-9]
    else:
        x_ticks = nice_ticks(x_low, x_high, count=min(8, max(1, int(x_high - x_low) or 1)))
    y_ticks = nice_ticks(y_low, y_high)
    return ChartAxes((x_low, x_high), (y_low, y_high), x_ticks, tick_labels(x_ticks), y_ticks, tick_labels(y_ticks))


def line_chart(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 480,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
    axes: ChartAxes | None = None,
) -> str:
    """An SVG line chart of the series, with axes, round ticks, a legend and a tooltip on every marker.

    The axes are `axes` when given, else `chart_axes` of the points (epochs marked when x_label is "epoch")."""
    if axes is None:
        all_x = [float(x) for s in series for x in s.xs]
        all_y = [float(y) for s in series for y in s.ys]
        axes = chart_axes(all_x, all_y, epochs=x_label == "epoch", y_range=y_range)
    # room for the longest y tick label between the rotated axis title and the plot (the dashboard's page does the same)
    left = max(56, math.ceil(30 + 6.5 * max((len(label) for label in axes.y_labels), default=0)))
    right, top, bottom = 16, 46, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    (x_low, x_high), (y_low, y_high) = axes.x_range, axes.y_range

    def sx(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return top + (1.0 - (y - y_low) / (y_high - y_low)) * plot_h

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" class="chart-title">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
    ]
    for tick, label in zip(axes.y_ticks, axes.y_labels):
        y = sy(tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{label}</text>')
    for tick, label in zip(axes.x_ticks, axes.x_labels):
        x = sx(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#f3f3f3"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{label}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    # faint series first, so the epoch curves sit on top of them
    for s in sorted(series, key=lambda s: not s.faint):
        parts.extend(_series_svg(s, sx, sy))
    # the legend is one row between the title and the plot, so it never hides a curve
    legend_x = left
    for s in series:
        if not s.xs:
            continue
        opacity = ' stroke-opacity="0.5"' if s.faint else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{top - 12}" y2="{top - 12}" stroke="{s.color}" '
            f'stroke-width="2"{opacity}/>'
        )
        parts.append(f'<text x="{legend_x + 22}" y="{top - 8}" class="legend">{escape(s.label)}</text>')
        legend_x += 30 + 6 * len(s.label)
    parts.append("</svg>")
    return "\n".join(parts)


def _series_svg(s: Series, sx, sy) -> list[str]:
    """Polylines (split at non-finite values) and, for solid series, one marker with a tooltip per point."""
    out = []
    segments: list[list[str]] = [[]]
    for x, y in zip(s.xs, s.ys):
        if math.isfinite(x) and math.isfinite(y):
            segments[-1].append(f"{sx(x):.1f},{sy(y):.1f}")
        elif segments[-1]:
            segments.append([])
    style = 'stroke-width="1" stroke-opacity="0.45"' if s.faint else 'stroke-width="2"'
    for points in segments:
        if len(points) > 1:
            out.append(f'<polyline fill="none" stroke="{s.color}" {style} points="{" ".join(points)}"/>')
    if not s.faint:
        for x, y in zip(s.xs, s.ys):
            if math.isfinite(x) and math.isfinite(y):
                out.append(
                    f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{s.color}">'
                    f"<title>{escape(s.label)} at {x:g}: {y:.4g}</title></circle>"
                )
    return out


def confusion_matrix_svg(matrix: np.ndarray, class_names: list[str], max_label_chars: int = 18) -> str:
    """A heatmap of the confusion matrix (rows: true class, columns: predicted), each cell showing its count.

    Colour is the share of the true class's examples that landed in the cell, so rare classes stay readable."""
    matrix = np.asarray(matrix, dtype=np.int64)
    k = matrix.shape[0]
    if matrix.shape != (k, k) or len(class_names) != k:
        raise ValueError(f"confusion matrix of shape {matrix.shape} does not fit {len(class_names)} class names")
    cell = max(22, min(48, 520 // max(k, 1)))
    labels = [_shorten(str(n), max_label_chars) for n in class_names]
    label_w = 12 + 7 * max((len(lbl) for lbl in labels), default=1)
    left, top = label_w + 24, label_w + 24
    width, height = left + k * cell + 10, top + k * cell + 10
    row_totals = matrix.sum(axis=1, keepdims=True)
    share = matrix / np.maximum(row_totals, 1)
    font = max(9, min(13, cell // 3))
    parts = [
        f'<svg class="confusion" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="confusion matrix">',
        f'<text x="{left + k * cell / 2:.1f}" y="14" text-anchor="middle" class="axis">predicted class</text>',
        f'<text x="14" y="{top + k * cell / 2:.1f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 14 {top + k * cell / 2:.1f})">true class</text>',
    ]
    for i, (name, short) in enumerate(zip(class_names, labels)):
        y = top + i * cell + cell / 2 + 4
        parts.append(
            f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end" class="tick">'
            f"<title>{escape(str(name))}</title>{escape(short)}</text>"
        )
        x = left + i * cell + cell / 2 + 4
        parts.append(
            f'<text x="{x:.1f}" y="{top - 6}" text-anchor="start" class="tick" transform="rotate(-90 {x:.1f} {top - 6})">'
            f"<title>{escape(str(name))}</title>{escape(short)}</text>"
        )
    for i in range(k):
        for j in range(k):
            count, fraction = int(matrix[i, j]), float(share[i, j])
            x, y = left + j * cell, top + i * cell
            fill = _heat_color(fraction, correct=(i == j))
            tip = f"true {class_names[i]}, predicted {class_names[j]}: {count} ({fraction:.1%} of the true class)"
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff" '
                f'data-true="{i}" data-pred="{j}" data-count="{count}"><title>{escape(tip)}</title></rect>'
            )
            if count:
                ink = ink_on(*_heat_rgb(fraction, correct=(i == j)))
                parts.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + font / 3:.1f}" text-anchor="middle" '
                    f'font-size="{font}" fill="{ink}" class="count">{count}</text>'
                )
    parts.append("</svg>")
    return "\n".join(parts)


def _heat_rgb(fraction: float, correct: bool) -> tuple[int, int, int]:
    """White to blue for the diagonal, white to red off it, by the share of the true class."""
    high = (0, 90, 170) if correct else (200, 50, 30)
    r, g, b = (round(255 + (c - 255) * fraction) for c in high)
    return r, g, b


def _heat_color(fraction: float, correct: bool) -> str:
    return "rgb({},{},{})".format(*_heat_rgb(fraction, correct))


def ink_on(r: float, g: float, b: float) -> str:
    """White text on a colour (r, g, b in 0-255) whose relative luminance is below 0.45, else near-black: the
    mid blues of a confusion matrix's diagonal read as dark, so they get white counts."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#fff" if luminance < 0.45 else "#222"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"

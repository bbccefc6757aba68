"""`ember report RUN`: one self-contained HTML page about a training run (inline SVG and data: URIs only)."""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from ember.train import RunDir

from .._atomic import write_text_atomic
from .curves import accuracy_series, loss_series, series_axes
from .png import png_data_uri, to_uint8_image
from .run_files import RunMetrics, read_config, read_json, read_metrics, run_path
from .svg import confusion_matrix_svg, line_chart

MAX_EXAMPLES = 60  # misclassified examples shown; the most confident mistakes first

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 4px; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
.muted { color: #666; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #f6f6f6; }
td.num { text-align: right; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
svg text:not(.count) { font-size: 11px; fill: #333; }  /* counts keep the size and ink they are given */
svg .chart-title { font-size: 13px; font-weight: 600; }
svg .axis { font-size: 12px; }
.examples { display: flex; flex-wrap: wrap; gap: 10px; }
.example { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: 6px; width: 110px; font-size: 12px; }
.example img { width: 96px; height: 96px; image-rendering: pixelated; display: block; background: #000; }
.scroll { overflow-x: auto; }
.finding { border-left: 4px solid #e6a700; padding: 4px 10px; margin: 8px 0; background: #fffbe8; }
.finding.error { border-color: #c62828; background: #fdecea; }
.ok { color: #1b7f3b; font-weight: 600; }
"""


def build_report(run_dir: str | os.PathLike, evaluation: Any | None = None) -> str:
    """The report page for the run as an HTML string; evaluates model.pt on the test split unless given."""
    path = run_path(run_dir)
    metrics = read_metrics(path)
    data_info = read_json(RunDir(path).data_json) or {}
    config = read_config(path)
    if evaluation is None and Path(RunDir(path).model).is_file():
        from ember.train import evaluate_run

        evaluation = evaluate_run(path, split="test", checkpoint="model")
    sections = [
        _header(path, metrics, data_info),
        _config_section(config, data_info),
        _curves_section(metrics),
        _metrics_section(metrics, evaluation),
    ]
    if evaluation is None:
        sections.append(
            '<section id="evaluation"><h2>Test evaluation</h2><p class="muted">This run has no model.pt yet '
            "(training has not finished), so there is no confusion matrix or example grid. Run "
            "<code>ember report</code> again when training ends.</p></section>"
        )
    else:
        sections += [
            _confusion_section(evaluation),
            _per_class_section(evaluation),
            _misclassified_section(evaluation, data_info),
        ]
    sections.append(_doctor_section(path, metrics, config))
    body = "\n".join(sections)
    title = f"ember report: {path.resolve().name}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(
    run_dir: str | os.PathLike, out: str | os.PathLike | None = None, evaluation: Any | None = None
) -> Path:
    """Write the report (default RUN/report.html) and return its path; the write is atomic."""
    html = build_report(run_dir, evaluation=evaluation)
    target = Path(out) if out is not None else Path(RunDir(run_dir).report)
    write_text_atomic(target, html)
    return target


# ---- sections ---------------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 4) -> str:
    """A number for a table cell; missing or non-numbers shown plainly."""
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return escape(str(value))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _pct(value: Any) -> str:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return _fmt(value)
    return f"{100 * value:.2f}%"


def _header(path: Path, metrics: RunMetrics, data_info: dict) -> str:
    done = metrics.test is not None
    epochs = len(metrics.epochs)
    status = "finished" if done else "in progress or interrupted"
    timing = _timing_summary(path)
    return (
        f"<header><h1>Training report: {escape(path.resolve().name)}</h1>"
        f'<p class="muted">Data: {escape(str(data_info.get("name", "unknown")))} &middot; {epochs} epoch(s) '
        f"logged &middot; status: {status}{timing}</p></header>"
    )


def _timing_summary(path: Path) -> str:
    """Total training time from timing.jsonl (kept apart from the deterministic metrics)."""
    timing = Path(RunDir(path).timing)
    if not timing.is_file():
        return ""
    import json

    seconds = 0.0
    for line in timing.read_text(encoding="utf-8").splitlines():
        try:
            seconds += float(json.loads(line).get("seconds", 0.0))
        except (ValueError, AttributeError):
            continue  # a torn last line while training runs
    return f" &middot; training time {seconds:.3g} s"


def _config_section(config: dict | None, data_info: dict) -> str:
    rows = []
    if config is None:
        rows.append('<p class="muted">No config.toml in this run folder.</p>')
    else:
        rows.append('<div class="charts">')
        for section, table in config.items():
            cells = "".join(
                f"<tr><th>{escape(str(key))}</th><td>{escape(_config_value(value))}</td></tr>"
                for key, value in table.items()
            )
            rows.append(
                f'<table class="config" data-section="{escape(section)}"><tr><th colspan="2">[{escape(section)}]'
                f"</th></tr>{cells}</table>"
            )
        rows.append("</div>")
    if data_info:
        sizes = data_info.get("sizes") or {}
        size_text = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in sizes.items())
        names = [str(n) for n in data_info.get("class_names") or []]
        shown = ", ".join(escape(n) for n in names[:20]) + (", \u2026" if len(names) > 20 else "")
        rows.append(
            f"<p>Data set <b>{escape(str(data_info.get('name', '?')))}</b>: "
            f"{escape(str(data_info.get('num_features', '?')))} features, "
            f"{escape(str(data_info.get('num_classes', '?')))} classes ({shown}); examples: {size_text or '?'}.</p>"
        )
    return '<section id="config"><h2>Configuration</h2>' + "\n".join(rows) + "</section>"


def _config_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, str) and value == "":
        return '""'
    return str(value)


def _curves_section(metrics: RunMetrics) -> str:
    if not metrics.epochs and not metrics.steps:
        return '<section id="curves"><h2>Training curves</h2><p class="muted">No metrics logged yet.</p></section>'
    charts = []
    for chart, title, series in (
        ("loss", "Loss", loss_series(metrics)),
        ("accuracy", "Accuracy", accuracy_series(metrics)),
    ):
        charts.append(line_chart(series, title=title, x_label="epoch", y_label=chart, axes=series_axes(chart, series)))
    return f'<section id="curves"><h2>Training curves</h2><div class="charts">{"".join(charts)}</div></section>'


def _metrics_section(metrics: RunMetrics, evaluation: Any | None) -> str:
    last = metrics.epochs[-1] if metrics.epochs else {}
    rows = [
        ("train", last.get("train_loss"), last.get("train_acc")),
        ("val", last.get("val_loss"), last.get("val_acc")),
    ]
    if evaluation is not None:
        rows.append(("test", _optional_float(evaluation.loss), _optional_float(evaluation.accuracy)))
    elif metrics.test is not None:
        rows.append(("test", metrics.test.get("test_loss"), metrics.test.get("test_acc")))
    else:
        rows.append(("test", None, None))
    body = "".join(
        f'<tr><th>{split}</th><td class="num" data-metric="{split}_loss">{_fmt(loss)}</td>'
        f'<td class="num" data-metric="{split}_acc">{_pct(acc)}</td></tr>'
        for split, loss, acc in rows
    )
    notes = []
    if last:
        notes.append(f"train and val from the last epoch ({last.get('epoch')})")
    scored = [e for e in metrics.epochs if isinstance(e.get("val_loss"), (int, float)) and math.isfinite(e["val_loss"])]
    if scored:
        best = min(scored, key=lambda e: e["val_loss"])
        notes.append(f"lowest val loss {best['val_loss']:.4f} at epoch {best['epoch']}")
    if evaluation is not None:
        notes.append("test from model.pt evaluated on the test split")
    note = f'<p class="muted">{escape("; ".join(notes))}.</p>' if notes else ""
    return (
        '<section id="metrics"><h2>Final metrics</h2><table class="metrics"><tr><th>split</th><th>loss</th>'
        f"<th>accuracy</th></tr>{body}</table>{note}</section>"
    )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs as a (K, K) int array."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def _confusion_section(evaluation: Any) -> str:
    names = [str(n) for n in evaluation.class_names]
    matrix = confusion_matrix(evaluation.y_true, evaluation.y_pred, len(names))
    svg = confusion_matrix_svg(matrix, names)
    return (
        '<section id="confusion"><h2>Confusion matrix (test)</h2>'
        f'<p class="muted">{int(matrix.sum())} test examples; rows are the true class, columns the prediction; '
        f'colour is the share of the true class.</p><div class="scroll">{svg}</div></section>'
    )


def _per_class_section(evaluation: Any) -> str:
    names = [str(n) for n in evaluation.class_names]
    matrix = confusion_matrix(evaluation.y_true, evaluation.y_pred, len(names))
    rows = []
    for i, name in enumerate(names):
        support = int(matrix[i].sum())
        correct = int(matrix[i, i])
        predicted = int(matrix[:, i].sum())
        off = matrix[i].copy()
        off[i] = 0
        confused = f"{escape(names[int(off.argmax())])} ({int(off.max())})" if off.max() > 0 else "\u2013"
        acc = _pct(correct / support) if support else "\u2013"
        precision = _pct(correct / predicted) if predicted else "\u2013"
        rows.append(
            f'<tr data-class="{i}"><td>{escape(name)}</td><td class="num">{support}</td><td class="num">{correct}</td>'
            f'<td class="num">{acc}</td><td class="num">{precision}</td><td>{confused}</td></tr>'
        )
    return (
        '<section id="per-class"><h2>Per-class accuracy (test)</h2><table class="per-class"><tr><th>class</th>'
        "<th>examples</th><th>correct</th><th>accuracy</th><th>precision</th><th>most often mistaken for</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _unnormalise(x: np.ndarray, data_info: dict) -> np.ndarray:
    """Undo the data set's normalisation (x = (raw - mean) / std) using data.json's mean and std."""
    mean = np.asarray(data_info.get("mean", 0.0), dtype=np.float64)
    std = np.asarray(data_info.get("std", 1.0), dtype=np.float64)
    return np.asarray(x, dtype=np.float64) * std + mean


def _misclassified_section(evaluation: Any, data_info: dict) -> str:
    y_true = np.asarray(evaluation.y_true)
    y_pred = np.asarray(evaluation.y_pred)
    probs = np.asarray(evaluation.probs)
    names = [str(n) for n in evaluation.class_names]
    wrong = np.flatnonzero(y_true != y_pred)
    head = '<section id="misclassified"><h2>Misclassified test examples</h2>'
    if wrong.size == 0:
        return head + '<p class="ok">Every test example was classified correctly.</p></section>'
    confidence = probs[wrong, y_pred[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:MAX_EXAMPLES]
    count_note = (
        f'<p class="muted">{wrong.size} of {y_true.size} test examples are wrong; showing '
        f"{len(order)}, the most confident mistakes first.</p>"
    )
    x = getattr(evaluation, "x", None)
    image_shape = getattr(evaluation, "image_shape", None) or data_info.get("image_shape")
    if x is None:
        return head + count_note + _mistake_table(order, y_true, y_pred, probs, names, None, data_info) + "</section>"
    raw = _unnormalise(np.asarray(x)[order], data_info)
    if image_shape:
        shape = tuple(int(d) for d in image_shape)
        cards = []
        for row, i in zip(raw, order):
            uri = png_data_uri(to_uint8_image(row.reshape(shape)))
            t, p = names[y_true[i]], names[y_pred[i]]
            cards.append(
                f'<figure class="example" data-index="{int(i)}" data-true="{int(y_true[i])}" '
                f'data-pred="{int(y_pred[i])}"><img src="{uri}" alt="test example {int(i)}">'
                f"<figcaption>true: <b>{escape(t)}</b><br>predicted: <b>{escape(p)}</b><br>"
                f"p = {probs[i, y_pred[i]]:.3f}</figcaption></figure>"
            )
        return head + count_note + '<div class="examples">' + "".join(cards) + "</div></section>"
    return head + count_note + _mistake_table(order, y_true, y_pred, probs, names, raw, data_info) + "</section>"


def _mistake_table(order, y_true, y_pred, probs, names, raw: np.ndarray | None, data_info: dict) -> str:
    """Misclassified rows of tabular data: labels, the prediction's probability and the original feature values."""
    features = raw.shape[1] if raw is not None else 0
    feature_names = [str(n) for n in (data_info.get("feature_names") or [])]
    if len(feature_names) != features:
        feature_names = [f"x{j + 1}" for j in range(features)]
    head = "<tr><th>test row</th><th>true</th><th>predicted</th><th>p</th>" + "".join(
        f"<th>{escape(n)}</th>" for n in feature_names
    )
    rows = []
    for k, i in enumerate(order):
        values = "" if raw is None else "".join(f'<td class="num">{v:.4g}</td>' for v in raw[k])
        rows.append(
            f'<tr class="example" data-index="{int(i)}" data-true="{int(y_true[i])}" data-pred="{int(y_pred[i])}">'
            f'<td class="num">{int(i)}</td><td>{escape(names[y_true[i]])}</td><td>{escape(names[y_pred[i]])}</td>'
            f'<td class="num">{probs[i, y_pred[i]]:.3f}</td>{values}</tr>'
        )
    return f'<div class="scroll"><table class="mistakes">{head}</tr>{"".join(rows)}</table></div>'


def _doctor_section(path: Path, metrics: RunMetrics, config: dict | None) -> str:
    head = '<section id="doctor"><h2>Training doctor</h2>'
    findings = read_json(RunDir(path).doctor_json)
    source = "doctor.json"
    if findings is None:
        if config is not None and config.get("train", {}).get("doctor") is False:
            return head + '<p class="muted">The doctor was off for this run (train.doctor = false).</p></section>'
        findings = [f for line in metrics.doctor for f in line.get("findings", [])]
        source = "metrics.jsonl (no doctor.json yet)"
    if not isinstance(findings, list):
        raise ValueError(f"{path / 'doctor.json'}: expected a JSON list of findings, got {type(findings).__name__}")
    if not findings:
        so_far = (
            ""
            if source == "doctor.json"
            else ' <span class="muted">(so far: doctor.json is written when training ends)</span>'
        )
        return head + f'<p class="ok">No problems found.</p>{so_far}</section>'
    items = []
    for f in findings:
        severity = str(f.get("severity", "warning"))
        where = ", ".join(
            part
            for part in (
                f"layer {f['layer']}" if f.get("layer") else "",
                f"step {f['step']}" if f.get("step") is not None else "",
            )
            if part
        )
        suggestion = f"<br><i>Suggestion:</i> {escape(str(f['suggestion']))}" if f.get("suggestion") else ""
        items.append(
            f'<div class="finding {escape(severity)}" data-kind="{escape(str(f.get("kind", "")))}">'
            f"<b>{escape(severity)}: {escape(str(f.get('kind', '')))}</b>"
            f"{' (' + escape(where) + ')' if where else ''}<br>{escape(str(f.get('message', '')))}{suggestion}</div>"
        )
    return (
        head + f'<p class="muted">{len(findings)} finding(s) from {escape(source)}.</p>' + "".join(items) + "</section>"
    )

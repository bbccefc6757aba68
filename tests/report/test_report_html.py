"""The HTML report: sections, numbers, escaping, self-containment and decodable example images."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import numpy as np
import pytest
from report_fixtures import CLASS_NAMES, Page, fake_evaluation, write_metrics

from ember.cli.main import main
from ember.report import build_report, write_report
from ember.report.run_files import RunFolderError


def decode_png(uri: str):
    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    image.load()
    return image


def test_report_has_every_section(run_folder):
    page = Page(build_report(run_folder, evaluation=fake_evaluation()))
    assert list(page.section_text) == [
        "config",
        "curves",
        "metrics",
        "confusion",
        "per-class",
        "misclassified",
        "doctor",
    ]
    assert "digits" in page.section_text["config"]
    assert len(page.find("svg", class_="chart")) == 2
    assert page.find("table", class_="config", data_section="train")


def test_confusion_counts_match_the_evaluation(run_folder):
    ev = fake_evaluation()
    page = Page(build_report(run_folder, evaluation=ev))
    cells = page.find("rect", class_="cell")
    assert len(cells) == 9
    counts = np.zeros((3, 3), dtype=int)
    for cell in cells:
        counts[int(cell["data-true"]), int(cell["data-pred"])] = int(cell["data-count"])
    expected = np.zeros((3, 3), dtype=int)
    for t, p in zip(ev.y_true, ev.y_pred):
        expected[t, p] += 1
    assert counts.sum() == len(ev.y_true) == 30
    np.testing.assert_array_equal(counts, expected)
    # per-class table: support and correct per row agree with the matrix
    assert "30 test examples" in page.section_text["confusion"]
    assert len(page.find("tr", data_class="2")) == 1


def test_metrics_table_numbers(run_folder):
    ev = fake_evaluation()
    html = build_report(run_folder, evaluation=ev)
    values = {}

    class Cells(HTMLParser):
        key = None

        def handle_starttag(self, tag, attrs):
            self.key = dict(attrs).get("data-metric")

        def handle_data(self, data):
            if self.key:
                values[self.key] = data
                self.key = None

    Cells().feed(html)
    assert values["train_loss"] == f"{1.0 / 3:.4f}"  # the last epoch's line
    assert values["val_acc"] == f"{100 * (0.45 + 0.3):.2f}%"
    assert values["test_loss"] == "0.6100"
    assert values["test_acc"] == f"{100 * ev.accuracy:.2f}%"


def test_report_is_self_contained(run_folder):
    html = build_report(run_folder, evaluation=fake_evaluation())
    page = Page(html)
    assert not any(t in ("script", "link", "iframe", "object", "embed") for t, _ in page.tags)
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "srcset"):
            if name in attrs:
                assert attrs[name].startswith(("data:", "#")), (tag, name, attrs[name][:60])
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html


def test_misclassified_images_decode_to_the_unnormalised_inputs(run_folder):
    ev = fake_evaluation()
    page = Page(build_report(run_folder, evaluation=ev))
    figures = page.find("figure", class_="example")
    images = [a for t, a in page.tags if t == "img"]
    wrong = np.flatnonzero(ev.y_true != ev.y_pred)
    assert len(figures) == len(images) == len(wrong) == 10
    confidence = [ev.probs[int(f["data-index"]), int(f["data-pred"])] for f in figures]
    assert confidence == sorted(confidence, reverse=True)  # the most confident mistakes first
    for fig, img in zip(figures, images):
        i = int(fig["data-index"])
        assert int(fig["data-true"]) == ev.y_true[i] != int(fig["data-pred"]) == ev.y_pred[i]
        image = decode_png(img["src"])
        assert image.size == (8, 8) and image.mode == "L"
        expected = np.rint(np.clip(ev.x[i].astype(np.float64) * 0.2 + 0.3, 0, 1) * 255).reshape(8, 8)
        np.testing.assert_array_equal(np.asarray(image), expected.astype(np.uint8))


def test_text_from_the_run_is_escaped(run_folder):
    html = build_report(run_folder, evaluation=fake_evaluation())
    assert CLASS_NAMES[2] not in html  # the raw markup never reaches the page
    assert "&lt;two &amp; &quot;three&quot;&gt;" in html
    assert "loss <jumps>" not in html and "loss &lt;jumps&gt;" in html
    page = Page(html)
    assert CLASS_NAMES[2] in page.section_text["per-class"]  # ... and reads back as the original text


def test_doctor_findings_sources(run_folder):
    page = Page(build_report(run_folder, evaluation=fake_evaluation()))
    assert [a["data-kind"] for a in page.find("div", class_="finding error")] == ["lr_too_high"]
    assert "try --lr 1e-4" in page.section_text["doctor"]
    # without doctor.json the findings logged in metrics.jsonl are shown
    (run_folder / "doctor.json").unlink()
    page = Page(build_report(run_folder, evaluation=fake_evaluation()))
    assert [a["data-kind"] for a in page.find("div", class_="finding warning")] == ["dead_relu"]
    # an empty doctor.json means the doctor found nothing
    (run_folder / "doctor.json").write_text("[]")
    page = Page(build_report(run_folder, evaluation=fake_evaluation()))
    assert "No problems found." in page.section_text["doctor"]
    assert not page.find("div", class_="finding warning")


def test_unfinished_run_reports_curves_and_says_why_the_rest_is_missing(run_folder):
    write_metrics(run_folder / "metrics.jsonl", epochs=2, test=False)
    with open(run_folder / "metrics.jsonl", "a") as f:
        f.write('{"kind": "step", "epo')  # a line being written right now
    page = Page(build_report(run_folder))  # no model.pt: no evaluation
    assert "evaluation" in page.section_text and "no model.pt" in page.section_text["evaluation"]
    assert "confusion" not in page.section_text
    html = build_report(run_folder)
    assert "2 epoch(s) logged" in html and "in progress" in html
    assert 'data-metric="test_acc">\u2013<' in html  # no test numbers yet, shown as a dash
    assert len(page.find("circle")) == 2 * 2 * 2  # 2 epochs x (train, val) x (loss, accuracy) markers


def test_csv_run_shows_feature_rows(tmp_path):
    run = tmp_path / "csv-run"
    run.mkdir()
    write_metrics(run / "metrics.jsonl", epochs=1)
    mean, std = np.array([1.0, 10.0, 100.0]), np.array([2.0, 1.0, 5.0])
    data = {
        "name": "table.csv",
        "num_features": 3,
        "num_classes": 2,
        "class_names": ["no", "yes"],
        "image_shape": None,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "sizes": {"test": 4},
    }
    (run / "data.json").write_text(json.dumps(data))
    raw = np.array([[3.0, 11.0, 90.0], [1.0, 9.5, 100.0], [5.0, 10.0, 105.0], [-1.0, 12.0, 95.0]])
    ev = fake_evaluation()
    ev.x, ev.image_shape, ev.class_names = (raw - mean) / std, None, ["no", "yes"]
    ev.y_true, ev.y_pred = np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0])
    ev.probs = np.array([[0.2, 0.8], [0.1, 0.9], [0.6, 0.4], [0.7, 0.3]])
    page = Page(build_report(run, evaluation=ev))
    assert not [t for t, _ in page.tags if t == "img"]
    rows = page.find("tr", class_="example")
    assert [int(r["data-index"]) for r in rows] == [0, 2]
    text = page.section_text["misclassified"]
    assert "x1" in text and "3" in text and "11" in text and "90" in text  # un-normalised values
    assert "105" in text


def test_write_report_and_cli(run_folder, tmp_path, capsys):
    written = write_report(run_folder, evaluation=fake_evaluation())
    assert written == run_folder / "report.html" and written.read_text().startswith("<!DOCTYPE html>")
    out = tmp_path / "elsewhere.html"
    (run_folder / "doctor.json").write_text("[]")
    assert main(["report", str(run_folder), "-o", str(out)]) == 0  # no model.pt: reports what there is
    assert "No problems found." in out.read_text()
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ember report: error: run folder") and "does not exist" in err and "\n" not in err


def test_not_a_run_folder(tmp_path):
    with pytest.raises(RunFolderError, match="no metrics.jsonl"):
        build_report(tmp_path)
    (tmp_path / "metrics.jsonl").write_text('{"kind": "epoch"\n')
    with pytest.raises(RunFolderError, match="line 1: not valid JSON"):
        build_report(tmp_path)


def test_chart_ticks_are_distinct_and_epochs_are_marked_on_every_chart():
    import re

    from ember.report.svg import Series, line_chart, nice_ticks, tick_labels

    flat = nice_ticks(2.30245, 2.30262)
    labels = tick_labels(flat)
    assert len(set(labels)) == len(labels) == len(flat)  # never "2.303" four times
    steps = [i / 20 for i in range(1, 21)]  # a one-epoch run: per-step points at fractions of the epoch
    svg = line_chart([Series("train", steps, [2.3026 - 1e-5 * i for i in range(20)], "#000")],
                     title="Loss", x_label="epoch", y_label="loss")  # fmt: skip
    y_labels = re.findall(r'text-anchor="end" class="tick">([^<]+)<', svg)
    x_labels = re.findall(r'text-anchor="middle" class="tick">([^<]+)<', svg)
    assert len(set(y_labels)) == len(y_labels) > 1 and x_labels == ["1"]
    many = line_chart([Series("acc", [1, 2, 3, 4], [0.1, 0.5, 0.7, 0.8], "#000")],
                      title="Accuracy", x_label="epoch", y_label="accuracy")  # fmt: skip
    assert re.findall(r'text-anchor="middle" class="tick">([^<]+)<', many) == ["1", "2", "3", "4"]


def test_the_accuracy_axis_follows_the_curves_and_counts_contrast_with_their_cells():
    from ember.report.curves import series_axes
    from ember.report.svg import Series, _heat_rgb, ink_on

    low, high = series_axes("accuracy", [Series("val", [1, 2, 3], [0.95, 0.97, 0.99], "#000")]).y_range
    assert 0.9 < low < 0.95 and high == 1.0  # not 0-1, which would draw these flat
    assert series_axes("accuracy", []).y_range == (0.0, 1.0)
    assert ink_on(*_heat_rgb(0.55, correct=True)) == "#fff"  # a mid blue diagonal cell: white counts
    assert ink_on(*_heat_rgb(0.1, correct=True)) == "#222" and ink_on(255, 255, 255) == "#222"

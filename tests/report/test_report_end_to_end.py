"""Train a tiny digits run with ember.train.fit, then report it: the numbers must match evaluate_run."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from report_fixtures import Page

from ember.cli.main import main
from ember.report import build_report
from ember.train import evaluate_run, fit, load_config


def test_report_of_a_real_run(tmp_path, capsys):
    run = tmp_path / "tiny"
    cfg = load_config(overrides={"train.epochs": 2, "data.limit": 300})
    fit(cfg, str(run), out=io.StringIO())
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run / 'report.html'}"
    html = (run / "report.html").read_text()
    page = Page(html)
    assert {"config", "curves", "metrics", "confusion", "per-class", "misclassified", "doctor"} <= set(
        page.section_text
    )

    ev = evaluate_run(str(run), split="test", checkpoint="model")
    sizes = json.loads((run / "data.json").read_text())["sizes"]
    counts = np.zeros((10, 10), dtype=int)
    for cell in page.find("rect", class_="cell"):
        counts[int(cell["data-true"]), int(cell["data-pred"])] = int(cell["data-count"])
    assert counts.sum() == sizes["test"] == len(ev.y_true)
    np.testing.assert_array_equal(np.diag(counts), [np.sum((ev.y_true == k) & (ev.y_pred == k)) for k in range(10)])
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(ev.y_true, minlength=10))
    np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(ev.y_pred, minlength=10))

    test_line = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()][-1]
    assert test_line["kind"] == "test" and abs(test_line["test_acc"] - ev.accuracy) < 1e-9
    assert f'data-metric="test_acc">{100 * ev.accuracy:.2f}%<' in html

    from PIL import Image

    images = [a["src"] for t, a in page.tags if t == "img"]
    wrong = int(np.sum(ev.y_true != ev.y_pred))
    assert len(images) == min(wrong, 60) > 0
    for src in images:
        assert src.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        image.load()
        assert image.size == (8, 8)
    assert "http://" not in html and "https://" not in html

    findings = json.loads((run / "doctor.json").read_text())  # written by the doctor at the end of training
    shown = [a for t, a in page.tags if t == "div" and a.get("class", "").startswith("finding ")]
    assert [f["data-kind"] for f in shown] == [f["kind"] for f in findings]
    if not findings:
        assert "No problems found." in page.section_text["doctor"]


def test_report_shows_the_doctors_findings_of_a_badly_initialised_run(tmp_path):
    run = tmp_path / "bad-init"
    overrides = {"train.epochs": 1, "data.limit": 300, "model.init": "randn", "model.activation": "sigmoid"}
    fit(load_config(overrides={**overrides, "train.doctor_every": 2}), str(run), out=io.StringIO())
    findings = json.loads((run / "doctor.json").read_text())
    assert any(f["kind"] == "bad_init" for f in findings)
    page = Page(build_report(run))
    shown = [a["data-kind"] for t, a in page.tags if t == "div" and a.get("class", "").startswith("finding ")]
    assert shown == [f["kind"] for f in findings]
    assert findings[0]["suggestion"][:40] in page.section_text["doctor"]

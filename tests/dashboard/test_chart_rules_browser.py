"""The report's and the dashboard's charts as headless Chromium renders them, screenshots included: tick labels stay
distinct on a flat loss, epoch axes mark whole epochs (a one-epoch run too), the accuracy axis follows the
accuracies, and confusion-matrix counts are white on dark cells.

Screenshots go to tmp_path and, when EMBER_SCREENSHOT_DIR is set, into that folder too."""

from __future__ import annotations

import json
import re
import types

import numpy as np
from dashboard_fixtures import running_server

from ember.report import write_report

FLAT_LOSS = 2.30255  # a loss that barely moves: 2.3025x at every tick, which four digits cannot tell apart

# each chart's tick labels as drawn: y ticks are the right-aligned texts (left of the plot), x ticks the centred
# texts that are numbers (the title and the axis names are centred too); charts named by aria-label or class
TICKS_SCRIPT = """
const out = {};
for (const svg of document.querySelectorAll(arguments[0])) {
  const name = (svg.getAttribute("aria-label") || svg.getAttribute("class").replace("chart", "")).trim().toLowerCase();
  const texts = anchor => [...svg.querySelectorAll(`text[text-anchor=${anchor}]`)].map(t => t.textContent.trim());
  out[name] = {y: texts("end"), x: texts("middle").filter(t => t !== "" && isFinite(Number(t)))};
}
return out;
"""

# every count of the confusion matrix: the colour its text is drawn in and the colour of its cell, as rendered
COUNTS_SCRIPT = """
return [...document.querySelectorAll("svg.confusion text.count")].map(text => ({
  count: text.textContent,
  ink: getComputedStyle(text).fill,
  cell: getComputedStyle(text.previousElementSibling).fill,
}));
"""


def write_metrics(folder, epochs: int, steps_per_epoch: int = 4, first_step: int = 1) -> None:
    """metrics.jsonl of a run with a nearly flat loss and accuracies between 0.95 and 0.99."""
    folder.mkdir(parents=True)
    records = []
    for epoch in range(1, epochs + 1):
        for step in range((epoch - 1) * steps_per_epoch + 1, epoch * steps_per_epoch + 1):
            if step >= first_step:
                loss = FLAT_LOSS + 4e-5 * ((step * 7) % 5 - 2)
                records.append({"kind": "step", "epoch": epoch, "step": step, "loss": loss, "lr": 0.01})
        records.append(
            {"kind": "epoch", "epoch": epoch, "step": epoch * steps_per_epoch, "lr": 0.01,
             "train_loss": FLAT_LOSS + 2e-5 * epoch, "val_loss": FLAT_LOSS - 3e-5 * epoch,
             "train_acc": 0.95 + 0.02 * (epoch - 1) / max(epochs - 1, 1), "val_acc": 0.99 - 0.01 * epoch / epochs}
        )  # fmt: skip
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def evaluation() -> types.SimpleNamespace:
    """An evaluation whose confusion matrix has cells at shares 0.5 (on and off the diagonal), 0.7 and 0.9 of their
    class, dark enough for white counts though 0.5 is under the old cut of 0.55, and light ones at 0.1 and 0.3."""
    y_true = np.repeat([0, 1, 2], 10)
    y_pred = np.array([0] * 5 + [1] * 5 + [1] * 9 + [2] + [2] * 7 + [0] * 3)
    probs = np.full((30, 3), 0.1, dtype=np.float32)
    probs[np.arange(30), y_pred] = 0.8
    x = np.random.default_rng(0).uniform(0, 1, size=(30, 16)).astype(np.float32)
    accuracy = float(np.mean(y_true == y_pred))
    return types.SimpleNamespace(
        y_true=y_true, y_pred=y_pred, probs=probs, loss=0.7, accuracy=accuracy,
        class_names=["cat", "dog", "bird"], x=x, image_shape=(4, 4),
    )  # fmt: skip


def luminance(css_colour: str) -> float:
    """The relative luminance (WCAG) of a computed CSS colour such as 'rgb(12, 34, 56)'."""
    r, g, b = (int(c) / 255 for c in re.findall(r"\d+", css_colour)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def check_flat_run_charts(charts: dict) -> None:
    """The charts of the three-epoch flat-loss run, whichever page drew them."""
    loss, accuracy = charts["loss"], charts["accuracy"]
    assert len(loss["y"]) > 1 and len(set(loss["y"])) == len(loss["y"]), loss["y"]  # never "2.303" twice
    assert loss["x"] == accuracy["x"] == ["1", "2", "3"]  # every epoch marked, on both charts
    accuracy_ticks = [float(t) for t in accuracy["y"]]
    assert len(accuracy_ticks) > 1 and min(accuracy_ticks) >= 0.9, accuracy["y"]  # not a fixed 0-1 axis


def check_one_epoch_charts(charts: dict) -> None:
    """The charts of a one-epoch run whose step lines start three quarters into the epoch."""
    assert charts["loss"]["x"] == charts["accuracy"]["x"] == ["1"]  # its one epoch, and no fractions of it


def test_report_charts_in_the_browser(tmp_path, browser, screenshot):
    flat, short = tmp_path / "flat-run", tmp_path / "one-epoch-run"
    write_metrics(flat, epochs=3)
    write_metrics(short, epochs=1, first_step=3)

    browser.get(write_report(flat, evaluation=evaluation()).as_uri())
    check_flat_run_charts(browser.execute_script(TICKS_SCRIPT, "svg.chart"))
    counts = browser.execute_script(COUNTS_SCRIPT)
    assert len(counts) == 6
    for count in counts:
        dark = luminance(count["cell"]) < 0.45
        assert (count["ink"] == "rgb(255, 255, 255)") == dark, count
    assert sum(luminance(c["cell"]) < 0.45 for c in counts) == 4  # the diagonal's 0.5, 0.7, 0.9; the red 0.5
    screenshot("report-flat-loss")

    browser.get(write_report(short, evaluation=evaluation()).as_uri())
    check_one_epoch_charts(browser.execute_script(TICKS_SCRIPT, "svg.chart"))
    screenshot("report-one-epoch")


def test_dashboard_charts_in_the_browser(tmp_path, browser, screenshot):
    from selenium.webdriver.support.ui import WebDriverWait

    runs = tmp_path / "runs"
    write_metrics(runs / "flat-run", epochs=3)
    write_metrics(runs / "one-epoch-run", epochs=1, first_step=3)
    with running_server(runs) as server:
        browser.get(server.url)
        drawn = 'section.run[data-run="{}"][data-points="{}"]'
        WebDriverWait(browser, 10, poll_frequency=0.1).until(
            lambda d: d.execute_script(
                "return document.querySelector(arguments[0]) && document.querySelector(arguments[1])",
                drawn.format("flat-run", 3),
                drawn.format("one-epoch-run", 1),
            )
        )
        check_flat_run_charts(browser.execute_script(TICKS_SCRIPT, 'section[data-run="flat-run"] svg.chart'))
        check_one_epoch_charts(browser.execute_script(TICKS_SCRIPT, 'section[data-run="one-epoch-run"] svg.chart'))
        screenshot("dashboard")

"""Run folders written by hand exactly as the run-folder spec lays them out, a matching evaluation, and an HTML
parser for checking the report."""

from __future__ import annotations

import json
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from ember.train.config import load_config, to_toml

CLASS_NAMES = ["zero", "one", '<two & "three">']  # markup in a class name must come out escaped


def write_metrics(path, epochs: int = 3, steps_per_epoch: int = 4, test: bool = True) -> list[dict]:
    """metrics.jsonl with step lines every 2 steps, epoch lines, one doctor line and (optionally) the test line."""
    records = []
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps_per_epoch):
            step += 1
            if step % 2 == 0:
                records.append({"kind": "step", "epoch": epoch, "step": step, "loss": 1.5 / step, "lr": 0.001})
        records.append(
            {
                "kind": "epoch",
                "epoch": epoch,
                "step": step,
                "train_loss": 1.0 / epoch,
                "train_acc": 0.5 + 0.1 * epoch,
                "val_loss": 1.2 / epoch,
                "val_acc": 0.45 + 0.1 * epoch,
                "lr": 0.001,
            }
        )
        if epoch == 2:
            finding = {
                "kind": "dead_relu",
                "severity": "warning",
                "message": "60% of layer 2's units never fire",
                "suggestion": "lower the learning rate",
                "layer": "2",
                "step": step,
                "data": {},
            }
            records.append({"kind": "doctor", "epoch": epoch, "step": step, "findings": [finding]})
    if test:
        records.append({"kind": "test", "epoch": epochs, "step": step, "test_loss": 0.61, "test_acc": 0.7})
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def fake_evaluation(n: int = 30, seed: int = 0) -> types.SimpleNamespace:
    """An EvalResult-like object: 30 test images of 8x8 over 3 classes, a third of them misclassified."""
    rng = np.random.default_rng(seed)
    y_true = np.arange(n) % 3
    y_pred = y_true.copy()
    y_pred[::3] = (y_true[::3] + 1) % 3
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y_pred] += 3.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    x = (rng.uniform(0, 1, size=(n, 64)) - 0.3) / 0.2  # normalised with mean 0.3, std 0.2
    return types.SimpleNamespace(
        y_true=y_true,
        y_pred=y_pred,
        probs=probs.astype(np.float32),
        loss=0.61,
        accuracy=float(np.mean(y_true == y_pred)),
        class_names=list(CLASS_NAMES),
        x=x.astype(np.float32),
        image_shape=(8, 8),
    )


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each <section id=...>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.section_text: dict[str, str] = {}
        self._section: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._section = attrs.get("id")
            self.section_text[self._section] = ""

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._section is not None:
            self.section_text[self._section] += data

    def find(self, tag: str, **wanted) -> list[dict]:
        """Attributes of every `tag` whose attributes include `wanted` (class_ for class)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in wanted.items()}
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())]


def make_run_folder(root) -> Path:
    """A finished image run: config.toml, data.json, metrics.jsonl, doctor.json and timing.jsonl."""
    run = root / "digits-run"
    run.mkdir()
    (run / "config.toml").write_text(to_toml(load_config(overrides={"train.epochs": 3})))
    data = {
        "name": "digits",
        "num_features": 64,
        "num_classes": 3,
        "class_names": CLASS_NAMES,
        "image_shape": [8, 8],
        "mean": [0.3],
        "std": [0.2],
        "sizes": {"train": 100, "val": 20, "test": 30},
    }
    (run / "data.json").write_text(json.dumps(data))
    write_metrics(run / "metrics.jsonl")
    finding = {
        "kind": "lr_too_high",
        "severity": "error",
        "message": "loss <jumps> by 10x",
        "suggestion": "try --lr 1e-4",
        "layer": None,
        "step": 7,
        "data": {"ratio": 10.0},
    }
    (run / "doctor.json").write_text(json.dumps([finding]))
    (run / "timing.jsonl").write_text(
        "".join(json.dumps({"epoch": e, "seconds": 0.5, "samples_per_s": 200.0}) + "\n" for e in (1, 2, 3))
    )
    return run

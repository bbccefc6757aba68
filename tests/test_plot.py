"""`ember plot`: PNG files of the right size, and activation derivatives that match torch's autograd."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from ember import plot
from ember.cli.main import main

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def png_size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def write_run(folder, epochs: int = 3) -> None:
    folder.mkdir()
    lines = []
    for epoch in range(1, epochs + 1):
        lines.append({"kind": "step", "epoch": epoch, "step": 4 * epoch - 2, "loss": 2.0 / epoch, "lr": 0.01})
        lines.append(
            {"kind": "epoch", "epoch": epoch, "step": 4 * epoch, "train_loss": 1.0 / epoch, "train_acc": 0.2 * epoch,
             "val_loss": 1.1 / epoch, "val_acc": 0.2 * epoch - 0.05, "lr": 0.01}
        )  # fmt: skip
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_plot_curves_writes_a_png_of_the_figure_size(tmp_path):
    write_run(tmp_path / "run")
    out = plot.plot_curves(tmp_path / "run", tmp_path / "curves.png")
    assert png_size(out) == (int(plot.CURVES_SIZE[0] * plot.DPI), int(plot.CURVES_SIZE[1] * plot.DPI))


def test_plot_curves_axes_follow_the_reports_rules(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(plot, "_save", lambda fig, out: figures.append(fig))
    write_run(tmp_path / "run", epochs=1)
    plot.plot_curves(tmp_path / "run", tmp_path / "curves.png")
    loss_ax, acc_ax = figures[0].axes
    for ax in (loss_ax, acc_ax):
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1"]  # the one epoch, no fractions of it
    assert acc_ax.get_ylim() != (0.0, 1.0) and 0.0 < acc_ax.get_ylim()[0] < 0.15  # accuracies 0.15 and 0.2


def test_plot_curves_refuses_an_empty_log(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text("")
    with pytest.raises(ValueError, match="no step or epoch lines yet"):
        plot.plot_curves(tmp_path / "run", tmp_path / "x.png")


def test_plot_activations_png(tmp_path):
    out = plot.plot_activations(tmp_path / "act.png")
    assert png_size(out) == (int(plot.ACTIVATIONS_SIZE[0] * plot.DPI), int(plot.ACTIVATIONS_SIZE[1] * plot.DPI))


def test_activation_derivatives_match_torch_autograd():
    torch = pytest.importorskip("torch")
    oracle = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": torch.nn.functional.leaky_relu,
        "elu": torch.nn.functional.elu,
        "celu": torch.celu,
        "gelu": torch.nn.functional.gelu,
        "silu": torch.nn.functional.silu,
        "softplus": torch.nn.functional.softplus,
    }
    curves = plot.activation_curves()
    assert list(curves) == list(plot.ACTIVATION_NAMES) == list(oracle)
    for name, (x, y, dy) in curves.items():
        assert x.shape == y.shape == dy.shape == (1000,)
        tx = torch.tensor(x, requires_grad=True)
        ty = oracle[name](tx)
        ty.sum().backward()
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(dy, tx.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(curves["relu"][0], torch.linspace(-10, 10, 1000).numpy(), rtol=0, atol=1e-6)


def test_plot_confusion_of_a_real_run(tmp_path):
    from ember.train import fit, load_config

    run = tmp_path / "tiny"
    fit(load_config(overrides={"train.epochs": 1, "data.limit": 200}), str(run), out=io.StringIO())
    assert main(["plot", "confusion", str(run)]) == 0
    assert png_size(run / "confusion.png") == (
        int(plot.CONFUSION_SIZE[0] * plot.DPI),
        int(plot.CONFUSION_SIZE[1] * plot.DPI),
    )


def test_cli(tmp_path, capsys, monkeypatch):
    write_run(tmp_path / "run")
    assert main(["plot", "curves", str(tmp_path / "run")]) == 0
    assert png_size(tmp_path / "run" / "curves.png")[0] > 0
    assert main(["plot", "curves"]) == 2
    assert "ember plot: error: curves expects a run folder" in capsys.readouterr().err
    assert main(["plot", "curves", str(tmp_path / "nope")]) == 2  # a mistake in what was asked, as everywhere
    err = capsys.readouterr().err
    assert err.startswith("ember plot: error: ") and "does not exist" in err and err.count("\n") == 1
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if matplotlib were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    assert main(["plot", "activations", "-o", str(tmp_path / "a.png")]) == 1
    assert "pip install ember[plot]" in capsys.readouterr().err

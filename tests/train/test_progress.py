"""What training prints: one line per epoch off a terminal, a throttled tqdm bar on one, and the final table."""

from __future__ import annotations

import io

import pytest

from ember.train import load_config, progress
from ember.train.progress import Progress, epoch_summary, format_duration, format_epoch_line, format_table
from ember.train.trainer import fit

RECORD = {
    "kind": "epoch",
    "epoch": 3,
    "step": 30,
    "train_loss": 0.41234,
    "train_acc": 0.8712,
    "val_loss": 0.44101,
    "val_acc": 0.86,
    "lr": 0.001,
}


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_epoch_line_format():
    line = format_epoch_line(RECORD, 10, 2.1, 27400.4)
    assert (
        line == "epoch 3/10  train loss 0.4123 acc 87.1%  val loss 0.4410 acc 86.0%  lr 0.001  2.1 s  27,400 samples/s"
    )


def test_epoch_line_without_validation_split():
    record = {**RECORD, "val_loss": None, "val_acc": None, "lr": 0.0005}
    assert epoch_summary(record) == "train loss 0.4123 acc 87.1%  lr 0.0005"


@pytest.mark.parametrize(
    "seconds, text", [(0.04, "0.0 s"), (2.14, "2.1 s"), (42.4, "42 s"), (185, "3 min 05 s"), (3725, "1 h 02 min")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_table_format():
    table = format_table([("train", 0.1234, 0.9653), ("validation", 0.23456, 0.9403), ("test", None, None)])
    assert table.splitlines() == [
        "split           loss  accuracy",
        "train         0.1234    96.53%",
        "validation    0.2346    94.03%",
        "test               -         -",
    ]


def test_plain_output_is_one_line_per_epoch_with_eta():
    out = io.StringIO()
    p = Progress(out, total_epochs=2, samples_per_epoch=100)
    assert not p.uses_bar
    p.start_epoch(1)
    for done in range(10, 101, 10):
        p.update(done, 0.5, 0.75)
    assert out.getvalue() == ""  # no partial output while the epoch runs
    p.end_epoch({**RECORD, "epoch": 1}, seconds=2.0, samples_per_s=50.0)
    p.start_epoch(2)
    p.end_epoch({**RECORD, "epoch": 2}, seconds=4.0, samples_per_s=25.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  train loss 0.4123") and lines[0].endswith("50 samples/s  ETA 2.0 s")
    assert lines[1].endswith("4.0 s  25 samples/s")  # the last epoch has no ETA


def test_terminal_gets_a_tqdm_bar():
    pytest.importorskip("tqdm")
    out = FakeTerminal()
    p = Progress(out, total_epochs=2, samples_per_epoch=100)
    assert p.uses_bar
    p.start_epoch(1)
    p.update(50, 0.5, 0.75)
    p.end_epoch({**RECORD, "epoch": 1}, seconds=1.0, samples_per_s=100.0)
    p.message("done")
    text = out.getvalue()
    assert "\r" in text and "epoch 1/2" in text
    # the bar is cleared and the finished epoch gets a line sized to the terminal
    assert "\nepoch" not in text and "epoch 1/2  train 0.4123 87.1%  val 0.4410 86.0%" in text and "ETA 1.0 s" in text
    assert text.endswith("done\n")


class RecordingBar:
    """Stands in for tqdm: records what the progress reporter asks of it."""

    instances: list[RecordingBar] = []

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.updates: list[int] = []
        self.postfixes: list[str] = []
        self.closed = False
        RecordingBar.instances.append(self)

    def update(self, n: int) -> None:
        self.updates.append(n)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfixes.append(text)

    def close(self) -> None:
        self.closed = True


def test_bar_redraws_at_most_ten_times_a_second(monkeypatch):
    RecordingBar.instances.clear()
    monkeypatch.setattr(progress, "_tqdm_class", lambda: RecordingBar)
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    p = Progress(FakeTerminal(), total_epochs=1, samples_per_epoch=1000)
    p.start_epoch(1, samples_done=200)  # resuming part-way through the epoch
    bar = RecordingBar.instances[0]
    assert bar.kwargs["initial"] == 200 and bar.kwargs["total"] == 1000
    for done in range(210, 600, 10):  # many steps within one instant: only the first redraws
        p.update(done, 0.5, 0.5)
    assert bar.updates == [10]
    clock[0] += 0.05
    p.update(610, 0.5, 0.5)
    assert bar.updates == [10]
    clock[0] += 0.06
    p.update(620, 0.4, 0.5)
    assert bar.updates == [10, 410] and bar.postfixes[-1] == "loss 0.4000 acc 50.0%"
    p.end_epoch({**RECORD, "epoch": 1}, seconds=1.0, samples_per_s=800.0)
    assert bar.closed  # and gives way to the epoch's line


def test_asking_for_a_bar_without_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setattr(progress, "_tqdm_class", lambda: None)
    with pytest.raises(ImportError, match=r"ember\[progress\]"):
        Progress(io.StringIO(), total_epochs=1, samples_per_epoch=10, bar=True)
    assert not Progress(FakeTerminal(), total_epochs=1, samples_per_epoch=10).uses_bar


def test_fit_prints_one_line_per_epoch_and_the_table(tmp_path):
    cfg = load_config(None, {"data.limit": 200, "train.epochs": 3, "train.batch_size": 50, "train.doctor": False})
    out = io.StringIO()
    fit(cfg, str(tmp_path / "run"), out=out)
    lines = out.getvalue().splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    header = lines.index("split           loss  accuracy")
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["train", "validation", "test"]


@pytest.mark.parametrize("width", [80, 60, 120])
def test_every_epoch_line_shows_the_validation_numbers_in_its_width(width):
    record = {**RECORD, "epoch": 10, "train_loss": 1.117512, "val_loss": 12.3456, "val_acc": 0.1234, "lr": 0.000123}
    line = progress.fit_epoch_line(record, 10, 754.0, "ETA 1 h 02 min", width)
    assert line.startswith("epoch 10/10  train 1.1175 87.1%  val 12.3456 12.3%")
    assert len(line) <= width
    assert ("lr 0.000123" in line) == (width >= 70) and ("ETA" in line) == (width >= 100)

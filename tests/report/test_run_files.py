"""Reading a run's metrics for the report: damaged files are named, never a bare traceback."""

from __future__ import annotations

import pytest


def test_metrics_with_a_non_number_or_bad_bytes_name_the_file(tmp_path):
    from ember.report import RunFolderError, read_metrics

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"kind": "epoch", "epoch": "x", "train_loss": 1.0}\n')
    with pytest.raises(RunFolderError, match=r"metrics.jsonl: record 1 \(epoch\) has epoch = 'x', not a number"):
        read_metrics(run)
    (run / "metrics.jsonl").write_bytes(b'{"kind": "epoch", "epoch": 1}\n\xff\xfe\n')
    with pytest.raises(RunFolderError, match="metrics.jsonl: not UTF-8 text at byte"):
        read_metrics(run)

"""BLAS threads under `ember train`: --threads, and the default that leaves a busy machine's CPUs alone.

The load check is a machine-dependent choice (EMBER_FALLBACKS=load turns it off); `make test` runs these
tests both ways and each asserts the outcome of the mode it runs in. The load average is replaced by a fake
one, so nothing here depends on how busy the machine running the tests is."""

from __future__ import annotations

import io

import pytest

import ember
from ember import _blas, _machine
from ember.train import ConfigError, load_config
from ember.train.checkpoint import load_checkpoint
from ember.train.run_dir import RunDir
from ember.train.trainer import fit

LOAD_CHECK_ON = not _machine.forced("load")


@pytest.fixture
def machine(monkeypatch):
    """machine(load, cpus): pretend the load average and the usable CPU count."""

    def pretend(load, cpus: int) -> None:
        monkeypatch.setattr(_blas, "_load", lambda: load)
        monkeypatch.setattr(_blas, "usable_cpus", lambda: cpus)

    return pretend


def test_the_count_is_the_cpus_the_load_leaves_free(machine):
    cases = [  # (load, cpus, limit) -> count when the check is on
        ((8.4, 2, 2), 1),
        ((0.2, 2, 2), 2),
        ((1.3, 2, 2), 1),
        ((0.6, 2, 2), 1),  # 1.4 CPUs free: rounds to 1
        ((0.4, 2, 2), 2),
        ((3.0, 8, 8), 5),
        ((0.0, 8, 2), 2),  # never above the limit
        ((50.0, 4, 4), 1),  # never below one
    ]
    for (load, cpus, limit), expected in cases:
        machine(load, cpus)
        count, why = _blas.threads_for_load(limit)
        if LOAD_CHECK_ON:
            assert count == expected and why == f"load {load:.1f} on {cpus} CPUs"
        else:
            assert count == limit and "EMBER_FALLBACKS=load" in why


def test_without_a_load_average_all_threads_are_used(machine):
    machine(None, 4)
    assert _blas.threads_for_load(3)[0] == 3


def _cfg(**settings):
    base = {"data.limit": 300, "model.hidden": "16", "train.epochs": 1, "train.batch_size": 64}
    base.update(settings)
    return load_config(None, base)


def _train(folder: str, cfg=None, resume: bool = False) -> str:
    out = io.StringIO()
    fit(cfg, folder, resume=resume, out=out)
    return out.getvalue()


def test_a_busy_machine_gets_fewer_threads_and_the_run_says_so(machine, tmp_path):
    machine(8.4, 2)
    before = ember.get_num_threads()
    printed = _train(str(tmp_path / "run"), _cfg())
    ckpt = load_checkpoint(RunDir(str(tmp_path / "run")).last)
    limit = _blas.num_threads()
    if LOAD_CHECK_ON and limit > 1:
        assert ckpt["threads"] == 1
        assert f"the machine is busy (load 8.4 on 2 CPUs): using 1 BLAS thread(s) of {limit}" in printed
    else:
        assert ckpt["threads"] == limit and "the machine is busy" not in printed
    assert ember.get_num_threads() == before  # put back when the run ends


def test_an_idle_machine_uses_every_thread_quietly(machine, tmp_path):
    machine(0.0, 64)
    printed = _train(str(tmp_path / "run"), _cfg())
    assert load_checkpoint(RunDir(str(tmp_path / "run")).last)["threads"] == _blas.num_threads()
    assert "the machine is busy" not in printed


def test_threads_flag_wins_and_a_resume_keeps_the_runs_count(machine, tmp_path):
    folder = str(tmp_path / "run")
    machine(0.0, 64)
    _train(folder, _cfg(**{"train.threads": 1, "train.epochs": 1}))
    rd = RunDir(folder)
    assert load_checkpoint(rd.last)["threads"] == 1
    # more epochs later, on a machine now idle: the run keeps the count its products were made with
    cfg = rd.read_config()
    cfg.train.epochs, cfg.train.threads = 2, 0
    printed = _train(folder, cfg, resume=True)
    assert load_checkpoint(rd.last)["threads"] == 1 and "note:" not in printed
    # asking for another count on resume is allowed, with a note that bits may differ
    cfg.train.epochs, cfg.train.threads = 3, 2
    printed = _train(folder, cfg, resume=True)
    assert load_checkpoint(rd.last)["threads"] == 2
    assert "note: this run used 1 BLAS thread(s) so far and continues on 2" in printed


def test_negative_threads_are_refused():
    with pytest.raises(ConfigError, match="train.threads must be >= 0"):
        _cfg(**{"train.threads": -1}).validate()

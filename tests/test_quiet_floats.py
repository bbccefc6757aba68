"""Floating-point edge cases stay quiet inside ember, as in torch, while NumPy warnings elsewhere still show."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import torch

import ember
from ember import _quiet_floats

X = np.array([1.0, 0.0, -1.0], dtype=np.float32)


def _edge_ops(lib):
    t = lib.tensor(X)
    return [t / 0, lib.log(t), t.reciprocal(), lib.tensor([1e30]) * 1e30, t.rsqrt(), lib.log1p(t - 2)]


def _runtime_warnings(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        # pytest restores the warning filters after collection, where ember was imported: install again
        _quiet_floats.install()
        fn()
    return [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_division_by_zero_and_invalid_values_are_silent_like_torch():
    outs = {}
    for lib in (ember, torch):
        assert _runtime_warnings(lambda lib=lib: outs.setdefault(lib.__name__, _edge_ops(lib))) == [], lib.__name__
    for mine, theirs in zip(outs["ember"], outs["torch"]):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_numpy_warnings_outside_ember_still_show():
    caught = _runtime_warnings(lambda: np.ones(1) / np.zeros(1))
    assert [str(w.message) for w in caught] == ["divide by zero encountered in divide"]


def test_importing_ember_installs_the_filter():
    code = "import ember; t = ember.tensor([1.0, 0.0]); t / 0; ember.log(t); print('done')"
    run = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "done"
    assert "RuntimeWarning" not in run.stderr, run.stderr

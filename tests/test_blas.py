"""BLAS thread control: set_num_threads reaches OpenBLAS, and the per-shape thread choice keeps results exact."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import _blas

needs_openblas = pytest.mark.skipif(_blas._library() is None, reason="NumPy is not linked to OpenBLAS here")


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


@needs_openblas
def test_set_num_threads_reaches_the_blas(restore_threads):
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    assert _blas._blas.get_threads() == 1
    ember.set_num_threads(2)
    assert ember.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -3, 1.5, "2", True])
def test_set_num_threads_rejects_non_positive_integers(bad):
    with pytest.raises(RuntimeError, match="positive integer"):
        ember.set_num_threads(bad)


@needs_openblas
def test_thread_choice_measures_both_counts_then_keeps_one(restore_threads, monkeypatch):
    ember.set_num_threads(2)
    used = []
    monkeypatch.setattr(_blas, "_use", lambda n: used.append(n))
    monkeypatch.setattr(_blas, "_clear_winner", lambda choice: False)  # instant products time as noise
    key = ("test-shape",)
    for _ in range(2 * _blas.PROBE_CALLS):
        assert _blas.run_product(key, _blas.SPLIT_MACS, lambda: 7) == 7
    assert sorted(set(used)) == [1, 2]
    assert used.count(1) == used.count(2) == _blas.PROBE_CALLS
    chosen = _blas._choices[key].threads
    assert chosen in (1, 2)
    used.clear()
    _blas.run_product(key, _blas.SPLIT_MACS, lambda: None)
    assert used == [chosen]
    # small products are left to the BLAS and never timed
    _blas.run_product(("small",), _blas.SPLIT_MACS - 1, lambda: None)
    assert ("small",) not in _blas._choices


def test_products_are_identical_whatever_the_thread_choice(restore_threads):
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.standard_normal((300, 784), dtype=np.float32))
    lin = ember.nn.Linear(784, 200)
    expected = x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    for threads in (1, 2, 1):
        ember.set_num_threads(threads)
        for _ in range(2 * _blas.PROBE_CALLS + 1):
            out = lin(x)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-4)


@needs_openblas
def test_thread_choice_is_active_without_calling_set_num_threads():
    import subprocess
    import sys

    code = (
        "import numpy as np, ember\n"
        "from ember import _blas\n"
        "x = ember.ones(256, 1024)\n"
        "w = ember.ones(1024, 256)\n"
        "y = x @ w\n"
        "print(len(_blas._choices) if _blas.num_threads() > 1 else 'single')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out in ("1", "single")


def test_a_clear_winner_ends_the_measurement_early():
    choice = _blas._Choice()
    choice.one, choice.many = [1.0, 1.1], [5.0]
    assert not _blas._clear_winner(choice)  # two calls of each first
    choice.many.append(4.0)
    assert _blas._clear_winner(choice)
    choice.many = [1.5, 1.6]
    assert not _blas._clear_winner(choice)
    choice.one = [4.0, 3.5]
    assert _blas._clear_winner(choice)

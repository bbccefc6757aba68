"""BLAS thread control: set_num_threads reaches OpenBLAS, and the per-shape thread choice keeps results exact."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import _blas

needs_openblas = pytest.mark.skipif(_blas._library() is None, reason="NumPy is not linked to OpenBLAS here")


@pytest.fixture
def restore_threads(monkeypatch):
    """Put the thread count back afterwards; the per-shape choice is on (these tests are about it) unless a
    test turns it off, whatever EMBER_FALLBACKS says."""
    before = ember.get_num_threads()
    monkeypatch.setattr(_blas, "_FIXED_THREADS", False)
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
    current = [2]
    ran_on = []  # the thread count in effect each time a product ran
    monkeypatch.setattr(_blas, "_use", lambda n: current.__setitem__(0, n))
    monkeypatch.setattr(_blas, "_clear_winner", lambda choice: False)  # instant products time as noise

    def product():
        ran_on.append(current[0])
        return np.float32(7)

    key = ("test-shape",)
    # the first call runs the product on both counts to see that they agree; then the timed calls
    for _ in range(2 * _blas.PROBE_CALLS + 1):
        assert _blas.run_product(key, _blas.SPLIT_MACS, product) == 7
    assert ran_on.count(1) == ran_on.count(2) == _blas.PROBE_CALLS + 1
    chosen = _blas._choices[key].threads
    assert chosen in (1, 2)
    ran_on.clear()
    _blas.run_product(key, _blas.SPLIT_MACS, product)
    assert ran_on == [chosen] and current[0] == 2  # run on the chosen count, then back to the configured one
    # small products are left to the BLAS and never timed
    _blas.run_product(("small",), _blas.SPLIT_MACS - 1, lambda: None)
    assert ("small",) not in _blas._choices


def test_products_are_identical_whatever_the_thread_choice(restore_threads):
    """The timed choice between one thread and all never changes results: shapes whose bits differ between
    the two counts (K = 784 does in OpenBLAS) stay on the configured count; the others agree anyway."""
    rng = np.random.default_rng(0)
    ember.set_num_threads(2)
    for features in (784, 1024):
        x = ember.from_numpy(rng.standard_normal((300, features), dtype=np.float32))
        lin = ember.nn.Linear(features, 200)
        expected = x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
        outputs = [lin(x).detach().numpy() for _ in range(2 * _blas.PROBE_CALLS + 3)]  # check, probe, chosen
        np.testing.assert_allclose(outputs[-1], expected, rtol=1e-5, atol=1e-4)
        for out in outputs[1:]:
            np.testing.assert_array_equal(out.view(np.uint32), outputs[0].view(np.uint32))


@needs_openblas
def test_thread_choice_is_active_without_calling_set_num_threads(monkeypatch):
    import subprocess
    import sys

    monkeypatch.delenv("EMBER_FALLBACKS", raising=False)
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


@needs_openblas
def test_a_choice_never_leaks_into_other_numpy_products(restore_threads, monkeypatch):
    ember.set_num_threads(2)
    monkeypatch.setattr(_blas, "_clear_winner", lambda choice: False)
    key = ("leak-test",)
    for _ in range(2 * _blas.PROBE_CALLS + 3):
        _blas.run_product(key, _blas.SPLIT_MACS, lambda: np.float32(1))
        assert _blas._blas.get_threads() == 2  # back at the configured count after every product


def test_the_shape_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(_blas, "_choices", {})
    monkeypatch.setattr(_blas, "_FIXED_THREADS", False)
    if _blas._library() is None or _blas.num_threads() <= 1:
        pytest.skip("needs OpenBLAS with more than one thread")
    for i in range(_blas.MAX_SHAPES + 10):
        _blas.run_product(("shape", i), _blas.SPLIT_MACS, lambda: np.float32(1))
    assert len(_blas._choices) <= _blas.MAX_SHAPES


@needs_openblas
def test_with_the_thread_choice_off_every_product_runs_on_the_configured_count(restore_threads, monkeypatch):
    ember.set_num_threads(2)
    monkeypatch.setattr(_blas, "_FIXED_THREADS", True)  # as EMBER_FALLBACKS=threads
    monkeypatch.setattr(_blas, "_choices", {})
    ran_on = []
    for _ in range(2 * _blas.PROBE_CALLS + 3):
        _blas.run_product(("fixed",), _blas.SPLIT_MACS, lambda: ran_on.append(_blas._blas.get_threads()))
    assert ran_on == [2] * (2 * _blas.PROBE_CALLS + 3)
    assert not _blas._choices  # nothing measured, nothing compared

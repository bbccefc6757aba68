"""EMBER_FALLBACKS forces the fallback of each machine-dependent choice, by name; unknown names are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ember import _machine

REPORT = (
    "import json, numpy as np, ember\n"
    "from ember import _blas\n"
    "from ember.autograd import engine\n"
    "print(json.dumps({'openblas': _blas._library() is not None, 'axpy': _blas.rounds_once(np.float32),\n"
    "    'threads': _blas._FIXED_THREADS, 'grad_reuse': engine._REFCOUNTS_CHECKED}))\n"
)


def _report(value: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != _machine.ENV}
    if value is not None:
        env[_machine.ENV] = value
    out = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def test_each_name_forces_only_its_own_fallback():
    free = _report(None)
    assert free["threads"] is False
    forced_axpy = _report("axpy")
    assert forced_axpy["axpy"] is False and forced_axpy["openblas"] == free["openblas"]
    assert forced_axpy["grad_reuse"] == free["grad_reuse"]
    forced_threads = _report(" threads ")
    assert forced_threads["threads"] is True and forced_threads["axpy"] == free["axpy"]
    assert _report("grad-reuse")["grad_reuse"] is False
    forced_blas = _report("openblas")
    assert forced_blas["openblas"] is False and forced_blas["axpy"] is False


def test_all_forces_every_fallback():
    assert _report("all") == {"openblas": False, "axpy": False, "threads": True, "grad_reuse": False}
    assert _machine._parse("all") == frozenset(_machine.CHOICES)
    assert _machine._parse("machine") == frozenset({"openblas", "axpy", "threads", "malloc", "load"})
    assert _machine._parse("machine,errstate") == frozenset(
        {"openblas", "axpy", "threads", "malloc", "load", "errstate"}
    )
    assert _machine._parse("") == frozenset()


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"EMBER_FALLBACKS: unknown choice 'axpi' \(known: all, machine, openblas"):
        _machine._parse("threads,axpi")
    env = {**os.environ, _machine.ENV: "fast"}
    proc = subprocess.run([sys.executable, "-c", "import ember"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "EMBER_FALLBACKS: unknown choice 'fast'" in proc.stderr.splitlines()[-1]


def test_outcomes_describe_what_each_choice_found():
    code = "import json; from ember import _machine; print(json.dumps(_machine.outcomes()))"
    env = {**os.environ, _machine.ENV: "all"}
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout)
    assert out == {
        "openblas": "not reached (forced off)",
        "axpy": "float32 rounds twice (two NumPy ufuncs); float64 rounds twice (two NumPy ufuncs)",
        "threads": "fixed at the configured count",
        "grad-reuse": "off (copies)",
        "errstate": "np.errstate",
        "malloc": "C library defaults (forced) (from the first convolution)",
        "load": f"{os.cpu_count()} thread(s) for a new training run (the load check is off (EMBER_FALLBACKS=load))",
    }
    assert set(_machine.outcomes()) == set(_machine.CHOICES)


def test_the_heap_top_pad_is_set_once_by_the_first_convolution_and_not_when_forced_off():
    code = (
        "import ember\n"
        "from ember import _allocator\n"
        "before = list(_allocator._outcome)\n"
        "ember.nn.functional.conv2d(ember.ones(1, 1, 3, 3), ember.ones(1, 1, 2, 2))\n"
        "print(before, _allocator._outcome)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != _machine.ENV}
    free = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert free.startswith("[] [")  # nothing is changed at import
    assert "top pad" in free or "C library defaults" in free
    env[_machine.ENV] = "malloc"
    forced = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert forced.strip() == "[] ['C library defaults (forced)']"
    report = "from ember import _allocator; print(_allocator.outcome(), _allocator._outcome)"
    env.pop(_machine.ENV)
    asked = subprocess.run([sys.executable, "-c", report], capture_output=True, text=True, env=env, check=True).stdout
    assert asked.rstrip().endswith("(from the first convolution) []")  # asking changes nothing


def _is_glibc() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _is_glibc(), reason="the heap settings apply to glibc only")
def test_after_the_first_convolution_large_buffers_reuse_heap_pages():
    # 8 MiB arrays made and dropped in a loop: with the settings, only the first one faults its pages in; with
    # the top pad alone (glibc's mmap threshold frozen at 128 KiB) the ten took 5,160 faults. The C library's
    # defaults pass this simple loop too (their sliding threshold learns it) but not a training step's pattern.
    code = (
        "import resource, numpy as np, ember\n"
        "ember.nn.functional.conv2d(ember.ones(1, 1, 3, 3), ember.ones(1, 1, 2, 2))\n"
        "np.ones(1 << 21, np.float32)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(10):\n"
        "    np.ones(1 << 21, np.float32)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != _machine.ENV}
    kept = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert int(kept) < 200

"""The device queries tutorials make, answered for ember's CPU-only backend, and the device settings it refuses."""

import pytest

import ember


def test_backends_ember_lacks_say_so():
    assert not ember.backends.mkldnn.is_available()  # torch's CPU build has oneDNN; ember does not
    assert not ember.backends.mkl.is_available() and not ember.backends.openmp.is_available()
    ember.backends.mkldnn.enabled = False  # a flag tutorials set: accepted
    ember.backends.mkldnn.enabled = True
    assert ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")


def test_devices_ember_cannot_use_are_refused_where_they_are_named():
    assert ember.get_default_device() == ember.device("cpu")
    for call, message in (
        (lambda: ember.set_default_device("cuda"), "ember runs on the CPU only; device 'cuda' is not available"),
        (lambda: ember.device("mps").__enter__(), "ember runs on the CPU only; device 'mps' is not available"),
        (lambda: ember.accelerator.synchronize(), "Cannot access accelerator device when none is available"),
    ):
        with pytest.raises(RuntimeError, match=message):
            call()
    with ember.device("cpu") as d:
        assert d == "cpu" and ember.zeros(1).device == d

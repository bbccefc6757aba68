"""dtype objects, conversions (.float(), .type(), .to()) and promotion against torch."""

import numpy as np
import pytest
import torch

import ember

NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("name", NAMES)
def test_conversions_and_type_names(name):
    src = np.array([1.5, -2.0, 0.0], np.float32)
    e = ember.tensor(src).to(getattr(ember, name))
    t = torch.tensor(src).to(getattr(torch, name))
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_array_equal(e._data, t.numpy())
    assert e.type() == t.type()
    for m in ("float", "double", "long", "int", "bool", "half", "short", "byte", "char"):
        assert str(getattr(e, m)().dtype) == str(getattr(t, m)().dtype)
    assert e.is_floating_point() == t.is_floating_point()
    assert getattr(ember, name).is_floating_point == getattr(torch, name).is_floating_point
    assert getattr(ember, name).itemsize == getattr(torch, name).itemsize


def test_type_and_to_arguments():
    e, t = ember.tensor([1, 2]), torch.tensor([1, 2])
    assert e.type(ember.FloatTensor).dtype is ember.float32 and t.type(torch.FloatTensor).dtype is torch.float32
    assert e.type("torch.DoubleTensor").dtype is ember.float64
    assert e.to(ember.float64).dtype is ember.float64
    assert e.to(ember.zeros(1, dtype=ember.float16)).dtype is ember.float16
    assert e.to("cpu") is e and e.to(ember.device("cpu")) is e and e.cpu() is e
    assert e.to("cpu", ember.float32).dtype is ember.float32
    assert e.to(dtype=ember.int32, device="cpu").dtype is ember.int32
    with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda' is not available"):
        e.to("cuda")
    with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda' is not available"):
        e.type("torch.cuda.FloatTensor")


def test_default_dtype():
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor([1.5]).dtype is ember.float64 and ember.zeros(1).dtype is ember.float64
        assert ember.get_default_dtype() is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        ember.set_default_dtype(ember.int64)


def test_result_type_with_scalars():
    cases = [
        (np.array([1], np.int32), 2.5),
        (np.array([1], np.uint8), 300),
        (np.array([True]), 1),
        (np.array(1.0, np.float64), np.array([1], np.int64)),
        (np.array([1.0], np.float16), np.array(1.0)),
    ]
    for a, b in cases:
        ea = ember.tensor(a)
        ta = torch.tensor(a)
        eb = ember.tensor(b) if isinstance(b, np.ndarray) else b
        tb = torch.tensor(b) if isinstance(b, np.ndarray) else b
        assert str(ember.result_type(ea, eb)) == str(torch.result_type(ta, tb))


@pytest.mark.parametrize("python_type", [float, int, bool])
def test_python_types_name_torchs_dtypes(python_type):
    """dtype=float is float64 in torch (not the default dtype), int is int64, bool is bool."""
    for make in (
        lambda lib: lib.zeros(2, dtype=python_type),
        lambda lib: lib.tensor([1, 0], dtype=python_type),
        lambda lib: lib.ones(2).to(python_type),
        lambda lib: lib.full((2,), 1, dtype=python_type),
    ):
        assert str(make(ember).dtype) == str(make(torch).dtype)

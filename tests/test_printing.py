"""repr/str of tensors, Size, dtype and device must match torch character for character."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def same_str(arr, **kwargs):
    e, t = ember.tensor(arr, **kwargs), torch.tensor(arr, **kwargs)
    assert str(e) == str(t), f"\nember:\n{e}\ntorch:\n{t}"
    assert repr(e) == repr(t)


CASES = [
    np.float32(3.5),
    np.int64(3),
    np.bool_(True),
    np.float32(1e-5),
    np.float32(12345678.0),
    np.float64(2.0),
    np.float32(-0.0),
    np.float32(np.nan),
    np.float32(-np.inf),
    np.int32(-7),
    np.float16(0.5),
    np.arange(5).astype(np.float32),
    np.array([1e-5, 1.0, 1000.0], np.float32),
    np.array([np.nan, 1.0, np.inf, -np.inf], np.float32),
    np.array([-1.5, 2.25]),
    np.array([True, False]),
    np.array([1, 2, 3], np.int32),
    np.array([1.0, 2.0], np.float16),
    np.array([1e10, 1.0], np.float32),
    np.array([100.0, 2000.0], np.float32),
    np.array([1e-4, 2.0], np.float32),
    np.array([0.0, -0.0]),
    np.array([1e20], np.float32),
    np.array([123456789.0, 1.0], np.float32),
    np.array([np.nan]),
    np.array([np.inf, 1.5]),
    np.array([np.inf, 1.0]),
    np.array([0.1, 0.2, 0.3]),
    np.array([1e-8, 1e-9]),
    np.array([[1, -2], [30000, 4]]),
    np.array([-0.0001, 0.5], np.float32),
    np.array([1.0e-5, 0.0]),
    np.zeros((3,)),
    np.array([1.5] * 30, np.float32),
    np.array([1e8, 1.5]),
    np.array([1e7, 1.5]),
    np.array([1e8 + 1, 3.0]),
    np.array([[True, False], [False, True]]),
    np.arange(100),
    np.arange(2000),
    np.arange(-50, 50, dtype=np.int8),
    np.arange(300, dtype=np.uint8),
    np.zeros((0,)),
    np.zeros((0, 3), np.float32),
    np.zeros((2, 0), np.int64),
    np.zeros((0,), np.bool_),
    np.zeros((1, 0, 2), np.float64),
    np.zeros((0,), np.int64),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_fixed_cases(i):
    same_str(CASES[i])


@pytest.mark.parametrize(
    "shape",
    [
        (5,),
        (40,),
        (3, 4),
        (2, 3, 4),
        (2, 2, 2, 3),
        (768, 8),
        (768, 1),
        (1000,),
        (1001,),
        (2000,),
        (30, 40),
        (7, 7, 7, 7),
        (1, 1),
        (12, 1, 12),
        (200, 6),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e4, 1e9])
def test_random_floats(shape, scale):
    same_str((rng.standard_normal(shape) * scale).astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int64, np.int32, np.int16, np.uint8])
def test_dtype_suffixes(dtype):
    same_str((rng.standard_normal((4, 5)) * 50).astype(dtype))


def test_requires_grad_and_grad_fn_suffixes():
    # Its own generator: the values must not depend on which tests ran before. The sum is of exactly
    # rounded products (exp may differ from torch's in the last bit), so only the printing is tested.
    x = np.random.default_rng(11).standard_normal((3, 30)).astype(np.float32)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert str(e) == str(t)
    assert str(e * 2) == str(t * 2)
    assert str((e * 3).sum()) == str((t * 3).sum())
    assert str(e.double() + 1) == str(t.double() + 1)
    assert str(ember.tensor(1.0, requires_grad=True)) == str(torch.tensor(1.0, requires_grad=True))
    # Suffixes that push a line past 80 columns wrap onto their own line.
    w = np.array([1.23456] * 9)
    e, t = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    assert str(e * 1) == str(t * 1)


def test_print_options():
    x = rng.standard_normal((4, 6)).astype(np.float32) * 1e-3
    try:
        for kw in [
            dict(precision=2),
            dict(sci_mode=False),
            dict(sci_mode=True),
            dict(precision=6, sci_mode=False),
            dict(linewidth=40),
            dict(threshold=10, edgeitems=2),
            dict(profile="short"),
            dict(profile="full"),
        ]:
            torch.set_printoptions(**kw)
            ember.set_printoptions(**kw)
            same_str(x)
            same_str(np.arange(30, dtype=np.float32))
            assert ember.get_printoptions() == torch._tensor_str.get_printoptions()
    finally:
        torch.set_printoptions(profile="default")
        ember.set_printoptions(profile="default")
    with ember.printoptions(precision=1):
        assert str(ember.tensor([1.25])) == "tensor([1.2])"
    assert str(ember.tensor([1.25])) == "tensor([1.2500])"


def test_default_dtype_changes_suffix():
    try:
        torch.set_default_dtype(torch.float64)
        ember.set_default_dtype(ember.float64)
        for arr in (np.array([1.5, 2.0]), np.array([1.5], np.float32), np.zeros((0,), np.float32)):
            same_str(arr)
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


def test_size_dtype_device_repr():
    assert repr(ember.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape)
    assert str(ember.Size([])) == str(torch.Size([]))
    assert str(ember.Size([4])) == str(torch.Size([4]))
    for name in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name))
        assert str(getattr(ember, name)) == str(getattr(torch, name))
    for spec in ("cpu", "cuda", "cuda:1"):
        assert repr(ember.device(spec)) == repr(torch.device(spec))
        assert str(ember.device(spec)) == str(torch.device(spec))
    assert repr(ember.zeros(1).device) == repr(torch.zeros(1).device)


def test_format_protocol():
    for v in (3.14159, 2.0, -1.5):
        e, t = ember.tensor(v), torch.tensor(v)
        assert "{:.0f}".format(e) == "{:.0f}".format(t)
        assert "%.4f" % e == "%.4f" % t
        assert "{}".format(e) == "{}".format(t)
        assert f"{e:>10.3f}" == f"{t:>10.3f}"
    assert "{0:,}".format(ember.tensor(1234567)) == "{0:,}".format(torch.tensor(1234567))
    assert "{}".format(ember.ones(2)) == "{}".format(torch.ones(2))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        "{:.2f}".format(ember.ones(2))


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4),
    exp=st.integers(-9, 9),
    kind=st.sampled_from(["float32", "float64", "int64", "bool", "intfloat", "special"]),
    seed=st.integers(0, 2**31),
)
def test_hypothesis_random(shape, exp, kind, seed):
    r = np.random.default_rng(seed)
    base = r.standard_normal(shape) * 10.0**exp
    if kind == "float32":
        arr = base.astype(np.float32)
    elif kind == "float64":
        arr = base
    elif kind == "int64":
        arr = (base * 10).astype(np.int64) if exp < 15 else base.astype(np.int64)
    elif kind == "bool":
        arr = base > 0
    elif kind == "intfloat":
        arr = np.round(base).astype(np.float32)
    else:
        arr = base.astype(np.float32)
        arr.reshape(-1)[::3] = np.nan
        arr.reshape(-1)[1::4] = np.inf
    same_str(arr)

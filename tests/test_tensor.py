"""Tensor attributes and Python protocols against torch."""

import numpy as np
import pytest
import torch

import ember


def pair(data, **kw):
    return ember.tensor(data, **kw), torch.tensor(data, **kw)


def test_shape_attributes():
    e, t = pair(np.zeros((2, 3, 4), np.float32))
    assert e.shape == t.shape and e.size() == t.size() and e.size(1) == t.size(1) and e.size(-1) == t.size(-1)
    assert e.dim() == t.dim() and e.ndim == t.ndim and e.numel() == t.numel() and len(e) == len(t)
    assert repr(e.shape) == repr(t.shape) and isinstance(e.shape, tuple)
    assert e.device == ember.device("cpu") and str(e.device) == str(t.device)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        e.size(3)
    s = ember.tensor(3.0)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(s)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(s)


def test_item_tolist_conversions():
    e, t = pair([[1.5, 2.0], [3.0, 4.0]])
    assert e.tolist() == t.tolist()
    assert e[0, 1].item() == t[0, 1].item() == 2.0 and type(e[0, 1].item()) is float
    s, ts = pair(2.5)
    assert s.item() == ts.item() and float(s) == float(ts) and int(s) == int(ts) and bool(s) == bool(ts)
    assert isinstance(ember.tensor(3).item(), int) and isinstance(ember.tensor(True).item(), bool)
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        ember.ones(2).item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ember.ones(2))
    assert np.asarray(e).shape == (2, 2) and np.array(e, dtype=np.float64).dtype == np.float64
    assert [x.tolist() for x in e] == [x.tolist() for x in t]
    assert int(ember.tensor([7])) == 7
    assert [10, 20, 30][ember.tensor(1)] == 20


def test_requires_grad_rules():
    x = ember.ones(2)
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point"):
        ember.ones(2, dtype=ember.int64).requires_grad = True
    y = x * 2
    assert y.grad_fn is not None and not y.is_leaf


def test_data_get_set():
    for L in (ember, torch):
        x = L.ones(2, requires_grad=True)
        d = x.data
        assert not d.requires_grad
        d.mul_(3)
        assert x.detach().tolist() == [3.0, 3.0]
        x.data = L.zeros(3)
        assert tuple(x.shape) == (3,) and x.requires_grad


def test_transposes():
    e, t = pair(np.arange(6.0).reshape(2, 3))
    assert e.T.tolist() == t.T.tolist()
    e3, t3 = pair(np.arange(24.0).reshape(2, 3, 4))
    assert e3.mT.tolist() == t3.mT.tolist()


def test_format_and_percent():
    e, t = pair(3.14159)
    assert "{:.0f}".format(e) == "{:.0f}".format(t) and "%.4f" % e == "%.4f" % t and f"{e}" == f"{t}"
    assert "{0:,}".format(ember.tensor(1234567)) == "{0:,}".format(torch.tensor(1234567))


def test_version_counter_shared_with_views():
    x = ember.zeros(4)
    v = x.detach()
    before = x._version.value
    v.add_(1)
    assert x._version.value == before + 1

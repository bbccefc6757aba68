"""Sorting and searching compared with torch: sort, argsort, topk, kthvalue, mode, unique, searchsorted."""
# ruff: noqa: B023 - check_op calls each lambda at once, inside the loop iteration that made it

import numpy as np
import pytest
from helpers import check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def distinct(*shape, dtype=np.float32):
    """Values without ties, so index outputs are well defined."""
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n).reshape(shape) + rng.random(shape) * 0.5).astype(dtype)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2), ((), 0)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending):
    x = distinct(*shape)
    check_op(lambda lib, t: t.sort(dim, descending), x)
    check_op(lambda lib, t: lib.sort(t, dim=dim, descending=descending), x)
    check_op(lambda lib, t: lib.argsort(t, dim, descending=descending), x)
    check_op(lambda lib, t: t.sort(dim=dim, descending=descending, stable=True).values, x)


def test_sort_stable_ties_and_nan():
    x = np.array([[3, 1, 2, 1, 3, 0], [1, 1, 1, 0, 0, 0]], dtype=np.int64)
    for desc in [False, True]:
        check_op(lambda lib, t: t.sort(stable=True, descending=desc), x)
        check_op(lambda lib, t: t.argsort(stable=True, descending=desc), x)
    y = np.array([2.0, np.nan, -1.0, 5.0])
    check_op(lambda lib, t: t.sort(), y)
    check_op(lambda lib, t: t.sort(descending=True), y)
    check_op(lambda lib, t: t.sort(stable=True), np.array([True, False, True]))


def test_sort_named_tuple():
    r = ember.tensor([3.0, 1.0, 2.0]).sort()
    values, indices = r
    assert r.values is values and r.indices is indices
    assert repr(r).startswith("torch.return_types.sort(\nvalues=")
    assert ember.msort(ember.tensor([[2.0, 1.0], [0.0, 3.0]])).tolist() == [[0.0, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(k, largest):
    x = distinct(3, 5)
    check_op(lambda lib, t: t.topk(k, largest=largest), x)
    check_op(lambda lib, t: lib.topk(t, k, dim=0 if k <= 3 else 1, largest=largest), x)
    check_op(lambda lib, t: t.topk(k, -1, largest, True).values, x)


def test_topk_edge_and_errors():
    check_op(lambda lib, t: t.topk(0), distinct(4))
    check_op(lambda lib, t: t.topk(1), np.array(2.0))
    check_raises(lambda lib, t: t.topk(6), distinct(2, 5))
    check_raises(lambda lib, t: t.topk(1, dim=2), distinct(2, 5))
    check_raises(lambda lib, t: t.topk(-1), distinct(2, 5))


def test_kthvalue_and_mode():
    x = distinct(3, 5)
    for k in [1, 3, 5]:
        check_op(lambda lib, t: t.kthvalue(k), x)
        check_op(lambda lib, t: lib.kthvalue(t, 2, 0, keepdim=True), x)
    check_op(lambda lib, t: t.kthvalue(1), np.array(3.0))
    check_raises(lambda lib, t: t.kthvalue(6), x)
    check_raises(lambda lib, t: t.kthvalue(0), x)
    m = np.array([[1, 2, 2, 3, 3, 3], [5, 5, 4, 4, 0, 1]], dtype=np.float32)
    check_op(lambda lib, t: t.mode().values, m)
    check_op(lambda lib, t: lib.mode(t, 0, keepdim=True).values, m)
    check_op(lambda lib, t: t.mode(1), np.array([[1.0, 2.0, 2.0, 3.0]]))


def test_unique():
    x = np.array([[3, 1, 2], [1, 3, 3]], dtype=np.int64)
    check_op(lambda lib, t: t.unique(), x)
    check_op(lambda lib, t: lib.unique(t, return_inverse=True), x)
    check_op(lambda lib, t: lib.unique(t, return_counts=True), x)
    check_op(lambda lib, t: lib.unique(t, sorted=True, return_inverse=True, return_counts=True), x)
    check_op(lambda lib, t: t.unique(dim=1), np.array([[1, 0, 1], [2, 5, 2]]))
    check_op(
        lambda lib, t: t.unique(dim=0, return_inverse=True, return_counts=True), np.array([[1, 2], [0, 1], [1, 2]])
    )
    check_op(lambda lib, t: t.unique(), np.array([2.5, -1.0, 2.5]), grad=False)
    u = ember.tensor([2.5, -1.0, 2.5], requires_grad=True).unique()
    assert u.requires_grad
    with pytest.raises(RuntimeError, match="not implemented"):
        u.sum().backward()
    check_op(lambda lib, t: lib.unique_consecutive(t), np.array([1, 1, 2, 2, 3, 1, 1]))
    check_op(
        lambda lib, t: lib.unique_consecutive(t, return_inverse=True, return_counts=True), np.array([[1, 1], [2, 1]])
    )
    check_op(lambda lib, t: t.unique_consecutive(return_counts=True, dim=0), np.array([[1, 2], [1, 2], [0, 0], [1, 2]]))


def test_searchsorted_bucketize():
    seq = np.array([1.0, 3.0, 5.0, 7.0])
    vals = np.array([[0.0, 3.0, 6.0], [7.0, 9.0, 1.0]])
    check_op(lambda lib, s, v: lib.searchsorted(s, v), seq, vals)
    check_op(lambda lib, s, v: lib.searchsorted(s, v, right=True), seq, vals)
    check_op(lambda lib, s, v: lib.searchsorted(s, v, side="right"), seq, vals)
    check_op(lambda lib, s, v: lib.searchsorted(s, v, out_int32=True), seq, vals)
    check_op(lambda lib, s: lib.searchsorted(s, 3.0), seq)
    batched = np.sort(rng.standard_normal((2, 5)), axis=1)
    check_op(lambda lib, s, v: lib.searchsorted(s, v), batched, rng.standard_normal((2, 3)))
    check_op(lambda lib, v, b: lib.bucketize(v, b), vals, seq)
    check_op(lambda lib, v, b: lib.bucketize(v, b, right=True), vals, seq)
    check_raises(lambda lib, s, v: lib.searchsorted(s, v), batched, rng.standard_normal((3,)))
    check_raises(lambda lib, s, v: lib.searchsorted(s, v, side="middle"), seq, vals)
    check_raises(lambda lib, s, v: lib.searchsorted(s, v, right=True, side="left"), seq, vals)
    check_raises(lambda lib, v, b: lib.bucketize(v, b), vals, batched)


def test_sort_topk_gradients():
    x = distinct(3, 4, dtype=np.float64)
    gradcheck(lambda t: t.sort(1).values, x)
    gradcheck(lambda t: t.sort(0, descending=True).values, x)
    gradcheck(lambda t: t.topk(2).values, x)
    gradcheck(lambda t: t.kthvalue(2, 0).values, x)
    gradgradcheck(lambda t: t.sort(1).values ** 2, x)
    gradgradcheck(lambda t: t.topk(2, 0).values ** 3, x)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_hypothesis_sort_topk(shape, data):
    x = distinct(*shape)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[d]))
    desc = data.draw(st.booleans())
    check_op(lambda lib, t: t.sort(d, desc), x)
    check_op(lambda lib, t: t.topk(k, d, largest=desc), x)

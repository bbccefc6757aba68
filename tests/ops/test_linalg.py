"""Matrix products and einsum compared with torch: shapes, broadcasting, dtypes, gradients, errors."""

import numpy as np
import pytest
from helpers import check_op, check_raises, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((1, 2, 3), (6, 1, 3, 1)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 4)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_against_torch(sa, sb):
    a, b = randn(*sa, dtype=np.float32), randn(*sb, dtype=np.float32)
    check_op(lambda lib, x, y: lib.matmul(x, y), a, b, atol=1e-4)
    check_op(lambda lib, x, y: x @ y, a, b, atol=1e-4)
    check_op(lambda lib, x, y: x.matmul(y), a.astype(np.float64), b.astype(np.float64))


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES[:10])
def test_matmul_gradcheck(sa, sb):
    gradcheck(lambda x, y: x @ y, randn(*sa), randn(*sb))


def test_matmul_second_order():
    gradgradcheck(lambda x, y: (x @ y).tanh(), randn(2, 3), randn(3, 2))
    gradgradcheck(lambda x, y: (x @ y) ** 2, randn(2, 2, 3), randn(3))


def test_matmul_int_and_ndarray_operand():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    check_op(lambda lib, x, y: x @ y, a, b)
    check_op(lambda lib, x, y: lib.matmul(x, y), np.arange(3), np.arange(3))
    check_op(lambda lib, x, y: x @ y, a, np.arange(3))
    e = ember.ones(2, 3)
    assert (e @ np.ones((3, 2), dtype=np.float32)).shape == (2, 2)
    assert (np.ones((4, 2), dtype=np.float32) @ e).shape == (4, 3)


def test_matmul_errors():
    check_raises(lambda lib, x, y: x @ y, randn(2, 3), randn(4, 2))
    check_raises(lambda lib, x, y: x @ y, randn(3), randn(4))
    check_raises(lambda lib, x, y: x @ y, randn(2, 2, 3), randn(3, 3, 2))
    check_raises(lambda lib, x, y: x @ y, np.array(1.0), randn(3))
    check_raises(lambda lib, x, y: x @ y, randn(2, 3).astype(np.float32), randn(3, 2))
    check_raises(lambda lib, x, y: lib.matmul(x, y), randn(2, 2, 3).astype(np.float32), randn(3, 2))
    with pytest.raises(RuntimeError, match=r"2x3 and 4x2"):
        ember.ones(2, 3) @ ember.ones(4, 2)


def test_mm_bmm_dot_outer():
    check_op(lambda lib, x, y: lib.mm(x, y), randn(2, 3), randn(3, 4))
    check_op(lambda lib, x, y: x.bmm(y), randn(5, 2, 3), randn(5, 3, 4))
    check_op(lambda lib, x, y: lib.dot(x, y), randn(4), randn(4))
    check_op(lambda lib, x, y: x.inner(y), randn(4), randn(4))
    check_op(lambda lib, x, y: lib.outer(x, y), randn(3), randn(4))
    check_op(lambda lib, x, y: x.ger(y), randn(3), randn(2))
    check_op(lambda lib, x, y: lib.outer(x, y), np.arange(3), randn(2))
    check_raises(lambda lib, x, y: lib.mm(x, y), randn(3), randn(3, 4))
    check_raises(lambda lib, x, y: lib.mm(x, y), randn(2, 3), randn(2, 4))
    check_raises(lambda lib, x, y: lib.bmm(x, y), randn(2, 3), randn(3, 4))
    check_raises(lambda lib, x, y: lib.bmm(x, y), randn(2, 2, 3), randn(3, 3, 2))
    check_raises(lambda lib, x, y: lib.dot(x, y), randn(2), randn(3))
    check_raises(lambda lib, x, y: lib.dot(x, y), randn(2, 2), randn(2))
    check_raises(lambda lib, x, y: lib.outer(x, y), randn(2), randn(3, 1))
    gradgradcheck(lambda x, y: x.bmm(y) ** 2, randn(2, 2, 3), randn(2, 3, 2))


def test_addmm_family():
    check_op(lambda lib, c, a, b: lib.addmm(c, a, b), randn(2, 4), randn(2, 3), randn(3, 4))
    check_op(lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), randn(4), randn(2, 3), randn(3, 4))
    check_op(lambda lib, c, a, b: c.addmm(a, b, beta=0), randn(1, 4), randn(2, 3), randn(3, 4))
    check_op(lambda lib, c, a, v: lib.addmv(c, a, v), randn(2), randn(2, 3), randn(3))
    check_op(lambda lib, c, a, v: c.addmv(a, v, beta=2, alpha=-1), randn(1), randn(2, 3), randn(3))
    check_op(lambda lib, a, v: lib.mv(a, v), randn(2, 3), randn(3))
    check_op(lambda lib, c, a, b: lib.baddbmm(c, a, b), randn(2, 4), randn(3, 2, 5), randn(3, 5, 4))
    check_op(lambda lib, c, a, b: c.baddbmm(a, b, beta=0.5, alpha=3), randn(3, 2, 4), randn(3, 2, 5), randn(3, 5, 4))
    check_op(lambda lib, c, a, b: lib.addbmm(c, a, b, alpha=2), randn(2, 4), randn(3, 2, 5), randn(3, 5, 4))
    check_op(lambda lib, c, a, b: lib.addr(c, a, b, beta=2), randn(3, 2), randn(3), randn(2))
    check_raises(lambda lib, a, v: lib.mv(a, v), randn(3, 3), randn(4))
    check_raises(lambda lib, a, v: lib.mv(a, v), randn(3), randn(3))
    check_raises(lambda lib, c, a, b: lib.addmm(c, a, b), randn(3, 4), randn(2, 3), randn(3, 4))
    check_raises(lambda lib, c, a, b: lib.baddbmm(c, a, b), randn(3, 1), randn(2, 3, 4), randn(2, 5, 5))
    gradgradcheck(lambda c, a, b: ember.addmm(c, a, b, alpha=2.0) ** 2, randn(2, 2), randn(2, 3), randn(3, 2))


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ab,cd->abcd", [(2, 1), (1, 3)]),
    ("ijk->kj", [(2, 3, 4)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum(eq, shapes):
    arrays = [randn(*s) for s in shapes]
    check_op(lambda lib, *ts: lib.einsum(eq, *ts), *arrays)
    check_op(lambda lib, *ts: lib.einsum(eq, list(ts)), *arrays)
    gradcheck(lambda *ts: ember.einsum(eq, *ts), *arrays)


@pytest.mark.parametrize(
    "eq,shapes",
    [c for c in EINSUM_CASES if c[0] in ("ij,jk->ik", "ii->i", "b...,b->...", "ij,ij->ij", "ij->j", "i,i,i->i")],
)
def test_einsum_second_order(eq, shapes):
    gradgradcheck(lambda *ts: ember.einsum(eq, *ts) ** 2, *[randn(*s) for s in shapes])


def test_einsum_int_and_errors():
    check_op(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4))
    check_raises(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), randn(2, 3), randn(2, 4))
    check_raises(lambda lib, a: lib.einsum("ij,jk->ik", a), randn(2, 3))
    check_raises(lambda lib, a, b: lib.einsum("ijk,jk->ik", a, b), randn(2, 3), randn(3, 4))
    check_raises(lambda lib, a: lib.einsum("ij->k", a), randn(2, 3))
    check_raises(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), randn(2, 3).astype(np.float32), randn(3, 4))
    with pytest.raises(RuntimeError, match="subscript j has size 2 for operand 1"):
        ember.einsum("ij,jk->ik", ember.ones(2, 3), ember.ones(2, 4))


def test_tensordot():
    check_op(lambda lib, a, b: lib.tensordot(a, b), randn(2, 3, 4), randn(3, 4, 5))
    check_op(lambda lib, a, b: lib.tensordot(a, b, dims=1), randn(2, 3), randn(3, 4))
    check_op(lambda lib, a, b: lib.tensordot(a, b, dims=([0, 2], [1, 0])), randn(2, 3, 4), randn(4, 2, 5))
    check_op(lambda lib, a, b: lib.tensordot(a, b, dims=0), randn(2), randn(3))
    check_raises(lambda lib, a, b: lib.tensordot(a, b, dims=([0], [0])), randn(2, 3), randn(3, 2))


@settings(max_examples=25, deadline=None)
@given(
    batch_a=st.lists(st.integers(1, 3), max_size=2),
    batch_b=st.lists(st.integers(1, 3), max_size=2),
    n=st.integers(1, 3),
    k=st.integers(1, 3),
    m=st.integers(1, 3),
    data=st.data(),
)
def test_hypothesis_matmul_broadcast(batch_a, batch_b, n, k, m, data):
    # make the batch dims broadcast: where both are given and differ, one of them becomes 1
    lb = len(batch_b)
    bb = list(batch_b)
    for i in range(1, min(len(batch_a), lb) + 1):
        if batch_a[-i] != bb[-i] and batch_a[-i] != 1:
            bb[-i] = 1
    a_vec = data.draw(st.booleans()) and not batch_a
    b_vec = data.draw(st.booleans()) and not bb
    sa = (k,) if a_vec else tuple(batch_a) + (n, k)
    sb = (k,) if b_vec else tuple(bb) + (k, m)
    check_op(lambda lib, x, y: x @ y, randn(*sa), randn(*sb))

import numpy as np
import pytest
from helpers import check_op, check_raises, gradcheck, gradgradcheck

import ember

rng = np.random.default_rng(0)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((4, 1, 3), (2, 3)), ((), (2, 2))])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_broadcast(op, sa, sb):
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32) + 3
    check_op(lambda lib, x, y: getattr(lib, op)(x, y), a, b)


def test_matmul_shapes():
    for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 2)), ((2, 3, 4), (4,)), ((2, 3, 4), (1, 4, 2)), ((5,), (5,))]:
        check_op(lambda lib, x, y: x @ y, rng.standard_normal(sa), rng.standard_normal(sb))


def test_mismatch_raises_runtime_error():
    check_raises(lambda lib, x, y: x + y, np.ones((2, 3)), np.ones((4,)))
    check_raises(lambda lib, x, y: x @ y, np.ones((2, 3)), np.ones((4, 2)))


def test_gradcheck_and_second_order():
    gradcheck(lambda x, y: (x * y).tanh().sum(1), rng.standard_normal((3, 4)), rng.standard_normal((4,)))
    gradgradcheck(lambda x: (x.sigmoid() * x.exp()).sum(), rng.standard_normal((3,)))


def test_long_chain_is_iterative():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0

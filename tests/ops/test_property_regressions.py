"""Cases the property tests (test_properties.py and the others drawn by hypothesis) found, kept as explicit
examples: each failed against torch before its fix."""

import numpy as np
import pytest
import torch
from helpers import assert_same, raised_by_both

import ember


def _first_line_and_type(call):
    mine, theirs = raised_by_both(call)
    assert type(mine) is type(theirs), (mine, theirs)
    assert str(mine).startswith(str(theirs).splitlines()[0]), (str(mine), str(theirs))


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.addcmul(L.ones(()), L.ones(0), L.ones(2)),
        lambda L: L.addcdiv(L.ones(3, 1), L.ones(2), L.ones(4)),
        lambda L: L.lerp(L.ones(()), L.ones(2), L.ones(0)),
        lambda L: L.where(L.ones(2) > 0, L.ones(3), L.ones(())),
        lambda L: L.where(L.ones(1, 3) > 0, L.ones(2, 1), L.ones(4, 1, 1, 2)),
    ],
)
def test_ternary_ops_refuse_shapes_that_do_not_broadcast_as_torch(call):
    """Shapes combine left to right; the first failing size is named with the shape so far as tensor a."""
    _first_line_and_type(call)


@pytest.mark.parametrize("dst,src", [((), (0,)), ((), (2,)), ((3,), (2, 3)), ((2,), (3,)), ((2, 3), (3, 2))])
def test_copy_refuses_sources_that_do_not_fit_as_torch(dst, src):
    _first_line_and_type(lambda L: L.zeros(dst).copy_(L.ones(src)))


def test_copy_gives_the_overwritten_tensor_a_zero_gradient():
    """torch's CopyBackwards keeps self's history and sends it zeros, so autograd.grad of the old value works."""
    grads = []
    for L in (ember, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = L.tensor([3.0], requires_grad=True)
        z = (x * 2).copy_(y)
        grads.append(L.autograd.grad((z * L.tensor([1.0, 5.0])).sum(), [x, y]))
    assert_same(*grads)


@pytest.mark.parametrize(
    "target,other",
    [("uint8", "int8"), ("uint8", "int64"), ("int8", "int64"), ("int16", "uint8"), ("float16", "float64")],
)
def test_inplace_narrowing_within_a_category_is_allowed_as_in_torch(target, other):
    """torch refuses only a float result into an integer tensor and a non-bool result into a bool one."""
    results = []
    for L in (ember, torch):
        x = L.tensor(np.array([0, 3, 200 if target == "uint8" else 2], dtype=target))
        y = L.tensor(np.array([1, 2 if other == "uint8" else -2, 100], dtype=other))
        results.append((x.clone().add_(y), x.clone().sub_(y), x.clone().mul_(y), x.clone() // L.tensor([1, 2, 3])))
    assert_same(*results)


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.tensor([True, False]).__iand__(L.tensor([1.5, 2.0])),
        lambda L: L.tensor([1, 2]).bitwise_or_(L.tensor(2.0, dtype=L.float64)),
        lambda L: L.tensor([1, 2], dtype=L.uint8).__ixor__(0.5),
        lambda L: L.tensor([True]).div_(L.tensor([3])),
    ],
)
def test_inplace_reports_a_refused_cast_before_the_ops_own_error(call):
    _first_line_and_type(call)


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.tensor([True]) & L.tensor([1.0], dtype=L.float16),
        lambda L: L.tensor([1, 2]) ^ L.tensor(1.0, dtype=L.float64),
        lambda L: 0.5 & L.tensor([1, 2], dtype=L.int8),
        lambda L: L.tensor([1.0], dtype=L.float64) | L.tensor([1]),
    ],
)
def test_bitwise_ops_name_the_floating_dtype_they_refuse(call):
    mine, theirs = raised_by_both(call)
    assert type(mine) is type(theirs) and str(mine) == str(theirs)


def test_python_bool_to_the_power_of_a_bool_tensor_is_refused_as_in_torch():
    mine, theirs = raised_by_both(lambda L: True ** L.tensor([True, False]))
    assert type(mine) is type(theirs) and str(mine) == str(theirs)


def test_an_empty_list_is_an_empty_long_index():
    results = []
    for L in (ember, torch):
        x = L.arange(24.0).reshape(2, 3, 4)
        y = x.clone()
        y[:, []] = 5.0
        results.append((x[[]], x[:, []], x[0, [], 1], y))
    assert_same(*results)


def test_assignment_beside_ints_and_none_uses_torchs_order_of_dims():
    """ints and None beside a tensor index are applied first, as in reading: x[0, :, [0, 1]] is (3, 2) in torch."""
    results = []
    for L in (ember, torch):
        x = L.zeros(2, 3, 4)
        x[0, :, L.tensor([0, 1])] = L.arange(6.0).reshape(3, 2)
        x[None, L.tensor([1, 0]), :, 3] = L.arange(6.0).reshape(1, 2, 3)
        y = L.zeros(2, 3, 4, requires_grad=True) * 1
        v = L.arange(6.0).reshape(3, 2).requires_grad_()
        y[1, :, [2, 0]] = v
        (gv,) = L.autograd.grad((y * L.arange(24.0).reshape(2, 3, 4)).sum(), v)
        results.append((x, y, gv))
    assert_same(*results)
    _first_line_and_type(lambda L: L.zeros(2, 3, 4).__setitem__((0, slice(None), L.tensor([0, 1])), L.ones(2, 3)))

"""GroupNorm and InstanceNorm against torch: values, gradients, running statistics, reprs and errors."""

import numpy as np
import pytest
import torch
from helpers import assert_same_error, check_op, gradcheck, to_np

import ember

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("shape,groups", [((3, 4, 5, 6), 2), ((2, 6, 7), 3), ((2, 4, 3, 3), 4), ((2, 4), 1)])
def test_group_norm_matches_torch(shape, groups):
    c = shape[1]
    check_op(lambda lib, x, w, b: lib.nn.functional.group_norm(x, groups, w, b), arr(*shape), arr(c), arr(c), atol=1e-4)
    check_op(lambda lib, x: lib.nn.functional.group_norm(x, groups), arr(*shape), atol=1e-4)


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 3, 7)])
def test_instance_norm_matches_torch_with_and_without_running_stats(shape):
    c = shape[1]
    check_op(lambda lib, x: lib.nn.functional.instance_norm(x), arr(*shape), atol=1e-4)
    check_op(
        lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-3),
        arr(*shape),
        arr(c),
        arr(c),
        atol=1e-4,
    )
    x = arr(*shape)
    stats = []
    for lib in (ember, torch):
        rm, rv = lib.zeros(c), lib.ones(c)
        lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, momentum=0.3)
        y = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, use_input_stats=False)
        stats.append((to_np(rm), to_np(rv), to_np(y)))
    for a, b in zip(*stats):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_group_and_instance_norm_gradchecks():
    x, w, b = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal(4), rng.standard_normal(4)
    gradcheck(lambda x, w, b: ember.nn.functional.group_norm(x, 2, w, b), x, w, b)
    gradcheck(lambda x, w, b: ember.nn.functional.instance_norm(x, weight=w, bias=b), x, w, b)


MODULES = [
    lambda nn: nn.GroupNorm(2, 4),
    lambda nn: nn.GroupNorm(4, 4, eps=1e-3, affine=False),
    lambda nn: nn.InstanceNorm2d(4),
    lambda nn: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
    lambda nn: nn.InstanceNorm1d(4, momentum=0.2),
]


@pytest.mark.parametrize("make", MODULES)
def test_norm_modules_match_torch_in_training_and_eval(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    spatial = (5,) if "1d" in repr(t) else (5, 6)
    x = arr(3, 4, *spatial)
    np.testing.assert_allclose(to_np(e(ember.tensor(x))), to_np(t(torch.tensor(x))), rtol=1e-4, atol=1e-5)
    e.eval()
    t.eval()
    np.testing.assert_allclose(to_np(e(ember.tensor(x))), to_np(t(torch.tensor(x))), rtol=1e-4, atol=1e-5)
    if "Instance" in repr(t):  # an unbatched sample
        np.testing.assert_allclose(to_np(e(ember.tensor(x[0]))), to_np(t(torch.tensor(x[0]))), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.GroupNorm(3, 4),
        lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3, 3), 3),
        lambda lib: lib.nn.InstanceNorm2d(4)(lib.ones(2, 4)),
    ],
)
def test_norm_errors_match_torch(call):
    assert_same_error(call)

"""nn.utils against torch: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

rng = np.random.default_rng(0)


def _params_with_grads(lib, grads):
    ps = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*g.shape))
        p.grad = lib.tensor(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm(norm_type, max_norm):
    grads = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]
    pe, pt = _params_with_grads(ember, grads), _params_with_grads(torch, grads)
    nt = float(norm_type)
    te = clip_grad_norm_(pe, max_norm, norm_type=nt)
    tt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=nt)
    assert isinstance(te, ember.Tensor) and te.ndim == 0
    np.testing.assert_allclose(te.item(), tt.item(), rtol=1e-5)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = ember.nn.Parameter(ember.ones(4))
    assert clip_grad_norm_(p, 1.0).item() == 0.0
    p.grad = ember.full((4,), 3.0)
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(6.0)
    np.testing.assert_allclose(p.grad.numpy(), np.full(4, 3.0 / (6.0 + 1e-6)), rtol=1e-6)


def test_clip_grad_norm_nonfinite():
    for lib, fn in ((ember, clip_grad_norm_), (torch, torch.nn.utils.clip_grad_norm_)):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([float("inf"), 1.0])
        with pytest.raises(RuntimeError, match="non-finite"):
            fn([p], 1.0, error_if_nonfinite=True)
        assert math.isinf(fn([p], 1.0).item())


def test_clip_grad_value():
    grads = [rng.standard_normal((4, 4)).astype(np.float32) * 3]
    pe, pt = _params_with_grads(ember, grads), _params_with_grads(torch, grads)
    clip_grad_value_(pe, 0.5)
    torch.nn.utils.clip_grad_value_(pt, 0.5)
    np.testing.assert_array_equal(pe[0].grad.numpy(), pt[0].grad.numpy())


def test_parameters_vector_round_trip():
    m = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.Linear(2, 1))
    v = parameters_to_vector(m.parameters())
    assert tuple(v.shape) == (11,)
    expected = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    np.testing.assert_array_equal(v.detach().numpy(), expected)
    vector_to_parameters(ember.arange(11, dtype=ember.float32), m.parameters())
    np.testing.assert_array_equal(parameters_to_vector(m.parameters()).detach().numpy(), np.arange(11))
    assert isinstance(m[0].weight, ember.nn.Parameter)
    v.sum().backward()
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1, 2], m.parameters())

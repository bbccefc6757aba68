"""torch.autograd.gradcheck / gradgradcheck as the custom-Function tutorial uses them, against torch's answers."""

import warnings

import numpy as np
import pytest
import torch

import ember


def _linear_function(lib):
    """The tutorial's LinearFunction (y = x w^T + b) with its hand-written backward."""

    class LinearFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_output.mm(weight)
            grad_weight = grad_output.t().mm(input)
            grad_bias = grad_output.sum(0) if bias is not None else None
            return grad_input, grad_weight, grad_bias

    return LinearFunction


def _broken_square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # missing the factor 2

    return Square


def test_the_tutorials_check_passes_and_a_wrong_backward_fails_as_in_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    for lib in (ember, torch):
        args = (lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True))
        assert lib.autograd.gradcheck(_linear_function(lib).apply, args, eps=1e-6, atol=1e-4) is True
        square = _broken_square(lib).apply
        bad = (lib.tensor(x[0], requires_grad=True),)
        assert lib.autograd.gradcheck(square, bad, raise_exception=False) is False
        with pytest.raises(RuntimeError, match=r"Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"):
            lib.autograd.gradcheck(square, bad)
    assert issubclass(ember.autograd.GradcheckError, RuntimeError)


def test_single_precision_inputs_warn_as_in_torch():
    messages = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lib.sin, (lib.randn(3, requires_grad=True),), eps=1e-3, atol=1e-2)
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_gradgradcheck_checks_second_derivatives():
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(ember.tanh, (x,)) is True
    w = ember.randn(2, 1, 3, 3, dtype=ember.float64, requires_grad=True)
    img = ember.randn(1, 1, 5, 5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.nn.functional.conv2d(a, b, padding=1), (img, w))

    class NoSecond(ember.autograd.Function):  # a backward built from a detached value: wrong second derivative
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    assert ember.autograd.gradcheck(NoSecond.apply, (x,)) is True
    assert ember.autograd.gradgradcheck(NoSecond.apply, (x,), raise_exception=False) is False


def test_gradcheck_takes_inputs_of_any_layout_as_torch_does():
    base = np.random.default_rng(1).standard_normal((3, 4))
    for lib in (ember, torch):
        x = lib.tensor(base).t().requires_grad_()  # a transposed view: not contiguous
        assert lib.autograd.gradcheck(lambda a: (a * a).sum(1), (x,)) is True

"""Autograd engine and API against torch: backward/grad options, hooks, grad modes, Functions, errors."""

import warnings

import numpy as np
import pytest
import torch

import ember

rng = np.random.default_rng(0)


def both(fn):
    """Run fn(lib) for ember and torch and compare every returned tensor (or number)."""
    e, t = fn(ember), fn(torch)
    e = e if isinstance(e, (tuple, list)) else (e,)
    t = t if isinstance(t, (tuple, list)) else (t,)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        if b is None:
            assert a is None
        elif isinstance(b, torch.Tensor):
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.detach()._data, b.detach().numpy(), rtol=1e-5, atol=1e-6)
        else:
            assert a == b
    return e, t


def raises_like(fn, match=None):
    """fn(lib) raises the same exception type on ember and torch."""
    with pytest.raises(Exception) as t_exc:
        fn(torch)
    with pytest.raises(type(t_exc.value), match=match):
        fn(ember)


def test_backward_accumulates_until_zeroed():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        first = x.grad.clone()
        x.grad.zero_()
        (x**3).sum().backward()
        return first, x.grad

    both(run)


def test_backward_with_gradient_and_retain_graph():
    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x.exp() * x
        y.backward(L.ones_like(y) * 0.5, retain_graph=True)
        y.backward(L.full_like(y, 2.0))
        return x.grad

    both(run)


def test_autograd_backward_and_grad_api():
    def run(L):
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = L.tensor([0.5, 0.5, 0.5], requires_grad=True)
        a, b = (x * w).sum(), (x**2).sum()
        L.autograd.backward([a, b], [L.tensor(1.0), L.tensor(2.0)], retain_graph=True)
        g = L.autograd.grad([a, b], [x, w], grad_outputs=[L.tensor(1.0), L.tensor(1.0)], retain_graph=True)
        u = L.tensor([1.0], requires_grad=True)
        unused = L.autograd.grad(a, [x, u], retain_graph=True, allow_unused=True)
        return (x.grad, w.grad, *g, unused[0], unused[1])

    both(run)
    raises_like(lambda L: L.autograd.grad((L.ones(1, requires_grad=True) * 2).sum(), [L.ones(1, requires_grad=True)]))


def test_backward_inputs_argument():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = L.tensor([3.0, 4.0], requires_grad=True)
        (x * y).sum().backward(inputs=[x])
        return x.grad, y.grad

    both(run)


def test_non_leaf_grad_none_with_warning_unless_retained():
    for L in (ember, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = x * 3
        z.retain_grad()
        (y.sum() + z.sum()).backward()
        with pytest.warns(UserWarning, match="retain_grad"):
            assert y.grad is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert z.grad is not None and x.grad is not None
        np.testing.assert_allclose(np.asarray(z.grad.tolist()), [1.0, 1.0])
        assert y.is_leaf is False and x.is_leaf is True and z.retains_grad


def test_hooks_on_leaves_and_non_leaves():
    def run(L):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        h1 = x.register_hook(lambda g: g * 10)
        y = x * x
        h2 = y.register_hook(lambda g: seen.append(g.clone()) or g + 1)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h1.remove()
        h2.remove()
        x.grad = None
        y.sum().backward()
        return first, x.grad, seen[0]

    both(run)


def test_requires_grad_detach_and_errors():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        y = x * 2
        y.detach_()
        return d.requires_grad, y.requires_grad, y.is_leaf, L.ones(2).requires_grad_().requires_grad

    both(run)
    raises_like(lambda L: L.tensor([1, 2]).requires_grad_())
    raises_like(lambda L: setattr(L.tensor([1, 2]), "requires_grad", True))
    raises_like(lambda L: setattr(L.ones(2, requires_grad=True) * 2, "requires_grad", False))


def test_grad_setter_checks():
    for L in (ember, torch):
        x = L.ones(2, 3, requires_grad=True)
        x.grad = L.zeros(2, 3)
        x.grad = None
        assert x.grad is None
    raises_like(lambda L: setattr(L.ones(2, 3, requires_grad=True), "grad", L.zeros(3, 2)))
    raises_like(lambda L: setattr(L.ones(2, 3, requires_grad=True), "grad", L.zeros(2, 3, dtype=L.float64)))
    raises_like(lambda L: setattr(L.ones(2, 3, requires_grad=True), "grad", 1.0))


def test_higher_order_derivatives():
    def run(L):
        x = L.tensor([0.5, 1.5, -2.0], requires_grad=True)
        y = (x**3).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (g2,) = L.autograd.grad(g.sum(), x, create_graph=True)
        (g3,) = L.autograd.grad(g2.sum(), x)
        return g, g2, g3

    both(run)

    def penalty(L):
        w = L.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
        inp = L.tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True)
        out = (inp * w).tanh().sum()
        (gi,) = L.autograd.grad(out, inp, create_graph=True)
        pen = ((gi.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        pen.backward()
        return w.grad

    both(penalty)


def test_create_graph_backward_keeps_differentiable_grad():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x**2).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        return L.autograd.grad(g.sum(), x)[0]

    both(run)


def test_create_graph_backward_onto_a_plain_grad_adds_out_of_place():
    """A .grad left by a plain backward is not written into by a create_graph backward: the sum is a new
    tensor that records the graph, and the old one keeps its values."""

    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        old = x.grad
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the reference cycle create_graph makes
            (x * x * x).sum().backward(create_graph=True)
        assert x.grad is not old and x.grad.requires_grad
        assert type(x.grad.grad_fn).__name__ == "AddBackward0"
        return old, x.grad, L.autograd.grad(x.grad.sum(), x)[0]

    both(run)


def test_errors():
    def freed(L):
        x = L.ones(2, requires_grad=True)
        y = (x.exp()).sum()
        y.backward()
        y.backward()

    raises_like(freed, match="second time")
    raises_like(lambda L: (L.ones(2, requires_grad=True) * 2).backward(), match="scalar outputs")
    raises_like(lambda L: L.ones(2, requires_grad=True).add_(1), match="leaf Variable")
    raises_like(lambda L: L.ones(2).sum().backward(), match="does not require grad")

    def saved(L):
        x = L.ones(2, requires_grad=True)
        y = x * 2
        z = y.exp()
        z.mul_(2)
        z.sum().backward()

    raises_like(saved, match="modified by an inplace operation")


def test_grad_modes_as_context_and_decorator():
    for L in (ember, torch):
        x = L.ones(2, requires_grad=True)
        with L.no_grad():
            assert not (x * 2).requires_grad
            assert not L.is_grad_enabled()
            with L.enable_grad():
                assert (x * 2).requires_grad
            assert not L.is_grad_enabled()
        assert L.is_grad_enabled()

        @L.no_grad()
        def f(t):
            return t * 2

        @L.enable_grad()
        def g(t):
            return t * 2

        @L.set_grad_enabled(False)
        def h(t):
            return t * 2

        @L.no_grad()
        def nested(t):
            return g(t), f(t)

        assert not f(x).requires_grad and g(x).requires_grad and not h(x).requires_grad
        a, b = nested(x)
        assert a.requires_grad and not b.requires_grad
        assert L.is_grad_enabled()
        with L.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert L.is_grad_enabled()
        L.set_grad_enabled(False)
        assert not L.is_grad_enabled()
        L.set_grad_enabled(True)
        with L.inference_mode():
            assert not (x * 2).requires_grad
        with L.inference_mode(False):
            assert (x * 2).requires_grad

        @L.inference_mode()
        def inf(t):
            return t * 2

        assert not inf(x).requires_grad
        assert L.autograd.grad_mode.no_grad is L.no_grad
        assert L.autograd.no_grad is L.no_grad and L.autograd.grad_mode.inference_mode is L.inference_mode


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError, match="raised inside"):
        with ember.no_grad():
            raise ValueError("raised inside")
    assert ember.is_grad_enabled()


class _Exp:
    @staticmethod
    def make(L):
        class Exp(L.autograd.Function):
            @staticmethod
            def forward(ctx, i):
                result = i.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad_output):
                (result,) = ctx.saved_tensors
                return grad_output * result

        return Exp

    @staticmethod
    def scaled(L):
        class Scale(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor, flag):
                ctx.factor = factor
                ctx.flags = ctx.needs_input_grad
                return x * factor

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None, None

        return Scale


def test_custom_function():
    def run(L):
        x = L.tensor([0.5, 1.0], requires_grad=True)
        y = _Exp.make(L).apply(x)
        z = _Exp.scaled(L).apply(y, 3.0, True)
        z.sum().backward()
        return y, z, x.grad, type(y.grad_fn).__name__ if L is torch else y.grad_fn.name()

    both(run)


def test_custom_function_non_differentiable_output():
    def run(L):
        class ArgSort(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = L.tensor(np.argsort(x.detach().numpy()))
                ctx.mark_non_differentiable(idx)
                return x * 2, idx

            @staticmethod
            def backward(ctx, g, gi):
                return g * 2

        x = L.tensor([3.0, 1.0, 2.0], requires_grad=True)
        y, i = ArgSort.apply(x)
        y.sum().backward()
        return x.grad, i, i.requires_grad

    both(run)


def test_detect_anomaly_names_forward_op():
    messages = []
    for L in (torch, ember):
        x = L.tensor([0.0, 1.0], requires_grad=True)
        with pytest.warns(UserWarning), L.autograd.detect_anomaly():
            y = x.sqrt() * 0.0
            with pytest.raises(RuntimeError) as exc:
                (y.sqrt()).sum().backward()
        messages.append(str(exc.value).splitlines()[0])
    assert messages[0] == messages[1]


def test_long_chain_and_graph_freeing():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**10000, rtol=1e-3)
    z = (x * 2).exp()
    z.backward()
    assert z.grad_fn.saved == ()


def test_variable_import():
    from ember.autograd import Variable

    v = Variable(ember.ones(2), requires_grad=True)
    assert v.requires_grad
    assert ember.autograd.variable.Variable is Variable


@pytest.mark.parametrize("lib", [ember, torch])
def test_variable_is_a_new_leaf_sharing_data(lib):
    # torch's Variable(t) is t.detach() (same data and version counter), with requires_grad set on the new tensor
    variable = lib.autograd.Variable
    version = (lambda t: t._version) if lib is torch else (lambda t: t._version.value)
    t = lib.ones(2)
    v = variable(t, requires_grad=True)
    assert (t.requires_grad, v.requires_grad, v is t) == (False, True, False)
    assert v.data_ptr() == t.data_ptr() and v.is_leaf and v.grad_fn is None
    assert isinstance(t, variable) and not isinstance(3, variable)
    with lib.no_grad():
        v.add_(1)
    assert t.tolist() == [2.0, 2.0] and version(t) == version(v) == 1
    plain = variable(t)
    assert plain is not t and not plain.requires_grad and plain.data_ptr() == t.data_ptr()
    w = lib.ones(2, requires_grad=True) * 2
    x = variable(w)
    assert x is not w and not x.requires_grad and x.grad_fn is None and x.is_leaf
    (variable(w, True) * 3).sum().backward()
    assert variable().shape == (0,)


@pytest.mark.parametrize("lib", [ember, torch])
def test_variable_arguments_as_torch(lib):
    variable = lib.autograd.Variable
    t = lib.ones(2)
    with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
        assert not variable(t, volatile=True).requires_grad
    with pytest.warns(UserWarning, match="volatile was removed"):
        with pytest.raises(ValueError, match="Variable can't be volatile and require_grad at the same time!"):
            variable(t, requires_grad=True, volatile=True)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        variable([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        variable(lib.tensor([1, 2]), requires_grad=True)

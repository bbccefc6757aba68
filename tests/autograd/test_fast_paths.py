"""The fast paths of the backward pass: gradient buffers kept without copies only when nobody else sees
them, array formulas that match the tensor formulas bit for bit, grad mode per thread."""

import threading
import weakref

import numpy as np
import pytest
import torch
from helpers import assert_same_bits

import ember
from ember._quiet_floats import quiet
from ember.autograd import Function, engine
from ember.autograd.graph import Node

rng = np.random.default_rng(3)


# ---------------------------------------------------------------------------- first .grad: kept or copied
class _FreshGrad(Function):
    """Backward returns a brand-new array; its address is recorded so the test can find it again."""

    addresses: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        arr = np.full(g.shape, 7.0, np.float32)
        _FreshGrad.addresses.append(arr.ctypes.data)
        return ember.Tensor._wrap(arr)


class _HeldGrad(Function):
    """Backward returns a tensor that it also keeps: the leaf must not share its memory."""

    kept: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        out = ember.Tensor._wrap(np.full(g.shape, 7.0, np.float32))
        _HeldGrad.kept.append(out)
        return out


def test_fresh_gradient_becomes_grad_without_a_copy_where_reference_counts_were_checked():
    x = ember.ones(3, requires_grad=True)
    _FreshGrad.apply(x).sum().backward()
    # copied instead on interpreters whose reference counts were not checked, and under EMBER_FALLBACKS=grad-reuse
    assert (x.grad.data_ptr() == _FreshGrad.addresses[-1]) == engine._REFCOUNTS_CHECKED
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0, 7.0])


def test_gradient_held_elsewhere_is_copied():
    x = ember.ones(3, requires_grad=True)
    _HeldGrad.apply(x).sum().backward()
    held = _HeldGrad.kept[-1]
    assert not np.shares_memory(x.grad.numpy(), held.numpy())
    x.grad.add_(1)  # accumulating into .grad must leave the other tensor alone
    np.testing.assert_array_equal(held.numpy(), [7.0, 7.0, 7.0])


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_gradient_viewing_an_array_nobody_else_holds_is_kept(lib):
    """A gradient whose array is a view of a base that only the view holds becomes .grad without a copy,
    as torch keeps a gradient tensor that nothing else holds."""
    bases = []

    class ViewGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            base = np.arange(8, dtype=np.float32)
            bases.append(weakref.ref(base))
            return lib.from_numpy(base[2:6])

    x = lib.zeros(4, requires_grad=True)
    ViewGrad.apply(x).sum().backward()
    base = bases[-1]()
    kept = base is not None and np.shares_memory(x.grad.numpy(), base)
    # ember copies where reference counts were not checked, and under EMBER_FALLBACKS=grad-reuse
    assert kept == (lib is torch or engine._REFCOUNTS_CHECKED)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0, 4.0, 5.0])


def test_user_gradient_and_shared_gradients_are_never_aliased():
    a, b = ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
    seed = ember.ones(3)
    (a + b).backward(seed)  # add passes the same gradient to both leaves
    grads = [a.grad.numpy(), b.grad.numpy(), seed.numpy()]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    (a * 2).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0, 1.0])


def test_leaf_hook_result_held_elsewhere_is_copied():
    x = ember.ones(3, requires_grad=True)
    replacement = ember.full((3,), 5.0)
    x.register_hook(lambda g: replacement)
    (x * 3).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), replacement.numpy())
    x.grad.zero_()
    np.testing.assert_array_equal(replacement.numpy(), [5.0, 5.0, 5.0])


def test_retained_gradient_is_not_shared_with_a_leaf():
    x = ember.ones(3, requires_grad=True)
    y = x * 1.0
    y.retain_grad()
    (y * 2).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())


def test_linear_weight_gradient_is_row_major_like_the_weight():
    lin = ember.nn.Linear(5, 4)
    lin(ember.randn(6, 5)).sum().backward()
    assert lin.weight.grad.is_contiguous() and lin.bias.grad.is_contiguous()
    assert lin.weight.grad.shape == lin.weight.shape
    # a second backward accumulates in place into the kept buffers
    before = lin.weight.grad.clone()
    lin(ember.randn(6, 5)).sum().backward()
    assert not ember.equal(before, lin.weight.grad)


def test_linear_graph_matches_torch_structure():
    lin = ember.nn.Linear(3, 2)
    out = lin(ember.randn(4, 3))
    assert out.grad_fn.name() == "AddmmBackward0"
    names = [None if n is None else n.name() for n, _ in out.grad_fn.next_functions]
    assert names == ["AccumulateGrad", None, "TBackward0"]
    assert out.grad_fn.next_functions[2][0].next_functions[0][0].variable is lin.weight


def _graph_shape(fn):
    """The root node's name and its next functions' names, so ember's and torch's graphs can be compared."""
    return type(fn).__name__, [None if n is None else type(n).__name__ for n, _ in fn.next_functions]


@pytest.mark.parametrize(
    "op",
    [
        lambda x, y: x * 2,
        lambda x, y: x / 2,
        lambda x, y: x + 2,
        lambda x, y: x - 2,
        lambda x, y: 2 - x,
        lambda x, y: x.add(2, alpha=3),
        lambda x, y: x * y,
        lambda x, y: y / x,
        lambda x, y: x.exp(),
        lambda x, y: x.max(),
        lambda x, y: x.max(dim=0).values,
        lambda x, y: (x * 1).fill_(1.5),
    ],
)
def test_recorded_nodes_have_torchs_input_slots(op):
    """A Python-number operand takes a slot without a node, and a tensor that needs no grad an empty slot."""
    res = []
    for lib in (ember, torch):
        x = lib.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        y = lib.tensor([[2.0, 4.0], [1.0, 8.0]])
        res.append(_graph_shape(op(x, y).grad_fn))
    assert res[0] == res[1]


# ---------------------------------------------------------------------------- array formulas == tensor formulas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_array_backward_of_layers_and_reductions_matches_create_graph_backward(dtype):
    """A whole graph (linear through addmm and mm, softmax, log_softmax, cross entropy, sums and means, unary
    math) gives the same gradients with its array formulas as with its Tensor formulas (create_graph)."""
    local = np.random.default_rng(11)
    x0 = local.standard_normal((6, 4)).astype(dtype)
    w0, b0 = local.standard_normal((3, 4)).astype(dtype), local.standard_normal(3).astype(dtype)

    def grads(create_graph):
        x, w, b = (ember.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        h = ember.nn.functional.linear(x, w, b)
        h2 = ember.nn.functional.linear(x, w)
        total = (
            h.softmax(1).sum(0).pow(2).sum()
            + h2.log_softmax(1).mean(1).sum()
            + (h * h2).mean()
            + h.sum(1, keepdim=True).mean(0).sum()
            + ember.nn.functional.cross_entropy(h, ember.tensor([0, 2, 1, 1, 0, 2]))
            + (h.tanh() * h2.sigmoid() / (h2.exp() + 1)).sum()
        )
        return ember.autograd.grad(total, [x, w, b], create_graph=create_graph)

    for fast, slow in zip(grads(False), grads(True)):
        assert_same_bits(fast.detach()._data, slow.detach()._data)


def test_array_backward_still_detects_in_place_changes():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    y = x * 1.0
    out = y.tanh()
    out.add_(1)  # the saved output changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_double_backward_through_fast_ops_matches_torch():
    def run(lib):
        x = lib.tensor([0.3, -1.2, 2.0], requires_grad=True)
        w = lib.nn.functional.linear(x.reshape(1, 3), lib.tensor([[0.5, -0.25, 1.0]]), lib.tensor([0.1]))
        y = (w.tanh() * x).sum() + lib.nn.functional.cross_entropy(x.reshape(1, 3), lib.tensor([1]))
        (g,) = lib.autograd.grad(y, [x], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), [x])
        return g.detach().numpy(), gg.numpy()

    for a, b in zip(run(ember), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- every node with two formulas
def _node_classes(cls=Node):
    for sub in cls.__subclasses__():
        yield sub
        yield from _node_classes(sub)


_UNARY_METHODS = {
    "ExpBackward0": "exp",
    "Exp2Backward0": "exp2",
    "Expm1Backward0": "expm1",
    "LogBackward0": "log",
    "Log2Backward0": "log2",
    "Log10Backward0": "log10",
    "Log1PBackward0": "log1p",
    "SqrtBackward0": "sqrt",
    "TanBackward0": "tan",
    "AtanBackward0": "atan",
    "TanhBackward0": "tanh",
    "SigmoidBackward0": "sigmoid",
    "ReciprocalBackward0": "reciprocal",
    "RsqrtBackward0": "rsqrt",
    "SinBackward0": "sin",
    "CosBackward0": "cos",
    "AsinBackward0": "asin",
    "AcosBackward0": "acos",
    "SinhBackward0": "sinh",
    "CoshBackward0": "cosh",
    "ErfBackward0": "erf",
}
F = ember.nn.functional


# For each node class that offers backward_arrays: ops (given a maker of leaf tensors of a shape) whose result
# has that node as grad_fn, in cases its array formula covers.
def _spread(t, shape=(3, 4)):
    """A leaf's values moved to straddle zero (leaves lie in [0.2, 1.5]), so both sides of a kink are covered."""
    return (t(shape) - 0.8) * 6


# Activations with settings that put inputs on both sides of each branch.
_ACTIVATION_SAMPLES = {
    "LeakyReluBackward0": [lambda t: F.leaky_relu(_spread(t), 0.2)],
    "HardtanhBackward0": [lambda t: F.hardtanh(_spread(t), -1.5, 2.0), lambda t: F.relu6(_spread(t))],
    "EluBackward0": [lambda t: F.elu(_spread(t), 1.3), lambda t: F.selu(_spread(t))],
    "CeluBackward0": [lambda t: F.celu(_spread(t), 0.7)],
    "GeluBackward0": [lambda t: F.gelu(_spread(t)), lambda t: F.gelu(_spread(t), approximate="tanh")],
    "SiluBackward0": [lambda t: F.silu(_spread(t))],
    "MishBackward0": [lambda t: F.mish(_spread(t))],
    "SoftplusBackward0": [lambda t: F.softplus(_spread(t), beta=2, threshold=3)],
    "HardsigmoidBackward0": [lambda t: F.hardsigmoid(_spread(t))],
    "HardswishBackward0": [lambda t: F.hardswish(_spread(t))],
    "LogSigmoidBackward0": [lambda t: F.logsigmoid(_spread(t))],
    "ThresholdBackward0": [lambda t: F.threshold(_spread(t), 0.1, 2.0)],
    "HardshrinkBackward0": [lambda t: F.hardshrink(_spread(t), 0.7)],
    "SoftshrinkBackward0": [lambda t: F.softshrink(_spread(t), 0.7)],
}
ARRAY_FORMULA_SAMPLES = {
    **_ACTIVATION_SAMPLES,
    **{
        name: [lambda t, m=m: getattr(t((3, 4)), m)(), lambda t, m=m: getattr(t(()), m)()]
        for name, m in _UNARY_METHODS.items()
    },
    "MulBackward0": [lambda t: t((3, 4)) * t((3, 4)), lambda t: t((7,)) * t((7,))],
    "DivBackward0": [lambda t: t((3, 4)) / t((3, 4)), lambda t: t(()) / t(())],
    "ReluBackward0": [lambda t: (t((3, 4)) - 0.8).relu()],
    "MmBackward0": [lambda t: t((3, 4)).mm(t((4, 5))), lambda t: t((3, 4)).mm(t((5, 4)).t())],
    "AddmmBackward0": [
        lambda t: ember.addmm(t((5,)), t((3, 4)), t((4, 5))),
        lambda t: F.linear(t((3, 4)), t((5, 4)), t((5,))),
    ],
    "SoftmaxBackward0": [lambda t: t((3, 4)).softmax(1), lambda t: t((3, 4)).softmax(0)],
    "LogSoftmaxBackward0": [lambda t: t((3, 4)).log_softmax(1)],
    "NllLossBackward0": [
        lambda t: F.cross_entropy(t((3, 4)), ember.tensor([0, 3, 1])),
        lambda t: F.cross_entropy(t((3, 4)), ember.tensor([0, 3, 1]), reduction="sum"),
        lambda t: F.cross_entropy(t((3, 4)), ember.tensor([0, 3, 1]), reduction="none"),
        lambda t: F.cross_entropy(t((3, 4)), ember.tensor([0, 3, 1]), weight=t((4,)).detach()),
        lambda t: F.cross_entropy(t((3, 4)), ember.tensor([2, 2, 2]), ignore_index=2),
    ],
    "NllLoss2DBackward0": [
        lambda t: F.cross_entropy(t((2, 3, 2, 2)), ember.tensor([[[0, 1], [2, 1]], [[1, 1], [0, 2]]]))
    ],
    "SumBackward0": [lambda t: t((3, 4)).sum()],
    "SumBackward1": [lambda t: t((3, 4)).sum(1), lambda t: t((3, 4)).sum(0, keepdim=True)],
    "MeanBackward0": [lambda t: t((3, 4)).mean()],
    "MeanBackward1": [lambda t: t((3, 4)).mean(1), lambda t: t((2, 3, 4)).mean((0, 2), keepdim=True)],
    "TBackward0": [lambda t: t((3, 4)).t()],
    "ConvolutionBackward0": [
        lambda t: F.conv2d(t((2, 3, 5, 5)), t((4, 3, 3, 3)), t((4,)), padding=1),
        lambda t: F.conv2d(t((2, 4, 5, 5)), t((4, 2, 2, 2)), stride=2, groups=2),
        lambda t: F.conv1d(t((2, 3, 7)), t((2, 3, 3)), t((2,)), dilation=2),
        lambda t: F.conv2d(t((2, 3, 6, 5)), t((4, 3, 3, 2)), t((4,)), stride=(2, 1), padding=1),
        lambda t: F.conv_transpose2d(t((2, 4, 3, 3)), t((4, 3, 2, 2)), t((3,)), stride=2, output_padding=1),
        lambda t: F.conv_transpose2d(t((2, 4, 3, 3)), t((4, 1, 3, 3)), groups=2, padding=1),
        # batches of 16 and more with short output rows run on batch-last columns
        lambda t: F.conv2d(t((16, 3, 5, 5)), t((4, 3, 3, 3)), t((4,)), padding=1),
        lambda t: F.conv2d(t((16, 4, 7, 6)), t((4, 2, 3, 2)), stride=(2, 1), dilation=(1, 2), groups=2),
        lambda t: F.conv1d(t((16, 3, 9)), t((2, 3, 3)), t((2,)), stride=2, padding=1),
    ],
    "MaxPool2DWithIndicesBackward0": [
        lambda t: F.max_pool2d(t((2, 3, 6, 6)), 2),
        lambda t: F.max_pool2d(t((2, 3, 6, 6)), 3, 2, 1),
    ],
    "AdaptiveMaxPool2DBackward0": [
        lambda t: F.adaptive_max_pool2d(t((2, 3, 7, 9)), (4, 5)),
        lambda t: F.adaptive_max_pool2d(t((2, 3, 6, 6)), 3),
    ],
}


def test_every_node_with_an_array_formula_has_samples():
    """A node class that gains backward_arrays must be added above, so its two formulas get compared."""
    offered = {c.__name__ for c in _node_classes() if c.backward_arrays is not None and not c.__name__.startswith("_")}
    assert offered == set(ARRAY_FORMULA_SAMPLES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ARRAY_FORMULA_SAMPLES))
def test_array_formula_equals_tensor_formula_bit_for_bit(name, dtype):
    local = np.random.default_rng(5)

    def leaf(shape):
        return ember.tensor(local.uniform(0.2, 1.5, shape).astype(dtype), requires_grad=True)

    for build in ARRAY_FORMULA_SAMPLES[name]:
        node = build(leaf).grad_fn
        assert node.name() == name
        out_shape = build(leaf).shape
        g = ember.tensor(local.standard_normal(tuple(out_shape)).astype(dtype))
        with quiet():  # as inside the engine: a 0/0 of an all-ignored loss is NaN without a warning
            fast = node.backward_arrays(g)
            assert fast is not None, "the sample must be a case the array formula covers"
            with ember.no_grad():
                slow = node.backward(g)
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow):
            assert (a is None) == (b is None)
            if a is not None:
                assert_same_bits(a._data, b._data, name)


# ---------------------------------------------------------------------------- cross entropy fast path
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unweighted_cross_entropy_matches_the_weighted_path_exactly(dtype):
    """Weights of one take the general path; the everyday call takes the fast one: same bits."""
    logits = rng.standard_normal((9, 5)).astype(dtype) * 3
    target = rng.integers(0, 5, 9)

    def run(weight):
        x = ember.tensor(logits, requires_grad=True)
        loss = ember.nn.functional.cross_entropy(x, ember.tensor(target), weight=weight)
        loss.backward()
        return loss._data, x.grad._data

    fast, general = run(None), run(ember.ones(5, dtype=ember.float64 if dtype == np.float64 else ember.float32))
    for a, b in zip(fast, general):
        assert_same_bits(a, b)


def test_cross_entropy_with_every_target_ignored_gives_zero_gradients_like_torch():
    for lib in (ember, torch):
        x = lib.tensor([[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]], requires_grad=True)
        with np.errstate(all="ignore"):
            loss = lib.nn.functional.cross_entropy(x, lib.tensor([2, 2]), ignore_index=2, label_smoothing=0.1)
            loss.backward()
        assert np.isnan(loss.item())
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3), np.float32))


# ---------------------------------------------------------------------------- grad mode per thread
def test_no_grad_in_one_thread_leaves_other_threads_recording():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def worker():
        seen["start"] = ember.is_grad_enabled()
        inside.set()
        release.wait(5)
        x = ember.ones(2, requires_grad=True)
        seen["records"] = (x * 2).requires_grad

    with ember.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        inside.wait(5)
        assert not ember.is_grad_enabled()
        release.set()
        thread.join(5)
    assert seen == {"start": True, "records": True}
    assert ember.is_grad_enabled()

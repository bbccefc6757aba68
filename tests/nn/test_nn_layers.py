"""Layers against torch with identical weights: Linear, Bilinear, Flatten, Dropout, BatchNorm, LayerNorm, Embedding."""

import math
import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, check_op, gradcheck, gradgradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

rng = np.random.default_rng(0)


def pair(make):
    """The same layer in both libraries, ember's weights copied from torch's."""
    tm = make(torch.nn)
    em = make(ember.nn)
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return em, tm


def run_both(em, tm, *arrays, atol=1e-5):
    """Forward both with the same inputs, compare outputs, then input and parameter gradients."""
    e_in = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    eo, to = em(*e_in), tm(*t_in)
    assert_same(eo, to, atol=atol)
    w = rng.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for e, t in zip(e_in, t_in):
        if t.requires_grad:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol * 10, rtol=1e-4)
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        if pt.grad is None:
            assert pe.grad is None, n
        else:
            np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=atol * 10, rtol=1e-4, err_msg=n)
    return eo, to


# ---------------------------------------------------------------------------- Linear
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4), (2, 2, 3, 4)])
def test_linear_matches_torch(bias, shape):
    em, tm = pair(lambda nn: nn.Linear(4, 3, bias=bias))
    assert repr(em) == repr(tm)
    run_both(em, tm, rng.standard_normal(shape).astype(np.float32))


def test_linear_2d_is_one_addmm():
    em = ember.nn.Linear(4, 3)
    out = em(ember.randn(2, 4))
    assert out.grad_fn.name() == "AddmmBackward0"
    assert ember.nn.Linear(4, 3, bias=False)(ember.randn(2, 4)).grad_fn.name() == "MmBackward0"


def test_linear_default_init_bounds():
    lin = ember.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives exactly 1/sqrt(fan_in)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    b = lin.bias.detach().numpy()
    assert np.abs(b).max() <= bound
    assert lin.weight.dtype == ember.float32 and lin.weight.requires_grad


def test_linear_dtype_argument():
    assert ember.nn.Linear(2, 2, dtype=ember.float64).weight.dtype == ember.float64


def test_linear_wrong_features_message():
    lin = ember.nn.Linear(784, 200)
    with pytest.raises(RuntimeError) as exc:
        lin(ember.randn(64, 28))
    msg = str(exc.value)
    assert "mat1 and mat2 shapes cannot be multiplied (64x28 and 784x200)" in msg
    assert "Linear(in_features=784, out_features=200, bias=True)" in msg
    assert "x.view(x.size(0), -1)" in msg and "nn.Flatten()" in msg
    with pytest.raises(RuntimeError) as exc:
        lin(ember.randn(64, 1, 28, 28))
    assert "(1792x28 and 784x200)" in str(exc.value) and "[64, 784]" in str(exc.value)
    with pytest.raises(RuntimeError) as texc:
        torch.nn.Linear(784, 200)(torch.randn(64, 1, 28, 28))
    assert str(texc.value) in str(exc.value)


def test_bilinear_matches_torch():
    em, tm = pair(lambda nn: nn.Bilinear(3, 4, 2))
    assert repr(em) == repr(tm)
    run_both(em, tm, rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32))


def test_identity_flatten_unflatten():
    for make in (
        lambda nn: nn.Identity(54, unused="x"),
        lambda nn: nn.Flatten(),
        lambda nn: nn.Flatten(0, 1),
        lambda nn: nn.Unflatten(1, (3, 2)),
    ):
        em, tm = pair(make)
        assert repr(em) == repr(tm)
        run_both(em, tm, rng.standard_normal((2, 6, 2)).astype(np.float32))


# ---------------------------------------------------------------------------- Dropout
def test_dropout_train_and_eval():
    d = ember.nn.Dropout(0.3)
    assert repr(d) == repr(torch.nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"
    x = ember.ones(200, 500, requires_grad=True)
    y = d(x)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(sorted(vals), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y.detach().numpy() == 0).mean() - 0.3) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # d/dx = mask / (1-p)
    d.eval()
    assert d(x) is x
    assert ember.nn.functional.dropout(x, 0.5, training=False) is x
    assert ember.nn.functional.dropout(x, 1.0).abs().sum().item() == 0.0


def test_dropout_inplace_and_errors():
    x = ember.ones(10, 10)
    out = ember.nn.Dropout(0.5, inplace=True)(x)
    assert out is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            lib.nn.Dropout(1.5)


# ---------------------------------------------------------------------------- BatchNorm1d
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3},
        {"affine": False},
        {"track_running_stats": False},
        {"eps": 1e-2},
        {"bias": False},
    ],
    ids=str,
)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_matches_torch(kw, shape):
    em, tm = pair(lambda nn: nn.BatchNorm1d(3, **kw))
    assert repr(em) == repr(tm)
    for _ in range(3):
        run_both(em, tm, (rng.standard_normal(shape) * 2 + 1).astype(np.float32), atol=1e-4)
        for (n, be), (_, bt) in zip(em.named_buffers(), tm.named_buffers()):
            np.testing.assert_allclose(be.numpy(), bt.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    em.eval()
    tm.eval()
    run_both(em, tm, rng.standard_normal(shape).astype(np.float32), atol=1e-4)
    assert list(em.state_dict()) == list(tm.state_dict())


def test_batchnorm_gradcheck_train_and_eval():
    bn = ember.nn.BatchNorm1d(3).double()
    w = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ember.tensor(rng.standard_normal(3), requires_grad=True)

    def f(x, w, b):
        return ember.nn.functional.batch_norm(x, None, None, w, b, training=True)

    gradcheck(f, rng.standard_normal((5, 3)), w.detach().numpy(), b.detach().numpy())
    gradgradcheck(f, rng.standard_normal((4, 3, 2)), w.detach().numpy(), b.detach().numpy())
    rm, rv = ember.tensor(rng.standard_normal(3)), ember.tensor(rng.uniform(0.5, 2, 3))
    gradcheck(
        lambda x, w, b: ember.nn.functional.batch_norm(x, rm, rv, w, b),
        rng.standard_normal((4, 3)),
        w.detach().numpy(),
        b.detach().numpy(),
    )
    assert bn(ember.randn(4, 3, dtype=ember.float64)).grad_fn.name() == "NativeBatchNormBackward0"


def test_batchnorm_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="expected 2D or 3D input"):
            lib.nn.BatchNorm1d(3)(lib.randn(2, 3, 4, 5))
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            lib.nn.BatchNorm1d(3)(lib.randn(1, 3))
        with pytest.raises(RuntimeError, match="should contain 5 elements not 3"):
            lib.nn.BatchNorm1d(3)(lib.randn(4, 5))


def test_batchnorm_loads_checkpoint_without_num_batches_tracked():
    """A state dict from before num_batches_tracked existed (a plain dict, no version metadata) loads: the
    running statistics come from the dict and the module keeps its own count, as in torch."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        trained = lib.nn.BatchNorm1d(2)
        for _ in range(3):
            trained(lib.randn(4, 2) * 2 + 1)
        old = {k: v for k, v in trained.state_dict().items() if k != "num_batches_tracked"}
        fresh, used = lib.nn.BatchNorm1d(2), lib.nn.BatchNorm1d(2)
        used(lib.randn(4, 2))
        for module in (fresh, used):
            keys = module.load_state_dict(old)
            assert list(keys.missing_keys) == [] and list(keys.unexpected_keys) == []
            assert module.running_mean.tolist() == trained.running_mean.tolist()
            assert module.running_var.tolist() == trained.running_var.tolist()
        assert trained.num_batches_tracked.item() == 3
        results.append((fresh.num_batches_tracked.item(), used.num_batches_tracked.item()))
    assert results[0] == results[1] == (0, 1)


# ---------------------------------------------------------------------------- LayerNorm
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}], ids=str)
@pytest.mark.parametrize("norm_shape,shape", [(5, (4, 5)), ((3, 5), (2, 3, 5)), (5, (5,))])
def test_layernorm_matches_torch(kw, norm_shape, shape):
    em, tm = pair(lambda nn: nn.LayerNorm(norm_shape, **kw))
    assert repr(em) == repr(tm)
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(torch.randn(p.shape) * 0.3)
    em.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()})
    run_both(em, tm, (rng.standard_normal(shape) * 3).astype(np.float32), atol=1e-5)


def test_layernorm_gradcheck_and_errors():
    w, b = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    f = lambda x, w, b: ember.nn.functional.layer_norm(x, (4,), w, b)  # noqa: E731
    gradcheck(f, rng.standard_normal((3, 4)), w, b)
    gradgradcheck(f, rng.standard_normal((2, 4)), w, b)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\]"):
            lib.nn.LayerNorm(3)(lib.randn(4, 5))


# ---------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("padding_idx", [None, 1, -2])
def test_embedding_matches_torch(padding_idx):
    em, tm = pair(lambda nn: nn.Embedding(6, 3, padding_idx=padding_idx))
    assert repr(em) == repr(tm)
    idx = np.array([[1, 2, 4], [4, 3, 1], [0, 4, 5]])
    run_both(em, tm, idx)
    if padding_idx is not None:
        assert float(em.weight.grad[padding_idx].abs().sum()) == 0.0


def test_embedding_init_from_pretrained_and_errors():
    e = ember.nn.Embedding(1000, 50, padding_idx=0)
    w = e.weight.detach().numpy()
    assert np.all(w[0] == 0) and abs(w[1:].std() - 1) < 0.02
    pre = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    fe = ember.nn.Embedding.from_pretrained(pre)
    ft = torch.nn.Embedding.from_pretrained(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not fe.weight.requires_grad and repr(fe) == repr(ft)
    assert fe(ember.tensor([1, 0])).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert ember.nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.nn.Embedding(3, 2)(ember.tensor([5]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        ember.nn.Embedding(3, 2)(ember.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="max_norm"):
        ember.nn.Embedding(3, 2, max_norm=1.0)


def test_embedding_functional_double_backward():
    idx = ember.tensor([0, 2, 2])
    gradcheck(lambda w: ember.nn.functional.embedding(idx, w) ** 2, rng.standard_normal((3, 2)))
    gradgradcheck(lambda w: ember.nn.functional.embedding(idx, w) ** 2, rng.standard_normal((3, 2)))


# ---------------------------------------------------------------------------- functional helpers
@pytest.mark.parametrize("num_classes", [-1, 7])
def test_one_hot(num_classes):
    t = np.array([[0, 3], [2, 1]])
    check_op(lambda lib, a: lib.nn.functional.one_hot(a, num_classes), t, grad=False)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
            lib.nn.functional.one_hot(lib.tensor([3]), 2)
        with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type LongTensor"):
            lib.nn.functional.one_hot(lib.tensor([1.0]))


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (2.0, 0), (math.inf, 1)])
def test_normalize(p, dim):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    x[0] = 0.0
    check_op(lambda lib, a: lib.nn.functional.normalize(a, p=p, dim=dim), x)
    gradcheck(lambda a: ember.nn.functional.normalize(a, p=p, dim=dim), rng.standard_normal((2, 3)))
    # the norm's node is the one torch records (the same op as Tensor.norm and linalg.vector_norm)
    node = ember.nn.functional.normalize(ember.tensor(x, requires_grad=True), p=p, dim=dim).grad_fn
    expand = node.next_functions[1][0]  # input / norm.clamp_min(eps).expand_as(input)
    clamp = expand.next_functions[0][0]
    assert [expand.name(), clamp.name(), clamp.next_functions[0][0].name()] == [
        "ExpandBackward0",
        "ClampMinBackward0",
        "LinalgVectorNormBackward0",
    ]


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    pads=st.lists(st.integers(-1, 2), min_size=2, max_size=6),
    value=st.sampled_from([0.0, 1.5]),
)
def test_constant_pad_hypothesis(shape, pads, value):
    pads = pads[: 2 * len(shape)]
    if len(pads) % 2:
        pads = pads[:-1]
    x = rng.standard_normal(tuple(shape)).astype(np.float32)
    try:
        torch.nn.functional.pad(torch.tensor(x), pads, value=value)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ember.nn.functional.pad(ember.tensor(x), pads, value=value)
        return
    check_op(lambda lib, a: lib.nn.functional.pad(a, pads, value=value), x)


def test_pad_grad_fn_and_an_unknown_mode():
    x = ember.randn(2, 3, requires_grad=True)
    assert ember.nn.functional.pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"
    gradgradcheck(lambda a: ember.nn.functional.pad(a, (1, 2, -1, 0)) ** 2, rng.standard_normal((3, 3)))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode mirror"):
        ember.nn.functional.pad(x, (1, 1), mode="mirror")


def test_linear_functional_gradcheck():
    gradcheck(
        lambda x, w, b: ember.nn.functional.linear(x, w, b),
        rng.standard_normal((3, 4)),
        rng.standard_normal((2, 4)),
        rng.standard_normal(2),
    )
    gradgradcheck(
        lambda x, w: ember.nn.functional.linear(x, w) ** 2, rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3))
    )


def test_cosine_similarity():
    a, b = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y), a, b)

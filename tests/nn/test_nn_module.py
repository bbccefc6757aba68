"""Module machinery against torch: registration, traversal, modes, dtype moves, state_dict, hooks, repr."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from helpers import assert_same

import ember


def build(lib):
    """The same small nested network in either library."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.act = nn.ReLU()
            self.register_buffer("scale", lib.ones(3))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.block = Block()
            self.seq = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
            self.heads = nn.ModuleList([nn.Linear(3, 2) for _ in range(2)])
            self.bn = nn.BatchNorm1d(2)
            self.alpha = nn.Parameter(lib.ones(1))

        def forward(self, x):
            h = self.seq(self.block(self.fc(x)))
            return self.bn(sum(head(h) for head in self.heads)) * self.alpha

    return Net()


def copy_weights(tm, em):
    """Load torch module tm's state into ember module em via NumPy arrays."""
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def test_names_and_traversal_match_torch():
    em, tm = build(ember), build(torch)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in em.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert [n for n, _ in em.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in em.named_children()] == [n for n, _ in tm.named_children()]
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters(prefix="m", recurse=False)] == ["m.alpha"]
    assert [n for n, _ in em.block.named_buffers(recurse=False)] == ["scale", "cache"]
    assert len(list(em.modules())) == len(list(tm.modules()))
    assert len(list(em.children())) == 5
    assert isinstance(em.alpha, ember.nn.Parameter)


def test_forward_and_backward_match_torch():
    em, tm = build(ember).double(), build(torch).double()  # float64: BN leaves some grads at rounding level
    copy_weights(tm, em)
    x = np.random.default_rng(0).standard_normal((6, 4))
    eo, to = em(ember.tensor(x)), tm(torch.tensor(x))
    assert_same(eo, to)
    eo.square().sum().backward()
    to.square().sum().backward()
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=1e-9, rtol=1e-7, err_msg=n)
    for (n, be), (_, bt) in zip(em.named_buffers(), tm.named_buffers()):
        np.testing.assert_allclose(be.numpy(), bt.numpy(), atol=1e-6, err_msg=n)


def test_shared_parameters_listed_once():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(lin, lin)
        assert len(list(seq.parameters())) == 2
        assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
        assert [n for n, _ in seq.named_modules()] == ["", "0"]
        assert len(list(seq.named_modules(remove_duplicate=False))) == 3
        seq2 = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        seq2[1].weight = seq2[0].weight
        assert [n for n, _ in seq2.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_setattr_getattr_delattr():
    m = ember.nn.Module()
    m.w = ember.nn.Parameter(ember.ones(2))
    m.sub = ember.nn.Linear(2, 2)
    m.register_buffer("buf", ember.zeros(2))
    m.plain = 3
    assert "w" in m._parameters and "sub" in m._modules and "buf" in m._buffers and "plain" in m.__dict__
    m.buf = ember.ones(2)
    assert m._buffers["buf"].tolist() == [1.0, 1.0]
    m.w = None
    assert m._parameters["w"] is None and m.w is None
    with pytest.raises(
        TypeError,
        match=r"cannot assign 'torch.FloatTensor' as parameter 'weight' \(torch.nn.Parameter or None expected\)",
    ):
        m.sub.weight = ember.zeros(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'int' as buffer 'buf' \("):
        m.buf = 3
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub
    m.sub = ember.nn.Linear(1, 1)
    m.sub = ember.nn.Parameter(ember.ones(1))  # reassigning under a new kind moves it
    assert "sub" not in m._modules and "sub" in m._parameters


def test_registration_errors_match_torch():
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        with pytest.raises(KeyError, match="attribute 'weight' already exists"):
            m.register_buffer("weight", lib.zeros(1))
        with pytest.raises(KeyError, match=r"parameter name can\\?.t contain"):
            m.register_parameter("a.b", None)
        with pytest.raises(KeyError, match=r"buffer name can\\?.t be empty string"):
            m.register_buffer("", lib.zeros(1))
        with pytest.raises(
            TypeError, match=r"cannot assign 'int' object to buffer 'x' \(torch Tensor or None required\)"
        ):
            m.register_buffer("x", 3)
        with pytest.raises(TypeError, match=r"object to parameter 'p' \(torch.nn.Parameter or None required\)"):
            m.register_parameter("p", lib.zeros(1))
        with pytest.raises(TypeError, match="int is not a Module subclass"):
            m.add_module("x", 3)
        with pytest.raises(ValueError, match="non-leaf"):
            m.register_parameter("q", _non_leaf_param(lib))

    class Early(ember.nn.Module):
        def __init__(self):
            self.w = ember.nn.Parameter(ember.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def _non_leaf_param(lib):
    p = lib.nn.Parameter(lib.ones(2))
    q = p * 2
    q.__class__ = lib.nn.Parameter
    return q


def test_register_module_get_submodule_get_parameter():
    em, tm = build(ember), build(torch)
    assert em.get_submodule("block.fc") is em.block.fc
    assert em.get_submodule("heads.1") is em.heads[1]
    assert em.get_parameter("block.fc.weight") is em.block.fc.weight
    assert em.get_buffer("bn.running_mean") is em.bn.running_mean
    for m in (em, tm):
        with pytest.raises(AttributeError, match="Block has no attribute `nope`"):
            m.get_submodule("block.nope")
        with pytest.raises(AttributeError, match="ReLU has no attribute `weight`"):
            m.get_parameter("block.act.weight")
    em.register_module("extra", ember.nn.Identity())
    assert em.extra is em._modules["extra"]


def test_train_eval_and_training_flag():
    em = build(ember)
    assert em.training and em.bn.training
    assert em.eval() is em
    assert not em.training and not em.block.act.training and not em.heads[0].training
    em.train()
    assert em.seq[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        em.train("yes")


def test_zero_grad_and_requires_grad():
    em = build(ember)
    em(ember.randn(4, 4)).sum().backward()
    assert all(p.grad is not None for p in em.parameters())
    em.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in em.parameters())
    em.zero_grad()
    assert all(p.grad is None for p in em.parameters())
    em.requires_grad_(False)
    assert not any(p.requires_grad for p in em.parameters())


def test_apply_visits_children_first():
    order = []
    em = build(ember)
    em.apply(lambda m: order.append(type(m).__name__))
    to = []
    build(torch).apply(lambda m: to.append(type(m).__name__))
    assert order == to


def test_dtype_moves():
    em = build(ember)
    assert em.double() is em
    assert em.fc.weight.dtype == ember.float64 and em.bn.running_mean.dtype == ember.float64
    assert em.bn.num_batches_tracked.dtype == ember.int64
    assert isinstance(em.fc.weight, ember.nn.Parameter)
    em.float()
    assert em.fc.weight.dtype == ember.float32
    em.to(ember.float64)
    assert em.block.scale.dtype == ember.float64
    em.half()
    assert em.fc.bias.dtype == ember.float16
    em.to("cpu").cpu().type(ember.float32)
    assert em.fc.weight.dtype == ember.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
        em.to(ember.int64)


def test_state_dict_contents():
    em, tm = build(ember), build(torch)
    sd = em.state_dict()
    assert isinstance(sd, OrderedDict)
    assert "block.cache" not in sd and "block.scale" in sd
    assert list(sd) == list(tm.state_dict())
    assert not sd["fc.weight"].requires_grad and not isinstance(sd["fc.weight"], ember.nn.Parameter)
    sd["fc.weight"][0, 0] = 5.0  # shares memory with the parameter, as in torch
    assert em.fc.weight[0, 0].item() == 5.0
    kv = em.state_dict(keep_vars=True)
    assert kv["fc.weight"] is em.fc.weight
    assert list(em.state_dict(prefix="model.")) == ["model." + k for k in tm.state_dict()]


def test_state_dict_round_trip_between_torch_and_ember():
    em, tm = build(ember), build(torch)
    res = em.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    tm2 = build(torch)
    tm2.load_state_dict({k: torch.tensor(v.numpy().copy()) for k, v in em.state_dict().items()})
    for (k, a), (_, b) in zip(tm.state_dict().items(), tm2.state_dict().items()):
        assert torch.equal(a, b), k


def test_load_state_dict_errors_match_torch():
    em, tm = build(ember), build(torch)

    def broken(lib, sd):
        sd = OrderedDict(sd)
        sd["fc.weight"] = lib.zeros(2, 4)
        sd["fc.bias"] = lib.zeros(5)
        del sd["block.fc.bias"]
        sd["foo"] = lib.zeros(1)
        sd["block.bar"] = lib.zeros(1)
        return sd

    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict(broken(torch, tm.state_dict()))
    with pytest.raises(RuntimeError) as ee:
        em.load_state_dict(broken(ember, em.state_dict()))
    assert str(ee.value) == str(te.value)
    assert str(ee.value).startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s)")
    assert (
        "size mismatch for fc.weight: copying a param with shape torch.Size([2, 4]) from checkpoint, the shape in current model is torch.Size([3, 4])."
        in str(ee.value)
    )

    sd_e, sd_t = OrderedDict(em.state_dict()), OrderedDict(tm.state_dict())
    for sd, lib in ((sd_e, ember), (sd_t, torch)):
        del sd["bn.bias"]
        sd["junk"] = lib.zeros(1)
    re_, rt = em.load_state_dict(sd_e, strict=False), tm.load_state_dict(sd_t, strict=False)
    assert re_.missing_keys == rt.missing_keys == ["bn.bias"]
    assert re_.unexpected_keys == rt.unexpected_keys == ["junk"]
    assert repr(re_) == repr(rt)


def test_load_state_dict_copies_values_in_place():
    em = ember.nn.Linear(2, 2)
    w = em.weight
    em.load_state_dict({"weight": ember.ones(2, 2), "bias": ember.zeros(2)})
    assert em.weight is w and em.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    em.load_state_dict({"weight": ember.full((2, 2), 3.0), "bias": ember.zeros(2)}, assign=True)
    assert em.weight is not w and isinstance(em.weight, ember.nn.Parameter) and em.weight.requires_grad


def test_forward_pre_and_forward_hooks():
    em = ember.nn.Linear(2, 2)
    calls = []
    h1 = em.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    h2 = em.register_forward_hook(lambda m, args, out: out * 0)
    h3 = em.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    out = em(ember.ones(1, 2))
    assert calls == [("pre", (1, 2))] and out.tolist() == [[0.0, 0.0]]
    h2.remove()
    h2.remove()
    out = em(ember.ones(1, 2))
    expected = ember.nn.functional.linear(ember.ones(1, 2) * 2, em.weight, em.bias)
    assert np.allclose(out.detach().numpy(), expected.detach().numpy())
    h1.remove()
    h3.remove()
    assert not em._forward_pre_hooks and not em._forward_hooks
    seen = []
    em.register_forward_hook(lambda m, a, kw, o: seen.append(sorted(kw)), with_kwargs=True)
    em.register_forward_pre_hook(lambda m, a: seen.append("first"), prepend=True)
    em.register_forward_pre_hook(lambda m, a, kw: None, with_kwargs=True)
    em(ember.ones(2))
    assert seen == ["first", []]


def test_full_backward_hook_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    results = {}
    for lib in (torch, ember):
        lin = lib.nn.Linear(4, 2)
        if lib is ember:
            lin.load_state_dict({k: ember.tensor(v.numpy()) for k, v in results["torch_sd"].items()})
        else:
            results["torch_sd"] = {k: v.detach().clone() for k, v in lin.state_dict().items()}
        got = []

        def hook(m, gin, gout, got=got):
            got.append(
                (
                    tuple(g if g is None else g.detach().numpy().copy() for g in gin),
                    tuple(g.detach().numpy().copy() for g in gout),
                )
            )

        pre = []
        h = lin.register_full_backward_hook(hook)
        lin.register_full_backward_pre_hook(lambda m, gout, pre=pre: pre.append(len(gout)))
        inp = lib.tensor(x, requires_grad=True)
        (lin(inp) * 3).sum().backward()
        results[lib.__name__] = (got, pre, inp.grad.numpy().copy())
        h.remove()
        (lin(inp) * 3).sum().backward()
        assert len(got) == 1
    (ge, pe, ie), (gt, pt, it) = results["ember"], results["torch"]
    assert pe == pt == [1, 1]
    assert len(ge) == len(gt) == 1
    np.testing.assert_allclose(ge[0][0][0], gt[0][0][0], atol=1e-6)
    np.testing.assert_allclose(ge[0][1][0], gt[0][1][0], atol=1e-6)
    np.testing.assert_allclose(ie, it, atol=1e-6)


def test_full_backward_hook_can_replace_grad_input():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0,))
        x = lib.ones(1, 2, requires_grad=True)
        lin(x).sum().backward()
        assert float(x.grad.abs().sum()) == 0.0


def test_backward_hook_without_input_grad():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        got = []
        lin.register_full_backward_hook(lambda m, gin, gout, got=got: got.append(gin))
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            lin(lib.ones(1, 2)).sum().backward()
        assert got == [(None,)]


def test_call_runs_forward_and_missing_forward_raises():
    class NoForward(ember.nn.Module):
        pass

    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        NoForward()(ember.ones(1))


def test_equality_and_hash_by_identity():
    a, b = ember.nn.Linear(2, 2), ember.nn.Linear(2, 2)
    assert a == a and a != b
    assert len({a, b, a}) == 2


def test_repr_matches_torch():
    assert str(build(ember)) == str(build(torch))

    def empty(lib):
        class Empty(lib.nn.Module):
            pass

        return Empty()

    assert repr(empty(ember)) == repr(empty(torch)) == "Empty()"


def test_extra_repr_custom():
    def make(lib):
        class Scaled(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)

            def extra_repr(self):
                return "factor=2"

        return Scaled()

    assert repr(make(ember)) == repr(make(torch))


def test_deepcopy_and_pickle():
    em = build(ember)
    em2 = copy.deepcopy(em)
    assert em2.fc.weight is not em.fc.weight and isinstance(em2.fc.weight, ember.nn.Parameter)
    assert np.array_equal(em2.fc.weight.detach().numpy(), em.fc.weight.detach().numpy())
    em3 = pickle.loads(pickle.dumps(ember.nn.Sequential(ember.nn.Linear(2, 2))))
    assert isinstance(em3[0].weight, ember.nn.Parameter) and em3[0].weight.requires_grad


def test_parameter_basics():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    t = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(t)
    assert p.requires_grad and p.is_leaf and isinstance(p, ember.Tensor)
    q = ember.nn.Parameter(ember.ones(2), requires_grad=False)
    assert not q.requires_grad
    assert not isinstance(p.detach(), ember.nn.Parameter)
    assert not isinstance(p * 2, ember.nn.Parameter)
    base = ember.ones(3)
    shared = ember.nn.Parameter(base)
    base[0] = 7.0
    assert shared[0].item() == 7.0
    empty = ember.nn.Parameter()
    assert tuple(empty.shape) == (0,)


TO_CALLS = [
    ("dtype", lambda lib, o: o.to(lib.float64)),
    ("python float", lambda lib, o: o.to(float)),
    ("device and dtype", lambda lib, o: o.to("cpu", lib.float64)),
    ("device, dtype, non_blocking", lambda lib, o: o.to("cpu", lib.float64, True)),
    ("keywords", lambda lib, o: o.to(device="cpu", dtype=lib.float64, non_blocking=False)),
    ("a tensor's dtype", lambda lib, o: o.to(lib.ones(1, dtype=lib.float64))),
    ("None", lambda lib, o: o.to(None)),
    ("copy", lambda lib, o: o.to(lib.float64, copy=True)),
    ("copy positionally", lambda lib, o: o.to("cpu", lib.float64, False, True)),
    ("two devices", lambda lib, o: o.to("cpu", "cpu")),
    ("a flag where the dtype goes", lambda lib, o: o.to("cpu", False)),
    ("two dtypes", lambda lib, o: o.to(lib.float64, lib.float32)),
    ("unknown keyword", lambda lib, o: o.to(bogus=1)),
    ("integer dtype", lambda lib, o: o.to(lib.int32)),
]


@pytest.mark.parametrize("name,call", TO_CALLS, ids=[n for n, _ in TO_CALLS])
def test_tensor_to_and_module_to_read_their_arguments_as_torch(name, call):
    """Tensor.to and Module.to share one argument parser; both answer as torch does, result or error type."""

    def outcome(lib, make):
        try:
            out = call(lib, make(lib))
        except Exception as e:  # noqa: BLE001 - the exception type is what is compared
            return type(e).__name__
        return str(out.dtype if isinstance(out, lib.Tensor) else out.weight.dtype)

    for make in (lambda lib: lib.ones(2), lambda lib: lib.nn.Linear(2, 2)):
        assert outcome(ember, make) == outcome(torch, make), name

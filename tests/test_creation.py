"""Creation functions against torch: dtype inference, memory sharing, bit-exact ranges, random factories."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember


def same(e, t, exact=True):
    assert str(e.dtype) == str(t.dtype), f"{e.dtype} vs {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape)
    if exact:
        np.testing.assert_array_equal(e._data, t.numpy())


DATA = [
    1,
    2.5,
    True,
    [1, 2],
    [1.0, 2],
    [True, False],
    [True, 1],
    [True, 1.5],
    [],
    [[]],
    [[], []],
    [[1, 2], [3, 4]],
    (1, 2),
    np.float64(2.0),
    np.int32(3),
    [np.float64(1.0), 2.0],
    [np.int32(1), 2],
    [np.float32(1.0), 2],
    np.arange(4, dtype=np.int16),
    np.ones((2, 2), np.float64),
    [np.arange(2, dtype=np.int32)] * 2,
]


@pytest.mark.parametrize("i", range(len(DATA)))
def test_tensor_dtype_inference(i):
    same(ember.tensor(DATA[i]), torch.tensor(DATA[i]))


def test_tensor_from_zero_dim_tensors_and_dtype_arg():
    same(ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]), torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))
    same(ember.tensor([ember.tensor(1, dtype=ember.int32), 2]), torch.tensor([torch.tensor(1, dtype=torch.int32), 2]))
    same(ember.tensor([[1.7, -1.7]], dtype=ember.int64), torch.tensor([[1.7, -1.7]], dtype=torch.int64))
    same(ember.tensor([1, 0], dtype=ember.bool), torch.tensor([1, 0], dtype=torch.bool))


@pytest.mark.parametrize("bad", [[[1, 2], [3]], [[[1, 2], [3, 4]], [[1, 2], [3]]], "abc", None, [1, "a"], [1, None]])
def test_tensor_bad_data_raises_like_torch(bad):
    with pytest.raises(Exception) as t_exc:
        torch.tensor(bad)
    with pytest.raises(type(t_exc.value)) as e_exc:
        ember.tensor(bad)
    assert str(e_exc.value) == str(t_exc.value)


def test_memory_sharing():
    a = np.arange(3.0)
    t = ember.from_numpy(a)
    t[0] = 5
    a[1] = 7
    assert a[0] == 5 and t._data[1] == 7  # written through either, seen through the other
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    b = ember.as_tensor(a)
    assert np.shares_memory(b._data, a)
    c = ember.as_tensor(a, dtype=ember.float32)
    assert not np.shares_memory(c._data, a)
    x = ember.tensor([1.0, 2.0])
    assert ember.as_tensor(x) is x
    assert not np.shares_memory(ember.tensor(a)._data, a)
    n = x.numpy()
    n[0] = 9
    assert x[0].item() == 9
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        ember.from_numpy([1, 2])
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        ember.ones(2, requires_grad=True).numpy()


def test_legacy_constructors():
    assert tuple(ember.Tensor(2, 3).shape) == (2, 3)
    same(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
    same(ember.Tensor((2, 3)), torch.Tensor((2, 3)))
    assert tuple(ember.Tensor(ember.Size([2, 3])).shape) == (2, 3)
    same(ember.Tensor(), torch.Tensor())
    same(ember.LongTensor([1, 2]), torch.LongTensor([1, 2]))
    same(ember.LongTensor([1.7, 2]), torch.LongTensor([1.7, 2]))
    same(ember.FloatTensor(np.array([1, 2])), torch.FloatTensor(np.array([1, 2])))
    same(ember.BoolTensor([1, 0]), torch.BoolTensor([1, 0]))
    same(ember.ByteTensor([1, 0]), torch.ByteTensor([1, 0]))
    assert tuple(ember.LongTensor(3).shape) == (3,) and ember.LongTensor(3).dtype is ember.int64
    assert isinstance(ember.tensor([1.0]), ember.FloatTensor)
    assert not isinstance(ember.tensor([1]), ember.FloatTensor)
    assert isinstance(ember.tensor([1]), ember.LongTensor)
    assert type(ember.LongTensor([1])) is ember.Tensor


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_filled_factories(fn):
    for args, kw in [((2, 3), {}), (((2, 3),), {}), ((ember.Size([4]),), {}), ((3,), {"dtype": "int64"})]:
        e = getattr(ember, fn)(*args, **{k: getattr(ember, v) for k, v in kw.items()})
        t = getattr(torch, fn)(
            *(torch.Size(a) if isinstance(a, ember.Size) else a for a in args),
            **{k: getattr(torch, v) for k, v in kw.items()},
        )
        same(e, t, exact=fn != "empty")
        same(getattr(ember, fn + "_like")(e), getattr(torch, fn + "_like")(t), exact=fn != "empty")
    with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension -1"):
        ember.zeros(-1)


def test_full_eye():
    for v in (2, 2.5, True):
        same(ember.full((2, 2), v), torch.full((2, 2), v))
        same(ember.full_like(ember.zeros(3), v), torch.full_like(torch.zeros(3), v))
    same(ember.eye(3), torch.eye(3))
    same(ember.eye(2, 4, dtype=ember.int64), torch.eye(2, 4, dtype=torch.int64))


@pytest.mark.parametrize(
    "args",
    [
        (10,),
        (0, 1, 0.1),
        (-1, 1, 0.25),
        (5, 0, -1),
        (0.5, 3.7, 0.3),
        (10, 0, -0.7),
        (1, 2.5),
        (0, 5, 2),
        (-3.3, 7.1, 0.01),
        (0, 100, 0.1),
        (0.0, 1.0),
        (-7, 7, 3),
    ],
)
def test_arange_bit_exact(args):
    same(ember.arange(*args), torch.arange(*args))
    same(ember.arange(*args, dtype=ember.float64), torch.arange(*args, dtype=torch.float64))


@pytest.mark.parametrize(
    "args",
    [
        (-10, 10, 1000),
        (0, 1, 5),
        (0, 1, 100),
        (-1, 1, 7),
        (3.3, -2.1, 50),
        (0, 1, 1),
        (0, 1, 0),
        (1e-3, 1e3, 333),
        (0, 10, 11),
        (0, 7, 4),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace_bit_exact(args, dtype):
    same(ember.linspace(*args, dtype=getattr(ember, dtype)), torch.linspace(*args, dtype=getattr(torch, dtype)))


def test_linspace_sum_digits():
    assert repr(ember.linspace(-10, 10, 1000).sum().item()) == repr(torch.linspace(-10, 10, 1000).sum().item())
    np.testing.assert_array_equal(
        (ember.linspace(-10, 10, 1000) ** 2)._data, (torch.linspace(-10, 10, 1000) ** 2).numpy()
    )


@settings(max_examples=25, deadline=None)
@given(s=st.floats(-100, 100), e=st.floats(-100, 100), n=st.integers(2, 3000))
def test_hypothesis_linspace(s, e, n):
    same(ember.linspace(s, e, n), torch.linspace(s, e, n))


def test_random_factories():
    ember.manual_seed(3)
    a = ember.rand(2, 3)
    ember.manual_seed(3)
    assert np.array_equal(a._data, ember.rand(2, 3)._data)
    assert a.dtype is ember.float32 and 0 <= a._data.min() and a._data.max() < 1
    assert ember.randn(4, dtype=ember.float64).dtype is ember.float64
    r = ember.randint(3, 7, (1000,))
    assert r.dtype is ember.int64 and r._data.min() >= 3 and r._data.max() <= 6
    assert tuple(ember.randint(5, (2, 2)).shape) == (2, 2)
    assert tuple(ember.normal(2.0, 3.0, size=(5,)).shape) == (5,)
    assert tuple(ember.normal(ember.zeros(3), 1.0).shape) == (3,)
    for fn in ("rand_like", "randn_like"):
        assert getattr(ember, fn)(ember.zeros(2, dtype=ember.float64)).dtype is ember.float64
    assert ember.randint_like(ember.zeros(3), 5).dtype is ember.float32
    g = ember.Generator().manual_seed(1)
    x1 = ember.rand(3, generator=g)
    g.manual_seed(1)
    assert np.array_equal(x1._data, ember.rand(3, generator=g)._data)
    state = ember.get_rng_state()
    y1 = ember.randn(3)
    ember.set_rng_state(state)
    assert np.array_equal(y1._data, ember.randn(3)._data)


def test_rng_state_is_data_not_code(tmp_path):
    """A saved RNG state survives ember.save/load, and a forged state cannot run code when restored."""
    import pickle

    ember.manual_seed(5)
    path = tmp_path / "rng.pt"
    ember.save({"rng": ember.get_rng_state()}, path)
    expected = ember.randn(4)
    ember.set_rng_state(ember.load(path)["rng"])
    assert np.array_equal(expected._data, ember.randn(4)._data)

    marker = tmp_path / "ran"
    forged = pickle.dumps((1, {"x": 1})).replace(b"x", b"y")  # any pickle: must be rejected, never unpickled
    hostile = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR." + forged
    for raw in (hostile, b"not a state", b"{}"):
        with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 5056"):
            ember.set_rng_state(ember.from_numpy(np.frombuffer(raw, dtype=np.uint8).copy()))
    # the right length but not a twister's state (the words of a pickle) is refused too
    padded = (hostile * 100)[:5056]
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        ember.set_rng_state(ember.from_numpy(np.frombuffer(padded, dtype=np.uint8).copy()))
    assert not marker.exists()
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ember.set_rng_state(ember.zeros(3))


def test_cuda_is_unavailable():
    assert ember.cuda.is_available() is False and ember.cuda.device_count() == 0
    ember.cuda.manual_seed(0)
    ember.cuda.manual_seed_all(0)
    with pytest.raises(RuntimeError, match="cuda"):
        ember.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda' is not available"):
        ember.zeros(2).cuda()
    assert ember.zeros(2, device="cpu").device == ember.device("cpu")


@pytest.mark.parametrize("shape", [(2, 3), (1,), ()])
@pytest.mark.parametrize(
    "value,dtype",
    [
        (-1, "uint8"),  # wraps: a negative int whose magnitude fits an unsigned dtype
        (-255, "uint8"),
        (-256, "uint8"),
        (300, "uint8"),
        (-1.5, "uint8"),
        (256.7, "uint8"),
        (-129, "int8"),
        (2**15, "int16"),
        (2**31, "int32"),
        (2**63, "int64"),
        (-(2**63), "int64"),
        (2**70, "int64"),
        (1.5, "int64"),
        (float("nan"), "int64"),
        (float("inf"), "int32"),
        (True, "uint8"),
        (2, "bool"),
        (1e39, "float32"),
        (3.4028235e38, "float32"),
        (float("inf"), "float32"),
        (1e6, "float16"),  # refused only when more than one element is filled, as torch does
        (65505.0, "float16"),
    ],
)
def test_full_values_that_overflow_the_dtype_are_refused_as_torch_refuses_them(shape, value, dtype):
    import torch

    results = []
    for lib in (torch, ember):
        try:
            results.append(("ok", lib.full(shape, value, dtype=getattr(lib, dtype)).tolist()))
        except (RuntimeError, OverflowError) as e:
            results.append((type(e).__name__, str(e)))
        try:
            like = lib.full_like(lib.zeros(shape, dtype=getattr(lib, dtype)), value).tolist()
            results[-1] += (like,)
        except (RuntimeError, OverflowError) as e:
            results[-1] += (type(e).__name__,)
    assert results[1] == results[0]

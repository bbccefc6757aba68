"""Properties of indexing, with torch as the oracle: random combinations of integers, slices with steps, None,
Ellipsis, bool masks and integer index lists/tensors on random shapes (drawn by hypothesis with the derandomized
profile in conftest.py). Reading, assigning through the same index and the gradients of both equal torch's."""

import numpy as np
import torch
from helpers import to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

KINDS = ["int", "slice", "none", "ellipsis", "mask", "ints", "ints_list"]


@st.composite
def index_cases(draw):
    """(shape, spec, seed): a shape and an index spec, a list of components, each naming the dims it indexes.
    Components after an Ellipsis index the last dims; the Ellipsis takes what is left."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    kinds, used, ellipsis = [], 0, False
    for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4)):
        width = {"none": 0, "ellipsis": 0, "mask": draw(st.integers(1, 2))}.get(kind, 1)
        if (kind == "ellipsis" and ellipsis) or used + width > ndim:
            continue
        ellipsis |= kind == "ellipsis"
        kinds.append((kind, width))
        used += width
    if not kinds:
        kinds = [("none", 0)]
    # The dims each component indexes.
    spec, dim = [], 0
    tail = sum(w for k, w in kinds[[k for k, _ in kinds].index("ellipsis") :]) if ellipsis else 0
    for kind, width in kinds:
        if kind == "ellipsis":
            dim = ndim - tail
        spec.append((kind, tuple(shape[dim : dim + width])))
        dim += width
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    index_shape = draw(st.sampled_from([(2,), (3,), (1,), (0,), (2, 2), (1, 3)]))
    values = []
    for kind, sizes in spec:
        if kind == "int" and sizes[0] == 0:
            kind = "slice"
        if kind == "int":
            values.append(("int", draw(st.integers(-sizes[0], sizes[0] - 1))))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-sizes[0] - 2, sizes[0] + 2))
            values.append(("slice", slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3])))))
        elif kind in ("ints", "ints_list"):
            n = sizes[0]
            arr = rng.integers(-n, n, size=index_shape) if n else np.zeros(index_shape, np.int64)[..., :0]
            values.append((kind, arr.astype(np.int64)))
        elif kind == "mask":
            values.append(("mask", rng.random(sizes) < 0.5))
        else:
            values.append((kind, None))
    return shape, values, draw(st.integers(0, 2**16))


def build(lib, values):
    """The index for lib from a spec."""
    out = []
    for kind, v in values:
        if kind in ("int", "slice"):
            out.append(v)
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "ints":
            out.append(lib.tensor(v))
        elif kind == "ints_list":
            out.append(v.tolist())
        else:
            out.append(lib.tensor(v))
    return tuple(out)


def attempt(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return exc


def same(e, t, context):
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f"{context}: torch raised {type(t).__name__}: {t}; ember returned {e}"
        assert type(e) is type(t), f"{context}: ember raised {type(e).__name__}: {e}; torch {type(t).__name__}: {t}"
        return False
    assert not isinstance(e, Exception), f"{context}: ember raised {type(e).__name__}: {e}; torch returned {t}"
    assert tuple(e.shape) == tuple(t.shape), f"{context}: shape {tuple(e.shape)} vs torch {tuple(t.shape)}"
    assert str(e.dtype) == str(t.dtype), f"{context}: dtype {e.dtype} vs torch {t.dtype}"
    np.testing.assert_array_equal(to_np(e), to_np(t), err_msg=context)
    return True


def pair(arr, requires_grad=False):
    return (
        ember.tensor(arr.copy(), requires_grad=requires_grad),
        torch.tensor(arr.copy(), requires_grad=requires_grad),
    )


def describe(shape, values):
    return f"x{list(shape)}[{', '.join(f'{k}:{v.tolist() if isinstance(v, np.ndarray) else v}' for k, v in values)}]"


@settings(max_examples=150)
@given(case=index_cases(), dtype=st.sampled_from(["float64", "int32", "bool"]))
def test_getitem_and_its_gradient_match_torch(case, dtype):
    shape, values, seed = case
    context = describe(shape, values)
    rng = np.random.default_rng(seed)
    arr = (rng.standard_normal(shape) * 4).astype(dtype)
    grad = dtype == "float64"
    xe, xt = pair(arr, grad)
    e = attempt(lambda: xe[build(ember, values)])
    t = attempt(lambda: xt[build(torch, values)])
    if not same(e, t, context) or not grad:
        return
    w = rng.standard_normal(tuple(t.shape))
    (gt,) = torch.autograd.grad(t, xt, grad_outputs=torch.tensor(w))
    (ge,) = ember.autograd.grad(e, xe, grad_outputs=ember.tensor(w))
    np.testing.assert_allclose(to_np(ge), to_np(gt), rtol=1e-12, atol=1e-12, err_msg=f"gradient of {context}")


@settings(max_examples=150)
@given(case=index_cases(), value_kind=st.sampled_from(["scalar", "0d", "full", "broadcast"]))
def test_setitem_and_its_gradients_match_torch(case, value_kind):
    """x[idx] = v with v a Python number, a 0-d tensor or a tensor broadcast to the indexed shape; on a non-leaf,
    the gradients of the old values and of v are torch's. Where positions repeat, torch's result for differing
    values is unspecified, so v is then one value."""
    shape, values, seed = case
    context = describe(shape, values) + f" = {value_kind}"
    rng = np.random.default_rng(seed)
    arr = rng.standard_normal(shape)
    positions = attempt(lambda: torch.arange(int(np.prod(shape))).reshape(shape)[build(torch, values)])
    if isinstance(positions, Exception):
        xe, xt = pair(arr)
        e = attempt(lambda: xe.__setitem__(build(ember, values), 1.0))
        t = attempt(lambda: xt.__setitem__(build(torch, values), 1.0))
        same(e, t, context)
        return
    target = tuple(positions.shape)
    repeated = positions.unique().numel() < positions.numel()
    if repeated and value_kind in ("full", "broadcast"):
        value_kind = "0d"
    if value_kind == "scalar":
        v = 2.5
    elif value_kind == "0d":
        v = rng.standard_normal(())
    else:
        vshape = target if value_kind == "full" else tuple(1 if rng.random() < 0.5 else s for s in target[1:])
        v = rng.standard_normal(vshape)
    xe, xt = pair(arr, True)
    ve, vt = (v, v) if value_kind == "scalar" else pair(np.asarray(v), True)
    ye, yt = xe * 1, xt * 1
    ye[build(ember, values)] = ve
    yt[build(torch, values)] = vt
    same(ye.detach(), yt.detach(), context)
    w = rng.standard_normal(shape)
    leaves_t = [xt] + ([vt] if isinstance(vt, torch.Tensor) else [])
    leaves_e = [xe] + ([ve] if isinstance(ve, ember.Tensor) else [])
    grads_t = torch.autograd.grad(yt, leaves_t, grad_outputs=torch.tensor(w))
    grads_e = ember.autograd.grad(ye, leaves_e, grad_outputs=ember.tensor(w))
    for i, (ge, gt) in enumerate(zip(grads_e, grads_t)):
        assert tuple(ge.shape) == tuple(gt.shape), f"{context}: gradient {i} shape"
        np.testing.assert_allclose(to_np(ge), to_np(gt), rtol=1e-12, atol=1e-12, err_msg=f"{context}: gradient {i}")


@settings(max_examples=60)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),  # torch checks nothing for empty results
    dim=st.integers(0, 2),
    beyond=st.integers(0, 3),
    negative=st.booleans(),
    form=st.sampled_from(["int", "tensor", "list", "int_then_tensor"]),
    assign=st.booleans(),
)
def test_out_of_range_indices_raise_index_error_in_both(shape, dim, beyond, negative, form, assign):
    dim = min(dim, len(shape) - 1)
    bad = -shape[dim] - 1 - beyond if negative else shape[dim] + beyond
    lead = (slice(None),) * dim

    def index(lib):
        if form == "int":
            return lead + (bad,)
        if form == "tensor":
            return lead + (lib.tensor([0, bad]),)
        if form == "list":
            return lead + ([bad],)
        return (0,) + (slice(None),) * (dim - 1) + (lib.tensor([bad]),) if dim else (lib.tensor([bad]),)

    arr = np.zeros(shape)
    xe, xt = pair(arr)
    for x, lib in ((xe, ember), (xt, torch)):
        try:
            if assign:
                x[index(lib)] = 1.0
            else:
                x[index(lib)]
        except IndexError:
            continue
        raise AssertionError(f"{lib.__name__}: x{list(shape)}[{index(lib)}] raised no IndexError")


@settings(max_examples=40)
@given(
    n=st.integers(1, 5),
    picks=st.lists(st.integers(-5, 4), min_size=0, max_size=8),
    cols=st.booleans(),
)
def test_repeated_integer_indices_accumulate_their_gradients(n, picks, cols):
    picks = [p % n - (n if p < 0 else 0) for p in picks]
    arr = np.random.default_rng(n).standard_normal((n, 3) if not cols else (3, n))
    xe, xt = pair(arr, True)
    outs = []
    for x, lib in ((xe, ember), (xt, torch)):
        idx = lib.tensor(picks, dtype=lib.int64)
        y = x[:, idx] if cols else x[idx]
        (g,) = lib.autograd.grad((y * lib.arange(1.0, y.numel() + 1, dtype=lib.float64).reshape(y.shape)).sum(), x)
        outs.append(g)
    np.testing.assert_allclose(to_np(outs[0]), to_np(outs[1]), rtol=1e-12, atol=1e-12)

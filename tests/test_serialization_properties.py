"""Properties of the serializer, with torch as the oracle: random nested containers of tensors (every dtype, 0-d,
0-sized, non-contiguous views, several views of one base) saved by ember load back equal in ember and in torch,
files torch writes load equal in ember, and views of one storage stay views of one storage (hypothesis, with the
derandomized profile in conftest.py)."""

import io
from collections import OrderedDict

import numpy as np
import torch
from helpers import to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
VIEWS = ["whole", "slice", "step", "transpose", "select", "empty", "narrow_end"]


def _array(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype[0] == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def _view(lib, base, how):
    """A view of base (at least 1-d), the same for both libraries."""
    if how == "whole" or base.dim() == 0:
        return base
    if how == "slice":
        return base[1:]
    if how == "step":
        return base[::2]
    if how == "transpose":
        return base.t() if base.dim() == 2 else base.unsqueeze(0)
    if how == "select":
        return base[0] if base.shape[0] else base[:0]
    if how == "empty":
        return base[base.shape[0] :]
    return base.narrow(0, base.shape[0] // 2, base.shape[0] - base.shape[0] // 2)


@st.composite
def trees(draw):
    """A recipe: a few bases (dtype, shape, seed) and a nested container whose leaves are (base, view) pairs."""
    n_bases = draw(st.integers(1, 3))
    bases = [
        (
            draw(st.sampled_from(DTYPES)),
            tuple(draw(st.lists(st.integers(0, 4), max_size=3))),
            draw(st.integers(0, 2**16)),
        )
        for _ in range(n_bases)
    ]
    leaf = st.tuples(st.integers(0, n_bases - 1), st.sampled_from(VIEWS)).map(lambda x: ("leaf", x))
    keys = st.sampled_from(["a", "b", "w", "bias", "x.y"])

    def extend(children):
        return st.one_of(
            st.lists(children, max_size=3).map(lambda xs: ("list", xs)),
            st.lists(children, max_size=3).map(lambda xs: ("tuple", xs)),
            st.dictionaries(keys, children, max_size=3).map(lambda d: ("dict", d)),
            st.dictionaries(keys, children, max_size=3).map(lambda d: ("odict", d)),
        )

    tree = draw(st.recursive(leaf, extend, max_leaves=6))
    return bases, tree


def realize(lib, recipe):
    """(the object, [(leaf, base index)]): the recipe's container holding lib's tensors."""
    bases_spec, tree = recipe
    bases = [lib.tensor(_array(np.random.default_rng(seed), d, shape)) for d, shape, seed in bases_spec]
    leaves = []

    def build(node):
        kind, body = node
        if kind == "leaf":
            b, how = body
            t = _view(lib, bases[b], how)
            leaves.append((t, b))
            return t
        if kind in ("list", "tuple"):
            items = [build(c) for c in body]
            return items if kind == "list" else tuple(items)
        items = [(k, build(c)) for k, c in body.items()]
        return dict(items) if kind == "dict" else OrderedDict(items)

    return build(tree), leaves


def assert_equal_trees(got, want, where="obj"):
    """got (either library's) equals want (either library's): containers of the same types, tensors of the same
    dtype, shape, strides and values."""
    if isinstance(want, (ember.Tensor, torch.Tensor)):
        assert isinstance(got, (ember.Tensor, torch.Tensor)), f"{where}: {type(got).__name__}"
        assert tuple(got.shape) == tuple(want.shape), f"{where}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
        assert str(got.dtype) == str(want.dtype), f"{where}: dtype {got.dtype} vs {want.dtype}"
        if want.numel():  # an empty tensor's strides, and a size-1 dim's, depend on how it was made
            strides = [(g, w) for g, w, n in zip(got.stride(), want.stride(), want.shape) if n > 1]
            assert all(g == w for g, w in strides), f"{where}: stride {got.stride()} vs {want.stride()}"
        a, b = to_np(got), to_np(want)
        assert a.tobytes() == b.tobytes(), f"{where}: values {a} vs {b}"
        return
    assert type(got).__name__ == type(want).__name__, f"{where}: {type(got).__name__} vs {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} vs {list(want)}"
        for k in want:
            assert_equal_trees(got[k], want[k], f"{where}[{k!r}]")
    else:
        assert len(got) == len(want), f"{where}: {len(got)} items vs {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_equal_trees(g, w, f"{where}[{i}]")


def leaves_of(obj):
    if isinstance(obj, (ember.Tensor, torch.Tensor)):
        return [obj]
    items = obj.values() if isinstance(obj, dict) else obj
    return [leaf for item in items for leaf in leaves_of(item)]


def storage_key(t):
    if isinstance(t, torch.Tensor):
        return t.untyped_storage().data_ptr()
    root = t._data
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root.__array_interface__["data"][0]


def assert_aliasing(loaded, leaves, where):
    """Leaves made from one base share one storage after loading, and leaves from different bases do not (a
    0-sized leaf may have no storage to share, and is skipped)."""
    got = leaves_of(loaded)
    assert len(got) == len(leaves)
    for i, (gi, (_, bi)) in enumerate(zip(got, leaves)):
        for j, (gj, (_, bj)) in enumerate(zip(got, leaves)):
            if j <= i or gi.numel() == 0 or gj.numel() == 0:
                continue
            shared = storage_key(gi) == storage_key(gj)
            assert shared == (bi == bj), f"{where}: leaves {i} and {j} share storage: {shared}, bases {bi}, {bj}"


def _save(lib, obj):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return buf


@settings(max_examples=40)
@given(recipe=trees())
def test_ember_files_load_equal_in_ember_and_torch(recipe):
    obj_e, leaves = realize(ember, recipe)
    obj_t, _ = realize(torch, recipe)
    assert_equal_trees(obj_e, obj_t, "made")  # the recipe makes the same thing in both
    data = _save(ember, obj_e).getvalue()
    back_e = ember.load(io.BytesIO(data), weights_only=True)
    back_t = torch.load(io.BytesIO(data), weights_only=True)
    assert_equal_trees(back_e, obj_t, "ember.load")
    assert_equal_trees(back_t, obj_t, "torch.load")
    assert_aliasing(back_e, leaves, "ember.load")
    assert_aliasing(back_t, leaves, "torch.load")


@settings(max_examples=40)
@given(recipe=trees())
def test_torch_files_load_equal_in_ember(recipe):
    obj_t, leaves = realize(torch, recipe)
    back_e = ember.load(_save(torch, obj_t), weights_only=True)
    assert_equal_trees(back_e, obj_t, "ember.load")
    assert_aliasing(back_e, leaves, "ember.load")
    # Views stay views: writing through one loaded base shows in every leaf made from it.
    for t in leaves_of(back_e):
        if t.numel() and t.dtype != ember.bool:
            t.fill_(7)
    reloaded_ok = [bool((to_np(t) == 7).all()) for t in leaves_of(back_e) if t.numel() and t.dtype != ember.bool]
    assert all(reloaded_ok)

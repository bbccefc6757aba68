"""ChainDataset, Sampler subclasses, default_collate and default_convert, checked against torch.utils.data."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from helpers import gradcheck

import ember
import ember.utils.data as eud

Pair = collections.namedtuple("Pair", "image label")
Triple = collections.namedtuple("Triple", "a b c")


def assert_same(e, t, path="batch"):
    """Recursively compare an ember result with torch's: container types, tensor dtypes, shapes and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: {type(e)} is not a tensor"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        assert str(e.dtype) == str(t.dtype), f"{path}: dtype {e.dtype} != {t.dtype}"
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=path)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype, path
        np.testing.assert_array_equal(e, t, err_msg=path)
    elif isinstance(t, dict):
        assert type(e) is type(t), f"{path}: {type(e)} != {type(t)}"
        assert list(e.keys()) == list(t.keys()), path
        for k in t:
            assert_same(e[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t), f"{path}: {type(e)} != {type(t)}"
        assert len(e) == len(t), path
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert type(e) is type(t) and e == t, f"{path}: {e!r} != {t!r}"


def make_datasets(mod):
    """A stream dataset and a map-style dataset built on the given library's base classes."""

    class Stream(mod.IterableDataset):
        def __init__(self, start, stop):
            self.start, self.stop = start, stop

        def __iter__(self):
            return iter(range(self.start, self.stop))

        def __len__(self):
            return self.stop - self.start

    class Table(mod.Dataset):
        def __getitem__(self, i):
            return i * 10

        def __len__(self):
            return 4

    return Stream, Table


# ---------------------------------------------------------------------------------------------- ChainDataset


@pytest.mark.parametrize("bounds", [[(0, 3)], [(0, 3), (10, 12)], [(5, 5), (1, 4), (7, 7), (20, 26)]])
def test_chain_dataset_iterates_in_order_like_torch(bounds):
    e_stream, _ = make_datasets(eud)
    t_stream, _ = make_datasets(tud)
    e = eud.ChainDataset([e_stream(a, b) for a, b in bounds])
    t = tud.ChainDataset([t_stream(a, b) for a, b in bounds])
    assert list(e) == list(t)
    assert len(e) == len(t) == sum(b - a for a, b in bounds)
    # a second pass over a list of datasets yields the same items again
    assert list(e) == list(t)
    assert isinstance(e, eud.IterableDataset)


def test_chain_dataset_from_add_and_nesting():
    e_stream, _ = make_datasets(eud)
    t_stream, _ = make_datasets(tud)
    e = e_stream(0, 2) + e_stream(5, 7)
    t = t_stream(0, 2) + t_stream(5, 7)
    assert type(e) is eud.ChainDataset and type(t) is tud.ChainDataset
    assert list(e) == list(t) == [0, 1, 5, 6]
    nested_e = eud.ChainDataset([e, eud.ChainDataset([e_stream(9, 11)])])
    nested_t = tud.ChainDataset([t, tud.ChainDataset([t_stream(9, 11)])])
    assert list(nested_e) == list(nested_t) and len(nested_e) == len(nested_t) == 6
    assert list(eud.ChainDataset([])) == list(tud.ChainDataset([])) == []
    assert len(eud.ChainDataset([])) == len(tud.ChainDataset([])) == 0


def test_chain_dataset_with_map_style_member_errors_like_torch():
    e_stream, e_table = make_datasets(eud)
    t_stream, t_table = make_datasets(tud)
    # construction is lazy in both: the check happens when the map-style member is reached
    e = eud.ChainDataset([e_stream(0, 2), e_table()])
    t = tud.ChainDataset([t_stream(0, 2), t_table()])
    e_it, t_it = iter(e), iter(t)
    assert [next(e_it), next(e_it)] == [next(t_it), next(t_it)] == [0, 1]
    with pytest.raises(AssertionError) as t_info:
        next(t_it)
    with pytest.raises(AssertionError) as e_info:
        next(e_it)
    assert str(e_info.value) == str(t_info.value)
    with pytest.raises(AssertionError) as t_len:
        len(t)
    with pytest.raises(AssertionError) as e_len:
        len(e)
    assert str(e_len.value) == str(t_len.value)


def test_chain_dataset_member_without_len():
    class E(eud.IterableDataset):
        def __iter__(self):
            return iter([1, 2])

    class T(tud.IterableDataset):
        def __iter__(self):
            return iter([1, 2])

    e, t = eud.ChainDataset([E(), E()]), tud.ChainDataset([T(), T()])
    assert list(iter(e)) == list(iter(t)) == [1, 2, 1, 2]
    with pytest.raises(TypeError, match=r"has no len\(\)"):
        len(t)
    with pytest.raises(TypeError, match=r"has no len\(\)"):
        len(e)


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, False), (20, False)])
def test_chain_dataset_in_dataloader_matches_torch(batch_size, drop_last):
    rng = np.random.default_rng(7)
    parts = [rng.standard_normal((n, 2)).astype(np.float32) for n in (4, 3, 5)]

    def stream(mod, lib):
        class Rows(mod.IterableDataset):
            def __init__(self, arr):
                self.arr = arr

            def __iter__(self):
                for i, row in enumerate(self.arr):
                    yield lib.tensor(row), i

        return Rows

    e = eud.ChainDataset([stream(eud, ember)(p) for p in parts])
    t = tud.ChainDataset([stream(tud, torch)(p) for p in parts])
    e_batches = list(eud.DataLoader(e, batch_size=batch_size, drop_last=drop_last))
    t_batches = list(tud.DataLoader(t, batch_size=batch_size, drop_last=drop_last))
    assert len(e_batches) == len(t_batches)
    for eb, tb in zip(e_batches, t_batches):
        assert_same(eb, tb)


# ---------------------------------------------------------------------------------------------- Sampler


def sampler_classes(mod):
    class Reverse(mod.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    class EvensThenOdds(mod.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            yield from range(0, self.n, 2)
            yield from range(1, self.n, 2)

        def __len__(self):
            return self.n

    class Repeat(mod.Sampler):
        """Each index twice; a sampler may visit indices more than once."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            for i in range(self.n):
                yield i
                yield i

        def __len__(self):
            return 2 * self.n

    return {"reverse": Reverse, "evens_then_odds": EvensThenOdds, "repeat": Repeat}


def table(lib, n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return lib.tensor(x), lib.tensor(np.arange(n) % 3)


@pytest.mark.parametrize("kind", ["reverse", "evens_then_odds", "repeat"])
@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (7, 2, False), (5, 5, False)])
def test_sampler_subclass_drives_dataloader_like_torch(kind, n, batch_size, drop_last):
    e_sampler = sampler_classes(eud)[kind](n)
    t_sampler = sampler_classes(tud)[kind](n)
    assert isinstance(e_sampler, eud.Sampler)
    assert list(e_sampler) == list(t_sampler) and len(e_sampler) == len(t_sampler)
    e_dl = eud.DataLoader(
        eud.TensorDataset(*table(ember, n)), batch_size=batch_size, sampler=e_sampler, drop_last=drop_last
    )
    t_dl = tud.DataLoader(
        tud.TensorDataset(*table(torch, n)), batch_size=batch_size, sampler=t_sampler, drop_last=drop_last
    )
    assert len(e_dl) == len(t_dl)
    e_batches, t_batches = list(e_dl), list(t_dl)
    assert len(e_batches) == len(t_batches) == len(t_dl)
    for eb, tb in zip(e_batches, t_batches):
        assert_same(eb, tb)


def test_sampler_subclass_without_len():
    class E(eud.Sampler):
        def __iter__(self):
            return iter([4, 0, 2])

    class T(tud.Sampler):
        def __iter__(self):
            return iter([4, 0, 2])

    e_dl = eud.DataLoader(eud.TensorDataset(*table(ember, 5)), batch_size=2, sampler=E())
    t_dl = tud.DataLoader(tud.TensorDataset(*table(torch, 5)), batch_size=2, sampler=T())
    for eb, tb in zip(list(e_dl), list(t_dl), strict=True):
        assert_same(eb, tb)
    with pytest.raises(TypeError, match=r"has no len\(\)"):
        len(t_dl)
    with pytest.raises(TypeError, match=r"has no len\(\)"):
        len(e_dl)


def test_sampler_base_class_iter_is_abstract():
    with pytest.raises(NotImplementedError):
        iter(tud.Sampler())
    with pytest.raises(NotImplementedError):
        iter(eud.Sampler())


def test_sampler_subclass_as_batch_sampler_and_inside_batch_sampler():
    class EGroups(eud.Sampler):
        def __iter__(self):
            return iter([[0, 9], [4, 5, 6], [1]])

        def __len__(self):
            return 3

    class TGroups(tud.Sampler):
        def __iter__(self):
            return iter([[0, 9], [4, 5, 6], [1]])

        def __len__(self):
            return 3

    e_dl = eud.DataLoader(eud.TensorDataset(*table(ember)), batch_sampler=EGroups())
    t_dl = tud.DataLoader(tud.TensorDataset(*table(torch)), batch_sampler=TGroups())
    assert len(e_dl) == len(t_dl) == 3
    for eb, tb in zip(list(e_dl), list(t_dl), strict=True):
        assert_same(eb, tb)
    for drop_last in (False, True):
        e_bs = eud.BatchSampler(sampler_classes(eud)["evens_then_odds"](7), 3, drop_last)
        t_bs = tud.BatchSampler(sampler_classes(tud)["evens_then_odds"](7), 3, drop_last)
        assert list(e_bs) == list(t_bs) and len(e_bs) == len(t_bs)


def test_sampler_subclass_with_shuffle_is_rejected_like_torch():
    assert issubclass(sampler_classes(eud)["reverse"], eud.Sampler)
    with pytest.raises(ValueError) as t_info:
        tud.DataLoader(tud.TensorDataset(*table(torch)), shuffle=True, sampler=sampler_classes(tud)["reverse"](10))
    with pytest.raises(ValueError) as e_info:
        eud.DataLoader(eud.TensorDataset(*table(ember)), shuffle=True, sampler=sampler_classes(eud)["reverse"](10))
    assert str(e_info.value) == str(t_info.value)


def test_sampler_subclass_with_seeded_generator_is_reproducible():
    class Shuffled(eud.Sampler):
        def __init__(self, n, seed):
            self.n, self.seed = n, seed

        def __iter__(self):
            g = ember.Generator().manual_seed(self.seed)
            return iter(ember.randperm(self.n, generator=g).tolist())

        def __len__(self):
            return self.n

    ds = eud.TensorDataset(*table(ember, 12))
    first = [b[1].tolist() for b in eud.DataLoader(ds, batch_size=5, sampler=Shuffled(12, 3))]
    again = [b[1].tolist() for b in eud.DataLoader(ds, batch_size=5, sampler=Shuffled(12, 3))]
    assert first == again
    order = list(Shuffled(12, 3))
    assert sorted(order) == list(range(12))
    assert [x for b in first for x in b] == [i % 3 for i in order]


GENERIC_NAMES = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "StackDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
]


def _subscriptable(cls):
    try:
        cls[int]
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("name", GENERIC_NAMES)
def test_data_classes_subscriptable_exactly_where_torch_is(name):
    # torch's bases are Generic; the concrete samplers and TensorDataset fix their item type and are not
    e_cls, t_cls = getattr(eud, name), getattr(tud, name)
    assert _subscriptable(e_cls) == _subscriptable(t_cls)


def test_generic_dataset_subclasses_behave_as_before():
    class Squares(eud.Dataset[int]):
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 5

    class Count(eud.IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    sub = eud.Subset[int](Squares(), [4, 1])
    assert [sub[0], sub[1]] == [16, 1] and len(sub) == 2
    cat = Squares() + Squares()
    assert type(cat) is eud.ConcatDataset and len(cat) == 10 and cat[7] == 4
    assert list(Count() + Count()) == [0, 1, 2, 0, 1, 2]
    batches = [b.tolist() for b in eud.DataLoader(Squares(), batch_size=2)]
    assert batches == [[0, 1], [4, 9], [16]]
    sampler = eud.BatchSampler(eud.SequentialSampler(range(5)), 2, False)
    assert isinstance(sampler, eud.Sampler) and list(sampler) == [[0, 1], [2, 3], [4]]


# ---------------------------------------------------------------------------------------------- default_collate


def _arr(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


COLLATE_CASES = {
    "tensors_f32_2d": lambda lib: [lib.tensor(_arr(i, (2, 3), np.float32)) for i in range(4)],
    "tensors_f64_3d": lambda lib: [lib.tensor(_arr(i, (2, 1, 4), np.float64)) for i in range(3)],
    "tensors_int64_0d": lambda lib: [lib.tensor(i) for i in range(5)],
    "tensors_uint8": lambda lib: [lib.tensor(_arr(i, (3, 2, 2), np.uint8)) for i in range(2)],
    "tensors_bool": lambda lib: [lib.tensor(_arr(i, (4,), np.bool_)) for i in range(3)],
    "single_tensor": lambda lib: [lib.tensor(_arr(0, (3,), np.float32))],
    "np_uint8_images": lambda lib: [_arr(i, (4, 4, 3), np.uint8) for i in range(3)],
    "np_int16": lambda lib: [_arr(i, (5,), np.int16) for i in range(2)],
    "np_int32": lambda lib: [_arr(i, (2, 2), np.int32) for i in range(2)],
    "np_float16": lambda lib: [_arr(i, (3,), np.float16) for i in range(2)],
    "np_float64": lambda lib: [_arr(i, (1, 3), np.float64) for i in range(4)],
    "np_bool": lambda lib: [_arr(i, (2,), np.bool_) for i in range(2)],
    "np_0d": lambda lib: [np.array(1.5), np.array(-2.0)],
    "np_scalar_float64": lambda lib: [np.float64(1.25), np.float64(3)],
    "np_scalar_int64": lambda lib: [np.int64(4), np.int64(-1)],
    "np_scalar_uint8": lambda lib: [np.uint8(4), np.uint8(200)],
    "np_scalar_bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "ints": lambda lib: [3, -1, 7],
    "floats": lambda lib: [0.5, -1.25, 3.0],
    "floats_then_int": lambda lib: [0.5, 2],
    "bools": lambda lib: [True, False],
    "complex": lambda lib: [1 + 2j, -3j],
    "strings": lambda lib: ["cat", "dog", "eel"],
    "bytes": lambda lib: [b"a", b"bc"],
    "none": lambda lib: [None, None],
    "tuples": lambda lib: [(lib.ones(2), 1, "a"), (lib.zeros(2), 2, "b")],
    "tuples_of_np": lambda lib: [(_arr(i, (2, 2), np.float32), np.int64(i)) for i in range(3)],
    "lists": lambda lib: [[1, 2.5], [3, 4.5]],
    "nested_lists": lambda lib: [[[1, 2], [3]], [[4, 5], [6]]],
    "empty_lists": lambda lib: [[], []],
    "dicts": lambda lib: [{"x": lib.tensor([i, i + 1]), "name": f"n{i}", "w": i / 2} for i in range(3)],
    "ordered_dicts": lambda lib: [collections.OrderedDict(b=i, a=float(i)) for i in range(2)],
    "nested_dicts": lambda lib: [{"a": {"b": [i, 2.0 * i], "c": (np.ones(2) * i,)}} for i in range(2)],
    "namedtuples": lambda lib: [Pair(lib.tensor(_arr(i, (1, 2, 2), np.float32)), i) for i in range(3)],
    "namedtuples_nested": lambda lib: [Triple(np.int32(i), {"k": [i]}, "s") for i in range(2)],
    "list_of_dicts_of_tuples": lambda lib: [[{"p": (i, 1.5)}] for i in range(2)],
    "sets": lambda lib: [{1}, {2}],
    "ranges": lambda lib: [range(2), range(2)],
}


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    make = COLLATE_CASES[case]
    e_out = t_out = None
    try:
        t_out = tud.default_collate(make(torch))
    except Exception as t_err:  # both must fail the same way
        with pytest.raises(type(t_err)) as e_info:
            eud.default_collate(make(ember))
        assert str(e_info.value) == str(t_err)
        return
    e_out = eud.default_collate(make(ember))
    assert_same(e_out, t_out)


@pytest.mark.parametrize(
    "case,exc",
    [
        ("tensor_shapes", RuntimeError),
        ("tensor_ndims", RuntimeError),
        ("np_shapes", RuntimeError),
        ("np_object_arrays", TypeError),
        ("np_string_arrays", TypeError),
        ("ragged_lists", RuntimeError),
        ("ragged_tuples", RuntimeError),
        ("ragged_namedtuple_field", RuntimeError),
        ("objects", TypeError),
        ("dict_missing_key", KeyError),
    ],
)
def test_default_collate_errors_match_torch(case, exc):
    make = {
        "tensor_shapes": lambda lib: [lib.zeros(2, 3), lib.zeros(3, 2)],
        "tensor_ndims": lambda lib: [lib.zeros(2), lib.zeros(2, 1)],
        "np_shapes": lambda lib: [np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)],
        "np_object_arrays": lambda lib: [np.array([1, None], dtype=object)] * 2,
        "np_string_arrays": lambda lib: [np.array(["a", "b"]), np.array(["c", "d"])],
        "ragged_lists": lambda lib: [[1, 2], [3]],
        "ragged_tuples": lambda lib: [(1, 2), (3,)],
        "ragged_namedtuple_field": lambda lib: [Pair(1, [1, 2]), Pair(2, [3])],
        "objects": lambda lib: [object(), object()],
        "dict_missing_key": lambda lib: [{"a": 1, "b": 2}, {"a": 3}],
    }[case]
    with pytest.raises(exc) as t_info:
        tud.default_collate(make(torch))
    with pytest.raises(exc) as e_info:
        eud.default_collate(make(ember))
    if exc is not TypeError:  # torch's TypeError text names torch-only types; shapes and keys must agree
        assert str(e_info.value) == str(t_info.value)


def test_default_collate_stack_is_differentiable():
    w = ember.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = eud.default_collate([w * 2, w.cumsum(0)])
    assert tuple(out.shape) == (2, 2, 3) and out.requires_grad
    gradcheck(lambda a, b: eud.default_collate([a * b, b - a, a.exp()]), *(_arr(s, (2, 3), np.float64) for s in (1, 2)))


def test_default_collate_promotes_mixed_tensor_dtypes_like_torch():
    e = eud.default_collate([ember.tensor([1, 2], dtype=ember.int32), ember.tensor([0.5, 1.5])])
    t = tud.default_collate([torch.tensor([1, 2], dtype=torch.int32), torch.tensor([0.5, 1.5])])
    assert_same(e, t)  # torch: float32


def test_default_collate_promotes_mixed_numpy_dtypes_like_torch():
    assert_same(
        eud.default_collate([np.array([1], np.int32), np.array([1.5], np.float32)]),
        tud.default_collate([np.array([1], np.int32), np.array([1.5], np.float32)]),
    )
    assert_same(
        eud.default_collate([np.int32(1), np.float32(2.5)]), tud.default_collate([np.int32(1), np.float32(2.5)])
    )


def test_default_collate_int_then_float_keeps_values_like_torch():
    t = tud.default_collate([0, 0.5, 2])
    e = eud.default_collate([0, 0.5, 2])
    assert t.tolist() == [0.0, 0.5, 2.0]
    assert_same(e, t)  # once int64 [0, 0, 2]: the first item alone chose the dtype


def test_default_collate_bool_then_int_like_torch():
    t = tud.default_collate([True, 2, 0])
    assert t.tolist() == [1, 2, 0]
    assert_same(eud.default_collate([True, 2, 0]), t)  # once bool [True, True, False]


def test_default_collate_numpy_str_items_like_torch():
    names = np.array(["cat", "dog"])
    t = tud.default_collate([names[0], names[1]])
    assert t == ["cat", "dog"]
    assert_same(eud.default_collate([names[0], names[1]]), t)


def test_default_collate_and_convert_keep_defaultdict_like_torch():
    def make():
        return [collections.defaultdict(list, a=i) for i in range(2)]

    t = tud.default_collate(make())
    e = eud.default_collate(make())
    assert type(t) is collections.defaultdict
    assert_same(e, t)
    assert type(eud.default_convert(make()[0])) is type(tud.default_convert(make()[0]))


@pytest.mark.parametrize(
    "a,b",
    [
        (np.uint8, np.int8),
        (np.int64, np.float16),
        (np.int16, np.float64),
        (np.float16, np.float32),
        (np.bool_, np.int32),
        (np.int32, np.int64),
        (np.float32, np.float32),
    ],
)
def test_default_collate_mixed_dtype_pairs_like_torch(a, b):
    x, y = _arr(1, (2, 3), a), _arr(2, (2, 3), b)
    # tensors and arrays are stacked with torch's promotion
    assert_same(
        eud.default_collate([ember.tensor(x), ember.tensor(y)]), tud.default_collate([torch.tensor(x), torch.tensor(y)])
    )
    assert_same(eud.default_collate([x, y]), tud.default_collate([x, y]))
    assert_same(eud.default_collate([[x], [y]]), tud.default_collate([[x], [y]]))
    if a is not np.bool_:  # torch cannot build a tensor from a list holding np.bool_ and another type
        sa, sb = x.flat[0], y.flat[1]
        assert_same(eud.default_collate([sa, sb]), tud.default_collate([sa, sb]))


@pytest.mark.parametrize(
    "batch",
    [
        [np.int64(1), 2.5],
        [1, np.float32(2.5)],
        [2, True, 0.5],
        [1.5, 2, True],
        [False, True, 3],
        [7, -2, 2**40],
        [np.float16(1.5), np.float16(2)],
    ],
)
def test_default_collate_mixed_scalars_like_torch(batch):
    assert_same(eud.default_collate(list(batch)), tud.default_collate(list(batch)))


def test_default_collate_keeps_mapping_subclasses_like_torch():
    class Tagged(dict):
        """A dict subclass carrying an attribute, which a copy keeps."""

    def make():
        rows = []
        for i in range(3):
            row = Tagged(x=np.float32(i), y=[i, i + 1])
            row.tag = "kept"
            rows.append(row)
        return rows

    e, t = eud.default_collate(make()), tud.default_collate(make())
    assert_same(e, t)
    assert e.tag == t.tag == "kept"
    ordered = [collections.OrderedDict(b=np.ones(2) * i, a=i) for i in range(2)]
    assert_same(eud.default_collate(ordered), tud.default_collate(ordered))
    converted = eud.default_convert(make()[0])
    assert type(converted) is Tagged and converted.tag == "kept"
    assert_same(converted, tud.default_convert(make()[0]))


# ---------------------------------------------------------------------------------------------- default_convert


CONVERT_CASES = {
    "arr_f32": lambda: _arr(0, (2, 3), np.float32),
    "arr_f64_3d": lambda: _arr(1, (2, 1, 3), np.float64),
    "arr_uint8": lambda: _arr(2, (4, 4, 3), np.uint8),
    "arr_int16": lambda: _arr(3, (5,), np.int16),
    "arr_bool": lambda: _arr(4, (3,), np.bool_),
    "arr_0d": lambda: np.array(7),
    "arr_noncontiguous": lambda: np.arange(12.0).reshape(3, 4)[:, ::2],
    "arr_strings": lambda: np.array(["a", "bc"]),
    "arr_objects": lambda: np.array([1, None], dtype=object),
    "scalar_f32": lambda: np.float32(2.5),
    "scalar_int16": lambda: np.int16(-3),
    "scalar_bool": lambda: np.bool_(True),
    "scalar_str": lambda: np.str_("s"),
    "int": lambda: 3,
    "float": lambda: 0.25,
    "str": lambda: "text",
    "bytes": lambda: b"raw",
    "none": lambda: None,
    "tuple": lambda: (_arr(5, (2,), np.float32), "s", 3),
    "list": lambda: [_arr(6, (2,), np.int32), ["s", np.int64(4)]],
    "dict": lambda: {"a": _arr(7, (3,), np.float64), "b": {"c": np.float64(1)}, "s": "x"},
    "ordered_dict": lambda: collections.OrderedDict(z=np.zeros(1), a="q"),
    "namedtuple": lambda: Pair(_arr(8, (1, 2), np.float32), "label"),
    "list_of_tuples": lambda: [(np.ones(1), 1), (np.zeros(1), "x")],
}


@pytest.mark.parametrize("case", sorted(CONVERT_CASES))
def test_default_convert_matches_torch(case):
    make = CONVERT_CASES[case]
    assert_same(eud.default_convert(make()), tud.default_convert(make()))


def test_default_convert_shares_memory_and_leaves_tensors_alone():
    arr = _arr(9, (3, 2), np.float32)
    e, t = eud.default_convert(arr), tud.default_convert(arr)
    assert np.shares_memory(t.numpy(), arr)
    assert np.shares_memory(e.numpy(), arr)
    x = ember.ones(2)
    assert eud.default_convert(x) is x
    s = "keep"
    assert eud.default_convert(s) is s and tud.default_convert(s) is s


@pytest.mark.parametrize("batch_size", [None, 2])
def test_dataloader_uses_default_convert_or_collate_like_torch(batch_size):
    rows = [{"img": _arr(i, (2, 2), np.uint8), "y": np.int64(i), "tag": f"t{i}"} for i in range(4)]

    class E(eud.Dataset):
        def __getitem__(self, i):
            return rows[i]

        def __len__(self):
            return len(rows)

    class T(tud.Dataset):
        def __getitem__(self, i):
            return rows[i]

        def __len__(self):
            return len(rows)

    e_batches = list(eud.DataLoader(E(), batch_size=batch_size))
    t_batches = list(tud.DataLoader(T(), batch_size=batch_size))
    assert len(e_batches) == len(t_batches)
    for eb, tb in zip(e_batches, t_batches):
        assert_same(eb, tb)
    # batch_size=None applies default_convert to each sample
    if batch_size is None:
        assert_same(eud.default_convert(rows[1]), t_batches[1])

"""default_collate / default_convert against torch's: types, dtypes and shapes."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as t_collate
from torch.utils.data import default_convert as t_convert

import ember
from ember.utils.data import default_collate as e_collate
from ember.utils.data import default_convert as e_convert

Point = collections.namedtuple("Point", "x y")


def same(e, t):
    """Recursively compare an ember result with torch's."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and e.keys() == t.keys()
        for k in t:
            same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            same(a, b)
    else:
        assert e == t


def both(make):
    """Build the same batch with ember and with torch tensors."""
    return make(ember), make(torch)


CASES = {
    "tensors": lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)],
    "int_tensors": lambda lib: [lib.tensor([1, 2]), lib.tensor([3, 4])],
    "scalar_tensors": lambda lib: [lib.tensor(1.5), lib.tensor(2.5)],
    "tuples": lambda lib: [(lib.ones(2), 1), (lib.zeros(2), 2)],
    "ints_floats": lambda lib: [(1, 2.0), (3, 4.0)],
    "bools": lambda lib: [True, False, True],
    "lists": lambda lib: [[1, 2], [3, 4]],
    "np_arrays": lambda lib: [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
    "np_int_arrays": lambda lib: [np.arange(3), np.arange(3)],
    "np_scalars": lambda lib: [np.float32(1), np.float32(2)],
    "np_int32_scalars": lambda lib: [np.int32(1), np.int32(2)],
    "np_0d": lambda lib: [np.array(3), np.array(4)],
    "strings": lambda lib: ["a", "b"],
    "dicts": lambda lib: [{"a": 1, "b": "s", "c": lib.ones(2)}, {"a": 2, "b": "t", "c": lib.zeros(2)}],
    "namedtuples": lambda lib: [Point(1, lib.ones(1)), Point(2, lib.zeros(1))],
    "nested": lambda lib: [({"x": [1, 2]}, (lib.ones(2), "s")), ({"x": [3, 4]}, (lib.ones(2), "t"))],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_collate_matches_torch(case):
    e_batch, t_batch = both(CASES[case])
    same(e_collate(e_batch), t_collate(t_batch))


@pytest.mark.parametrize(
    "case,exc",
    [
        ("ragged_lists", RuntimeError),
        ("ragged_tensors", RuntimeError),
        ("objects", TypeError),
        ("np_strings", TypeError),
    ],
)
def test_collate_errors_match_torch(case, exc):
    make = {
        "ragged_lists": lambda lib: [[1, 2], [3]],
        "ragged_tensors": lambda lib: [lib.zeros(2), lib.zeros(3)],
        "objects": lambda lib: [object(), object()],
        "np_strings": lambda lib: [np.array(["a"]), np.array(["b"])],
    }[case]
    with pytest.raises(exc) as t_info:
        t_collate(make(torch))
    with pytest.raises(exc) as e_info:
        e_collate(make(ember))
    assert str(e_info.value) == str(t_info.value)


def test_collate_keeps_grad():
    a = ember.ones(2, requires_grad=True)
    out = e_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(3),
        lambda: np.float64(3.0),
        lambda: (np.arange(2), 2),
        lambda: [np.arange(2)],
        lambda: {"a": np.ones(2)},
        lambda: "s",
        lambda: Point(np.ones(1), 2),
    ],
)
def test_convert_matches_torch(make):
    same(e_convert(make()), t_convert(make()))

"""The comparison every op test relies on refuses each kind of difference, not only differing tensors."""

from __future__ import annotations

import pytest
import torch
from helpers import assert_same

import ember

DIFFERENT = [
    ((1, 2), [1, 2]),
    (None, 0),
    (0, None),
    (1.0, 1),
    (True, 1),
    (1, True),
    ("mean", "sum"),
    (ember.Size([2]), torch.Size([3])),
    ((2,), torch.Size([2])),
    (ember.float32, torch.float64),
    ("float32", torch.float32),
    (ember.device("cpu"), torch.device("meta")),
    ({"a": 1}, {"b": 1}),
    ({"a": 1}, {"a": 2}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ([ember.ones(2)], [torch.ones(3)]),
    ((ember.ones(2),), (torch.ones(2), None)),
    ((ember.ones(2), ember.zeros(2)), torch.max(torch.ones(2, 2), 0)),  # torch's result has named fields
    (ember.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5])),
    (ember.tensor([1, 2]), torch.tensor([1.0, 2.0])),
    (3, 4),
    (float("nan"), 1.0),
    (ember.strided, torch.sparse_coo),
]

SAME = [
    ((1, [2.0, None, "x"]), (1, [2.0, None, "x"])),
    (ember.Size([2, 3]), torch.Size([2, 3])),
    (ember.max(ember.ones(2, 2), 0), torch.max(torch.ones(2, 2), 0)),
    (float("nan"), float("nan")),
    ({"w": ember.ones(2), "n": 3}, {"w": torch.ones(2), "n": 3}),
    (ember.float16, torch.float16),
    (ember.device("cpu"), torch.device("cpu")),
]


@pytest.mark.parametrize("mine,theirs", DIFFERENT, ids=range(len(DIFFERENT)))
def test_assert_same_refuses_every_kind_of_difference(mine, theirs):
    with pytest.raises(AssertionError):
        assert_same(mine, theirs)


@pytest.mark.parametrize("mine,theirs", SAME, ids=range(len(SAME)))
def test_assert_same_accepts_equal_results(mine, theirs):
    assert_same(mine, theirs)


def test_layouts_compare_as_torch_layouts():
    import pickle

    assert_same((ember.strided, ember.ones(1).layout), (torch.strided, torch.ones(1).layout))
    assert ember.ones(2).t().layout is ember.strided and isinstance(ember.strided, ember.layout)
    assert repr(ember.strided) == repr(torch.strided) == str(ember.strided)
    assert pickle.loads(pickle.dumps(ember.strided)) is ember.strided

"""Datasets and random_split, compared with torch.utils.data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud


def _pair(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    return eud.TensorDataset(ember.tensor(x), ember.tensor(y)), tud.TensorDataset(torch.tensor(x), torch.tensor(y))


def test_tensor_dataset_items_and_len():
    e, t = _pair()
    assert len(e) == len(t) == 10
    for i in (0, 3, -1):
        (ex, ey), (tx, ty) = e[i], t[i]
        np.testing.assert_array_equal(ex.numpy(), tx.numpy())
        assert ey.item() == ty.item()
        assert str(ex.dtype) == str(tx.dtype)


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch"):
        eud.TensorDataset(ember.zeros(3), ember.zeros(4))


def test_concat_dataset():
    a, b = _pair(4)[0], _pair(6)[0]
    c = a + b
    assert isinstance(c, eud.ConcatDataset)
    assert len(c) == 10 and c.cumulative_sizes == [4, 10]
    assert c[5][1].item() == 1 and c[-1][1].item() == 5 and c[0][1].item() == 0
    with pytest.raises(ValueError, match="absolute value of index"):
        c[-11]
    tc = tud.ConcatDataset([_pair(4)[1], _pair(6)[1]])
    assert [c[i][1].item() for i in range(10)] == [tc[i][1].item() for i in range(10)]


def test_subset_and_getitems():
    e, _ = _pair()
    s = eud.Subset(e, [7, 2, 5])
    assert len(s) == 3 and s[0][1].item() == 7
    assert [x[1].item() for x in s.__getitems__([2, 0])] == [5, 7]


def test_stack_dataset():
    e, _ = _pair(4)
    s = eud.StackDataset(e, e)
    assert len(s) == 4 and len(s[1]) == 2
    d = eud.StackDataset(a=e, b=e)
    assert set(d[0]) == {"a", "b"}


@pytest.mark.parametrize(
    "n,lengths",
    [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (7, [0.1, 0.2, 0.7]), (5, [5])],
)
def test_random_split_sizes_match_torch(n, lengths):
    data = list(range(n))
    e = eud.random_split(data, lengths)
    t = tud.random_split(data, lengths)
    assert [len(s) for s in e] == [len(s) for s in t]
    assert sorted(i for s in e for i in s.indices) == list(range(n))


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        eud.random_split(list(range(10)), [3, 3])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tud.random_split(list(range(10)), [3, 3])


def test_random_split_reproducible_with_generator():
    a = eud.random_split(range(20), [10, 10], generator=ember.Generator().manual_seed(42))
    b = eud.random_split(range(20), [10, 10], generator=ember.Generator().manual_seed(42))
    c = eud.random_split(range(20), [10, 10], generator=ember.Generator().manual_seed(43))
    assert a[0].indices == b[0].indices != c[0].indices
    ember.manual_seed(5)
    d = eud.random_split(range(20), [10, 10])
    ember.manual_seed(5)
    assert eud.random_split(range(20), [10, 10])[0].indices == d[0].indices


def test_dataset_base_raises():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__"):
        eud.Dataset()[0]


def test_chain_dataset():
    class Stream(eud.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    c = Stream(2) + Stream(3)
    assert list(c) == [0, 1, 0, 1, 2] and len(c) == 5

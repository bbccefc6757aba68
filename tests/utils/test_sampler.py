"""Samplers: lengths and contents like torch's; random orders reproducible under seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch.utils.data as tud

import ember
import ember.utils.data as eud


def test_sequential():
    assert list(eud.SequentialSampler(range(5))) == list(tud.SequentialSampler(range(5)))
    assert len(eud.SequentialSampler(range(5))) == 5


@pytest.mark.parametrize("n", [1, 7, 20])
def test_random_is_permutation_and_reproducible(n):
    ember.manual_seed(0)
    a = list(eud.RandomSampler(range(n)))
    ember.manual_seed(0)
    b = list(eud.RandomSampler(range(n)))
    assert a == b and sorted(a) == list(range(n))


def test_random_generator_and_epochs_differ():
    s = eud.RandomSampler(range(50), generator=ember.Generator().manual_seed(3))
    first, second = list(s), list(s)
    assert first != second
    s2 = eud.RandomSampler(range(50), generator=ember.Generator().manual_seed(3))
    assert list(s2) == first


@pytest.mark.parametrize("replacement,num_samples", [(True, None), (True, 25), (False, 25), (False, 3)])
def test_random_num_samples(replacement, num_samples):
    e = eud.RandomSampler(range(10), replacement=replacement, num_samples=num_samples)
    t = tud.RandomSampler(range(10), replacement=replacement, num_samples=num_samples)
    out = list(e)
    assert len(e) == len(t) == len(out)
    assert all(0 <= i < 10 for i in out)
    if not replacement and num_samples and num_samples <= 10:
        assert len(set(out)) == len(out)


def test_random_bad_args():
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        eud.RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        eud.RandomSampler(range(3), replacement=1)


def test_subset_random():
    idx = [3, 8, 9, 11]
    out = list(eud.SubsetRandomSampler(idx))
    assert sorted(out) == idx and len(eud.SubsetRandomSampler(idx)) == 4


def test_weighted():
    w = [0.0, 0.0, 1.0, 3.0]
    s = eud.WeightedRandomSampler(w, 400)
    out = np.array(list(s))
    assert len(s) == 400 and set(out) <= {2, 3}
    assert 0.6 < (out == 3).mean() < 0.9
    no_rep = list(eud.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(
        RuntimeError, match=r"cannot sample n_sample > prob_dist.size\(-1\) samples without replacement"
    ):
        list(eud.WeightedRandomSampler([1, 0, 0], 4, replacement=False))


def test_weighted_sampler_checks_its_weights_when_drawing_as_torch_does():
    import torch

    torch.manual_seed(0)
    ember.manual_seed(0)
    # more samples than non-zero weights is fine without replacement: the zero weights come last
    assert list(eud.WeightedRandomSampler([1, 0, 0], 2, replacement=False)) == list(
        tud.WeightedRandomSampler([1, 0, 0], 2, replacement=False)
    )
    for weights in ([1, -1, 0], [float("inf"), 1], [float("nan"), 1], [0, 0]):
        for n, replacement in ((2, True), (1, True), (2, False)):
            sampler = eud.WeightedRandomSampler(weights, n, replacement=replacement)  # accepted, as torch's is
            with pytest.raises(RuntimeError) as e_err:
                list(sampler)
            with pytest.raises(RuntimeError) as t_err:
                list(tud.WeightedRandomSampler(weights, n, replacement=replacement))
            assert str(e_err.value) == str(t_err.value)


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True)])
def test_batch_sampler_matches_torch(n, bs, drop):
    e = eud.BatchSampler(eud.SequentialSampler(range(n)), bs, drop)
    t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    assert list(e) == list(t) and len(e) == len(t)


def test_batch_sampler_bad_args():
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        eud.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        eud.BatchSampler(range(3), 2, 0)

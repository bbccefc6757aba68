"""DistributedSampler's per-rank index lists equal torch's (num_replicas and rank given, no process group)."""

from __future__ import annotations

import pytest
import torch
import torch.utils.data.distributed as tdist

import ember
from ember.utils.data.distributed import DistributedSampler


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 33])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_partitions_equal_torchs(n, replicas, shuffle, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        for seed, epoch in [(0, 0), (5, 3)]:
            ours = DistributedSampler(data, replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = tdist.DistributedSampler(data, replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            if n == 0 and not drop_last:  # torch pads an empty order forever; both give nothing usable
                assert len(ours) == len(theirs)
                continue
            assert list(ours) == list(theirs), (rank, seed, epoch)
            assert len(ours) == len(theirs) == len(list(theirs))
            assert ours.total_size == theirs.total_size


def test_epochs_shuffle_differently_and_shares_cover_the_data():
    data = list(range(11))
    shares = [DistributedSampler(data, 3, r, seed=1) for r in range(3)]
    first = [list(s) for s in shares]
    for s in shares:
        s.set_epoch(1)
    second = [list(s) for s in shares]
    assert first != second
    assert set(sum(first, [])) == set(data)
    assert set(sum(second, [])) == set(data)
    assert all(len(a) == 4 for a in first)


def test_bad_rank_and_no_group():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match=r"Invalid rank -1"):
        DistributedSampler(range(4), 2, -1)
    if ember.distributed.is_available():
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            DistributedSampler(range(4))
    else:
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            DistributedSampler(range(4))


def test_served_under_torchs_names():
    assert ember.utils.data.DistributedSampler is DistributedSampler
    assert torch.utils.data.DistributedSampler is tdist.DistributedSampler  # the oracle's own layout

"""DistributedSampler: each rank's share of a dataset's indices, as torch.utils.data.distributed partitions them."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from ... import _sampling
from ... import random as _random
from .sampler import Sampler


def _group_size_and_rank() -> tuple[int, int]:
    from ... import distributed as dist

    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler[int]):
    """Every num_replicas-th index from rank on, of one (optionally shuffled) pass padded or cut to equal shares."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            world, own = _group_size_and_rank()
            num_replicas = world if num_replicas is None else num_replicas
            rank = own if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the tail that cannot be shared equally is dropped
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = _random.Generator().manual_seed(self.seed + self.epoch)
            order = _sampling.randperm(g, n).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[: self.total_size]
        else:
            missing = self.total_size - len(order)
            # pad by repeating the order from its start (as many whole copies as needed)
            repeats = math.ceil(missing / len(order)) if order else 0
            order += (order * repeats)[:missing]
        if len(order) != self.total_size:
            raise RuntimeError(f"DistributedSampler built {len(order)} indices, expected {self.total_size}")
        share = order[self.rank : self.total_size : self.num_replicas]
        return iter(share)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use a different shuffle for this epoch (the order is seeded with seed + epoch on every rank)."""
        self.epoch = epoch

"""Data-parallel `ember train --nproc N`: what the training loop needs of the other ranks.

Every rank holds the whole data set, computes the same shuffled global batches and trains on its shard of
each: rank r takes rows r, r + N, r + 2N, ... of the batch (`idx[r::N]`). Each rank's loss is its shard's mean
scaled by N x shard / batch, so that DistributedDataParallel's average of the ranks' gradients is the
gradient of the global batch's mean loss, as one process computes it (up to float rounding). The step's loss
and accuracy are summed over the ranks, so every rank keeps the same epoch sums; rank 0 alone writes the run
folder and evaluates, and tells the others what they need of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The test hook's value `point@R` crashes rank R only (a plain `point` crashes every rank that reaches it).
RANK_SEP = "@"


class Ranks:
    """This process's place among the ranks of a data-parallel run, and the few collectives the loop uses."""

    def __init__(self) -> None:
        from .. import distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("mpi")
        group = dist.group.WORLD
        self.rank = group.rank()
        self.size = group.size()
        self._comm = group._comm.Dup()  # apart from DDP's gradient buckets and any user collective

    @property
    def writer(self) -> bool:
        """Whether this rank writes the run folder and prints (rank 0)."""
        return self.rank == 0

    def shard(self, idx: np.ndarray) -> np.ndarray:
        """This rank's rows of a global batch: idx[rank::size]."""
        return idx[self.rank :: self.size]

    def sums(self, values: list[float]) -> np.ndarray:
        """Element-wise sums of values over the ranks (float64), the same on every rank."""
        from .. import distributed as dist

        buf = np.asarray(values, dtype=np.float64)
        self._comm.Allreduce(dist._mpi.mpi().IN_PLACE, buf, op=dist._mpi.mpi().SUM)
        return buf

    def from_writer(self, value: Any) -> Any:
        """Rank 0's value, on every rank."""
        return self._comm.bcast(value, root=0)

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's value, in rank order, on rank 0 (None elsewhere)."""
        return self._comm.gather(value, root=0)

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        self._comm.Barrier()

    def close(self) -> None:
        """Free this object's communicator and leave the process group."""
        from .. import distributed as dist

        self._comm.Free()
        if dist.is_initialized():
            dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank `rank`'s own random stream (dropout): rank 0 keeps the run's seed, as one process does."""
    if rank == 0:
        return seed
    return int(np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, rank]).generate_state(1, np.uint64)[0] >> 1)

"""ember.nn.parallel: DistributedDataParallel (torch.nn.parallel's data-parallel wrapper, over MPI)."""

from __future__ import annotations

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]

"""The loop a DataLoader worker process runs, and get_worker_info for code inside a worker."""

from __future__ import annotations

import os
import queue
import random
from dataclasses import dataclass

import numpy as np

from ._fetch import ExceptionWrapper, make_fetcher

_worker_info: WorkerInfo | None = None

# How often an idle worker checks that its parent is still alive.
_PARENT_CHECK_S = 5.0


class WorkerInfo:
    """What a worker knows about itself: id, num_workers, seed and its copy of the dataset."""

    _frozen = False

    def __init__(self, **kwargs) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self._frozen = True

    def __setattr__(self, key, value) -> None:
        if self._frozen:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker process, that worker's WorkerInfo; None in the main process."""
    return _worker_info


@dataclass
class IterableEnd:
    """Sent by a worker whose iterable dataset has run out."""

    worker_id: int


@dataclass
class ResumeAck:
    """Sent by a persistent worker once it has reset for a new epoch."""

    worker_id: int


RESUME = "__ember_resume__"


def numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """The four 32-bit words a worker seeds NumPy's legacy generator with: NumPy's SeedSequence hash of
    (worker_id, the base seed's low and high halves, 0), as torch seeds it."""
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(entropy, pool_size=4).generate_state(4)


def _seed_worker(base_seed: int, worker_id: int) -> None:
    from ... import random as ember_random

    seed = base_seed + worker_id
    random.seed(seed)
    ember_random.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))


def worker_loop(
    is_iterable: bool,
    dataset,
    index_queue,
    result_queue,
    auto_collation: bool,
    collate_fn,
    drop_last: bool,
    base_seed: int,
    init_fn,
    worker_id: int,
    num_workers: int,
) -> None:
    """Serve (task_id, index) requests from index_queue until a None arrives."""
    global _worker_info
    parent = os.getppid()
    seed = base_seed + worker_id
    _seed_worker(base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        init_error = ExceptionWrapper(where=where)
    ended = False
    try:
        while True:
            try:
                task = index_queue.get(timeout=_PARENT_CHECK_S)
            except queue.Empty:
                if os.getppid() != parent:
                    break
                continue
            if task is None:
                break
            if task == RESUME:
                ended = False
                if init_error is None:
                    try:
                        fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)
                result_queue.put((None, ResumeAck(worker_id)))
                continue
            if ended:
                continue
            task_id, index = task
            if init_error is not None:
                result_queue.put((task_id, init_error))
                continue
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                if not is_iterable:
                    data = ExceptionWrapper(where=where)
                else:
                    ended = True
                    data = IterableEnd(worker_id)
            except Exception:
                data = ExceptionWrapper(where=where)
            result_queue.put((task_id, data))
            del data
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()
    result_queue.close()

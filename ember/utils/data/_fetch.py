"""Fetchers: turn one index (or list of indices) from a sampler into one collated batch."""

from __future__ import annotations

import sys
import traceback


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as text and re-raised there."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise an exception of the original type whose message carries the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class MapFetcher:
    """Fetch items of a map-style dataset by index."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self._many = getattr(dataset, "__getitems__", None) if auto_collation else None

    def fetch(self, index):
        """One collated batch (or one converted sample without auto-collation)."""
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if callable(self._many):
            data = self._many(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterFetcher:
    """Pull items from an iterable dataset's iterator, a batch's worth at a time."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        """The next batch; StopIteration when the stream is done (or only a dropped partial batch is left)."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(is_iterable: bool, dataset, auto_collation: bool, collate_fn, drop_last: bool):
    """The fetcher that suits the dataset kind."""
    cls = IterFetcher if is_iterable else MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)

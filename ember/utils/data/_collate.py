"""default_collate / default_convert: how a DataLoader merges samples into batches."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ..._creation import from_numpy
from ..._tensor import Tensor

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _stack(tensors: list[Tensor]) -> Tensor:
    """Stack equal-shaped tensors along a new first dimension."""
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and {list(t.shape)} at entry {i}"
            )
    if any(t.requires_grad for t in tensors):
        from ... import stack

        return stack(tensors, 0)
    return Tensor._wrap(np.stack([t._data for t in tensors]))


def _string_like(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "USO"


def default_collate(batch):
    """Merge a list of samples into a batch, stacking tensors, arrays and numbers and recursing into containers."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _string_like(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic):
        if _string_like(np.asarray(elem)):
            raise TypeError(_ERR.format(np.asarray(elem).dtype))
        return from_numpy(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        merged = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(merged)
        except TypeError:
            return merged
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # torch returns a list for tuples too
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays and scalars inside a sample into tensors, leaving everything else as it is."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _string_like(data) else from_numpy(data)
    if isinstance(data, np.generic):
        return data if _string_like(np.asarray(data)) else from_numpy(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        merged = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(merged)
        except TypeError:
            return merged
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data

"""default_collate / default_convert: how a DataLoader merges samples into batches."""

from __future__ import annotations

import collections.abc
import copy
import functools
import numbers

import numpy as np

from ..._creation import from_numpy, tensor
from ..._dtype import promote_types
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
    arrays = [t._data for t in tensors]
    if len({a.dtype for a in arrays}) == 1:
        return Tensor._wrap(np.stack(arrays))
    # mixed dtypes follow torch's promotion, not NumPy's: int32 with float32 gives float32, not float64
    dt = functools.reduce(promote_types, (t.dtype for t in tensors))
    return Tensor._wrap(np.stack(arrays, dtype=dt.np, casting="unsafe"))


def _string_like(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "USO"


def _rebuild_mapping(elem, values: dict):
    """A mapping of elem's own type holding values; mutable ones are copied so that extra state
    (a defaultdict's factory, say) survives. Falls back to a plain dict when the type will not cooperate."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Merge a list of samples into a batch, stacking tensors, arrays and numbers and recursing into containers."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _string_like(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, (str, bytes)):  # before np.generic: np.str_ and np.bytes_ are strings too
        return batch
    if isinstance(elem, np.generic):
        if _string_like(np.asarray(elem)):
            raise TypeError(_ERR.format(np.asarray(elem).dtype))
        if all(type(b) is type(elem) for b in batch):
            return from_numpy(np.array(batch))  # one type throughout (the usual case): NumPy keeps it
        return tensor(batch)  # mixed: promoted over every item as torch does (int32 with float32 gives float32)
    if isinstance(elem, numbers.Integral):
        # the dtype comes from every item, not the first: [0, 0.5] is float32, [True, 2] int64, [True, False] bool
        arr = np.array(batch)
        if arr.dtype == np.int64 or arr.dtype == np.bool_:  # NumPy agrees with torch here, and is quicker
            return Tensor._wrap(arr)
        return tensor(batch)
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
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
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
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

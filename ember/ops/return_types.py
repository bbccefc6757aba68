"""Named result tuples for ops that return several tensors (max(dim), sort, topk, ...), like
torch.return_types: they unpack like tuples and expose .values / .indices."""

from __future__ import annotations

_CACHE: dict = {}


class _ReturnType(tuple):
    """A tuple whose fields are also reachable by name; subclasses set _fields."""

    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, *values):
        if len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__} takes {len(cls._fields)} values, got {len(values)}")
        return tuple.__new__(cls, values)

    def __repr__(self) -> str:
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    def __reduce__(self):
        return (_rebuild, (type(self).__name__, self._fields, tuple(self)))


def make(name: str, fields: tuple = ("values", "indices")) -> type:
    """The result type called name with the given field names (one class per name)."""
    cls = _CACHE.get((name, fields))
    if cls is None:
        ns = {"__slots__": (), "_fields": fields, "__doc__": f"Result of {name}: fields {', '.join(fields)}."}
        for i, field in enumerate(fields):
            ns[field] = property(lambda self, i=i: tuple.__getitem__(self, i))
        cls = type(name, (_ReturnType,), ns)
        cls.__module__ = "ember.return_types"
        _CACHE[(name, fields)] = cls
    return cls


def _rebuild(name: str, fields: tuple, values: tuple):
    return make(name, fields)(*values)


def values_indices(name: str, values, indices):
    """A (values, indices) result named name."""
    return make(name)(values, indices)

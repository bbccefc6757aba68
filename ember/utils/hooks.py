"""Removable handles returned by every register_*hook call."""

from __future__ import annotations

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes one registered hook from its dict when remove() is called."""

    def __repr__(self) -> str:
        from .._printing import default_repr

        return default_repr(self)

    def __init__(self, registry: dict, fn) -> None:
        self.id = next(_ids)
        self.registry = registry
        registry[self.id] = fn

    def remove(self) -> None:
        """Unregister the hook; safe to call twice."""
        self.registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

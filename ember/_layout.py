"""torch.layout: how a tensor's elements are stored. ember's tensors are all dense, so torch.strided is the one."""

from __future__ import annotations


class layout:
    """A memory layout, printed as torch prints it (torch.strided)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return (_named, (self._name,))  # unpickles to the same object, so == and `is` keep working


def _named(name: str) -> layout:
    """The layout object of that name."""
    return LAYOUTS[name]


strided = layout("strided")
LAYOUTS = {"strided": strided}

"""Devices: ember computes on the CPU; asking for another device is a clear error."""

from __future__ import annotations


class device:
    """A device description, as torch.device; only 'cpu' can hold tensors."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, mps, meta, xpu device type at start of device string: {type}"
            )
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        """`with torch.device('cpu'):` makes the CPU the default (it already is); another device is refused."""
        check_device(self)
        return self

    def __exit__(self, *exc) -> None:
        return None


CPU = device("cpu")


def check_device(d) -> None:
    """Accept None or a CPU device; refuse anything else with a message that says why."""
    if d is None:
        return
    if isinstance(d, int):
        d = device("cuda", d)
    dev = d if isinstance(d, device) else device(d)
    if dev.type != "cpu":
        raise RuntimeError(
            f"ember runs on the CPU only; device '{dev}' is not available "
            "(torch.cuda.is_available() is False). Use device='cpu'."
        )


def get_default_device() -> device:
    """The device new tensors go to: always the CPU in ember."""
    return CPU


def set_default_device(d) -> None:
    """Accept the CPU (or None, the default again); any other device is refused, since ember cannot use it."""
    check_device(d)

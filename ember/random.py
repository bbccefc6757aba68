"""Random numbers: PyTorch's CPU generator, a 32-bit Mersenne Twister, reproduced draw for draw.

A Generator holds what torch's CPU generator holds: the twister's 624 words and position, the seed it
was given, and one cached standard normal (the second value of a Box-Muller pair, which the scalar
normal path keeps for the next call). The words come from NumPy's MT19937 bit generator, which runs the
same recurrence; ember sets its state directly, so after ``manual_seed(s)`` both libraries produce the
same 32-bit words. How torch turns those words into samples is in ``_sampling.py``.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator

import numpy as np

_N = 624  # words in the twister's state
_DEFAULT_SEED = 67280421310721  # the seed of a Generator nobody has seeded
_STATE_BYTES = 5056  # the length of torch's CPU generator state
# torch's state layout: initial seed, left, seeded, next, 624 words (each stored in 64 bits), then the
# cached normal (normal_x, normal_y, normal_rho, normal_is_valid) and a float cache torch does not restore.
_HEAD = struct.Struct("<QiiQ")
_TAIL = struct.Struct("<dddi")
_TAIL_AT = _HEAD.size + 8 * _N


def _key_for(seed32: int) -> np.ndarray:
    """The twister's words right after seeding with a 32-bit value (the reference initialisation)."""
    key = np.empty(_N, dtype=np.uint32)
    x = seed32
    key[0] = x
    for i in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return key


def _seed_value(seed) -> int:
    """A seed as torch accepts it: an integer in [-2**63, 2**64); negative ones wrap to 64 bits."""
    if isinstance(seed, bool) or not isinstance(seed, (int, float, str, np.integer, np.floating)):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}") from None
    value = int(seed)
    if not -(2**63) <= value < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return value % 2**64


class Generator:
    """A random number generator whose streams are PyTorch's CPU generator's, value for value."""

    def __repr__(self) -> str:
        from ._printing import default_repr

        return default_repr(self, torch_module="torch._C")

    def __init__(self, device="cpu") -> None:
        from ._device import device as _as_device

        if _as_device(device).type != "cpu":
            raise RuntimeError(f"ember has only CPU generators, got device {device!r}")
        self._bits = None  # NumPy's MT19937, made at the first draw (numpy.random takes ~10 ms to import)
        self._reset(_DEFAULT_SEED)

    # ------------------------------------------------------------------ state
    def _reset(self, seed: int) -> None:
        self._seed = seed
        self._key, self._pos = None, _N  # the words are made when first needed
        self._next = 0  # torch's `next` field, reported until the first draw
        self._drawn = False
        self._normal: float | None = None  # cached second value of a Box-Muller pair
        if self._bits is not None:
            self._load_bits()

    def _load_bits(self) -> None:
        if self._key is None:
            self._key = _key_for(self._seed & 0xFFFFFFFF)
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": self._key, "pos": self._pos}}

    def _stream(self):
        """NumPy's bit generator at this generator's position, wrapped to hand out raw 32-bit words."""
        if self._bits is None:
            from numpy.random import MT19937
            from numpy.random import Generator as NumpyGenerator

            self._bits = MT19937()
            self._load_bits()
            self._numpy = NumpyGenerator(self._bits)
        self._drawn = True
        return self._numpy

    def _words(self) -> tuple[np.ndarray, int]:
        if self._bits is None:
            if self._key is None:
                self._key = _key_for(self._seed & 0xFFFFFFFF)
            return self._key, self._pos
        state = self._bits.state["state"]
        return np.asarray(state["key"], dtype=np.uint32), int(state["pos"])

    # ------------------------------------------------------------------ raw draws
    def _u32(self, n: int) -> np.ndarray:
        """The next n 32-bit words of the stream, as uint32."""
        if n <= 0:
            return np.empty(0, dtype=np.uint32)
        # a full-range uint32 request hands out the twister's words unchanged, in order
        return self._stream().integers(0, 2**32, n, dtype=np.uint32)

    def _u64(self, n: int) -> np.ndarray:
        """n 64-bit values, each made of two words (the first one high), as uint64."""
        pairs = self._u32(2 * n).astype(np.uint64).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    # ------------------------------------------------------------------ torch's API
    def manual_seed(self, seed) -> Generator:
        """Reset the generator to the state the seed gives (only its low 32 bits seed the twister)."""
        self._reset(_seed_value(seed))
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used."""
        value = _entropy_seed()
        self._reset(value)
        return value

    def initial_seed(self) -> int:
        """The seed last given (all 64 bits, though only the low 32 seed the twister)."""
        return self._seed

    def get_state(self):
        """The state as torch lays it out: a uint8 tensor of 5056 bytes, interchangeable with torch's."""
        from ._tensor import Tensor

        key, pos = self._words()
        raw = bytearray(_STATE_BYTES)
        _HEAD.pack_into(raw, 0, self._seed, _N + 1 - pos, 1, pos if self._drawn else self._next)
        raw[_HEAD.size : _TAIL_AT] = key.astype("<u8").tobytes()
        cached = self._normal is not None
        _TAIL.pack_into(raw, _TAIL_AT, 0.0, self._normal if cached else 0.0, 0.0, int(cached))
        return Tensor._wrap(np.frombuffer(bytes(raw), dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from get_state (ember's or torch's)."""
        from ._tensor import Tensor

        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = np.ascontiguousarray(new_state._data).tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG state size "
                f"to be {len(raw)}"
            )
        seed, left, seeded, nxt = _HEAD.unpack_from(raw, 0)
        if seeded != 1 or not 1 <= left <= _N or not 0 <= nxt <= _N:
            raise RuntimeError("Invalid mt19937 state")
        words = np.frombuffer(raw, dtype="<u8", count=_N, offset=_HEAD.size)
        _x, normal_y, _rho, valid = _TAIL.unpack_from(raw, _TAIL_AT)
        self._seed = seed
        self._key, self._pos = (words & np.uint64(0xFFFFFFFF)).astype(np.uint32), _N + 1 - left
        self._next, self._drawn = nxt, False
        self._normal = normal_y if valid else None
        if self._bits is not None:
            self._load_bits()
        return self

    def clone_state(self) -> Generator:
        """A new generator in this one's state."""
        other = Generator()
        other.set_state(self.get_state())
        return other

    def __getstate__(self) -> dict:
        return {"state": self.get_state()._data.tobytes()}

    def __setstate__(self, d: dict) -> None:
        from ._tensor import Tensor

        self._bits = None
        self._reset(_DEFAULT_SEED)
        self.set_state(Tensor._wrap(np.frombuffer(d["state"], dtype=np.uint8).copy()))

    @property
    def device(self):
        """The CPU."""
        from ._device import CPU

        return CPU


def _entropy_seed() -> int:
    """64 bits from the operating system."""
    import os

    return int.from_bytes(os.urandom(8), "little")


# As in torch, a new Generator starts from a fixed seed, the global one from the operating system's entropy
# (so unseeded programs differ from run to run).
default_generator = Generator()
default_generator._reset(_entropy_seed())


def generator_or_default(generator: Generator | None = None) -> Generator:
    """The generator to draw from: the one given, else the global one."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a torch.Generator, not {type(generator).__name__}")
    return generator


def manual_seed(seed) -> Generator:
    """Seed the global generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The global generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state (torch's 5056-byte layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator's state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(
    devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices", device_type="cuda"
) -> Iterator[None]:
    """Run a block and put the global generator back as it was before it."""
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)

"""Random numbers: the global generator behind manual_seed, rand, randn, randint, ..."""

from __future__ import annotations

import numpy as np


class Generator:
    """A random number generator; ember.manual_seed seeds the global one."""

    def __repr__(self) -> str:
        from ._printing import default_repr

        return default_repr(self, torch_module="torch._C")

    def __init__(self, device="cpu") -> None:
        self._seed = 67280421310721
        self._numpy_rng: np.random.Generator | None = (
            None  # made at the first draw: numpy.random takes ~10 ms to import
        )

    @property
    def _rng(self) -> np.random.Generator:
        if self._numpy_rng is None:
            self._numpy_rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._numpy_rng

    @_rng.setter
    def _rng(self, rng: np.random.Generator) -> None:
        self._numpy_rng = rng

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to a deterministic state."""
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy and return the seed."""
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The generator's state, as a uint8 tensor (restorable with set_state)."""
        import json

        from ._tensor import Tensor

        # JSON, not pickle: a state read back from a checkpoint file must never be able to run code
        raw = json.dumps({"seed": self._seed, "bit_generator": self._rng.bit_generator.state}).encode()
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, state) -> Generator:
        """Restore a state returned by get_state."""
        import json

        from ._tensor import Tensor

        data = state._data if isinstance(state, Tensor) else np.asarray(state)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError(f"RNG state must be a 1-D uint8 tensor, got {data.dtype} with shape {tuple(data.shape)}")
        try:
            decoded = json.loads(data.tobytes().decode())
            seed, bit_state = int(decoded["seed"]), decoded["bit_generator"]
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = bit_state
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"invalid RNG state (not one returned by get_rng_state): {e}") from None
        self._seed = seed
        self._rng = rng
        return self

    @property
    def device(self):
        """The CPU."""
        from ._device import CPU

        return CPU


default_generator = Generator()


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from."""
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (and NumPy's legacy one, as ember's data tools draw from it)."""
    default_generator.manual_seed(seed)
    return default_generator


def seed() -> int:
    """Seed the global generator non-deterministically."""
    return default_generator.seed()


def initial_seed() -> int:
    """The global generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state."""
    return default_generator.get_state()


def set_rng_state(state) -> None:
    """Restore the global generator's state."""
    default_generator.set_state(state)

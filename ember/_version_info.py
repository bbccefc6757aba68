"""The PyTorch and torchvision releases whose API and numbers ember follows (what `torch.__version__` and
`torchvision.__version__` read under `ember run`)."""

from __future__ import annotations

import re


class ReleaseVersion(str):
    """A version string that compares as a release number, as torch's own `__version__` does:
    `torch.__version__ >= "2.9"` holds for 2.13.0, where plain strings would compare "1" < "9"."""

    @staticmethod
    def _key(text) -> tuple:
        if isinstance(text, (tuple, list)):
            return tuple(int(v) for v in text)
        return tuple(int(v) for v in re.findall(r"\d+", str(text).split("+")[0])[:3])

    def _cmp(self, other) -> int:
        a, b = self._key(self), self._key(other)
        width = max(len(a), len(b))
        a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
        return (a > b) - (a < b)

    def __lt__(self, other) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other) -> bool:
        return self._cmp(other) >= 0

    __hash__ = str.__hash__


TORCH_API = ReleaseVersion("2.13.0")
TORCHVISION_API = ReleaseVersion("0.28.0")

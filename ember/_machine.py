"""The choices ember makes by looking at the machine it runs on, and the switch that forces each one's fallback.

A fast path or an exact-rounding path that depends on what a check finds (which BLAS NumPy loaded, how its
axpy rounds, which thread count is faster for a product right now, whether this interpreter's reference
counts were verified) has a fallback that is correct everywhere. Setting the environment variable
EMBER_FALLBACKS before ember is imported forces fallbacks by name, so both outcomes can be tested and
measured on any one machine:

    EMBER_FALLBACKS=all            every fallback below
    EMBER_FALLBACKS=machine        those whose check reads the CPU, its BLAS, the C library or the clock
    EMBER_FALLBACKS=axpy,threads   a comma-separated selection

docs/performance.md lists what each check looks at and what its fallback costs.
"""

from __future__ import annotations

import os

ENV = "EMBER_FALLBACKS"

CHOICES: dict[str, str] = {
    "openblas": "reach NumPy's OpenBLAS through ctypes (fallback: NumPy only; no thread control, no axpy)",
    "axpy": "optimizer updates through a BLAS axpy checked to round once (fallback: two NumPy ufuncs)",
    "threads": "per-shape choice of one BLAS thread or all, by timing (fallback: always the configured count)",
    "grad-reuse": "hand a leaf its gradient buffer when reference counts allow (fallback: copy it)",
    "errstate": "quiet NumPy's float warnings through its error-state context variable (fallback: np.errstate)",
    "malloc": "on glibc, heap blocks up to 32 MiB and a 256 MiB top pad so large temporaries keep their pages (fallback: C library defaults)",
    "load": "ember train uses fewer BLAS threads when other work keeps the CPUs busy (load average) (fallback: all of them)",
}


# The choices whose outcome differs between machines with the same Python and NumPy: another CPU, another
# BLAS, another C library, another load. (grad-reuse depends on the interpreter's version, errstate on NumPy's.)
MACHINE = ("openblas", "axpy", "threads", "malloc", "load")


def _parse(value: str) -> frozenset[str]:
    names = {part.strip() for part in value.split(",") if part.strip()}
    if "all" in names:
        return frozenset(CHOICES)
    if "machine" in names:
        names = (names - {"machine"}) | set(MACHINE)
    unknown = sorted(names - set(CHOICES))
    if unknown:
        known = ", ".join(["all", "machine", *CHOICES])
        raise ValueError(f"{ENV}: unknown choice {unknown[0]!r} (known: {known})")
    return frozenset(names)


_forced = _parse(os.environ.get(ENV, ""))


def forced(name: str) -> bool:
    """Whether the fallback of the machine-dependent choice `name` is forced through EMBER_FALLBACKS."""
    return name in _forced


def outcomes() -> dict[str, str]:
    """What every machine-dependent choice found on this machine (or was forced to), in words."""
    from . import _allocator, _blas, _quiet_floats
    from .autograd import engine

    found = _blas.outcomes()
    found["grad-reuse"] = "on" if engine._REFCOUNTS_CHECKED else "off (copies)"
    found["errstate"] = "NumPy's context variable" if _quiet_floats.FAST else "np.errstate"
    found["malloc"] = _allocator.outcome()
    found["load"] = _blas.load_outcome()
    return found

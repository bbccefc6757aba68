"""The C heap's top pad: whether large temporaries find their pages already mapped.

A convolution step allocates and frees tens of megabytes of columns and gradients. With glibc's defaults the
heap is trimmed back to the system after the step, and the next step faults every page in again, which
doubled the time of a small CNN's training step here. On glibc, ember asks malloc (once, the first time a
convolution or pooling op runs) to keep TOP_PAD bytes at the top of the heap; untouched pages cost no
memory. Elsewhere, or with EMBER_FALLBACKS=malloc, the C library's defaults stay."""

from __future__ import annotations

import ctypes
import sys

from ._machine import forced

TOP_PAD = 256 << 20
_M_TOP_PAD = -2  # glibc's mallopt parameter number

_outcome: list[str] = []  # empty until the first call of keep_heap_pages


def keep_heap_pages() -> None:
    """Once per process: on glibc, raise malloc's top pad to TOP_PAD (a no-op elsewhere or when forced off)."""
    if _outcome:
        return
    mallopt, reason = _mallopt()
    if mallopt is not None and mallopt(_M_TOP_PAD, TOP_PAD) != 1:
        reason = "C library defaults (mallopt refused)"
    _outcome.append(reason)


def _mallopt():
    """glibc's mallopt and what calling it will do, or None and why the defaults stay."""
    if forced("malloc"):
        return None, "C library defaults (forced)"
    if not sys.platform.startswith("linux"):
        return None, "C library defaults (not glibc)"
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version  # only glibc has it
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None, "C library defaults (not glibc)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt, f"glibc heap keeps a {TOP_PAD >> 20} MiB top pad"


def outcome() -> str:
    """What keep_heap_pages did, in words; before the first convolution, what it will do (changing nothing)."""
    if _outcome:
        return _outcome[0]
    return _mallopt()[1] + " (from the first convolution)"

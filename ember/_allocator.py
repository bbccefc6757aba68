"""The C heap's top pad: whether large temporaries find their pages already mapped.

A convolution step allocates and frees tens of megabytes of columns and gradients. With glibc's defaults the
heap is trimmed back to the system after the step, or a buffer over the mmap threshold gets fresh pages from
the kernel, and the next step faults every page in again, which doubled the time of a small CNN's training
step here. On glibc, ember asks malloc (once, the first time a convolution or pooling op runs) to keep
TOP_PAD bytes at the top of the heap and to serve blocks up to MMAP_THRESHOLD from the heap; untouched pages
cost no memory. Setting the top pad alone is not enough: it freezes glibc's sliding mmap threshold wherever it
stands, which depends on what the process freed before (measured: 2,600 page faults per LeNet step in some
processes, none in others). Elsewhere, or with EMBER_FALLBACKS=malloc, the C library's defaults stay."""

from __future__ import annotations

import ctypes
import sys

from ._machine import forced

TOP_PAD = 256 << 20
MMAP_THRESHOLD = 32 << 20  # the largest value glibc accepts on 64-bit systems
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc's mallopt parameter numbers

_outcome: list[str] = []  # empty until the first call of keep_heap_pages


def keep_heap_pages() -> None:
    """Once per process: on glibc, set malloc's top pad and mmap threshold (a no-op elsewhere or when forced off)."""
    if _outcome:
        return
    mallopt, reason = _mallopt()
    if mallopt is not None:
        took = [mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1, mallopt(_M_TOP_PAD, TOP_PAD) == 1]
        if not all(took):
            reason = (
                "C library defaults (mallopt refused)" if not any(took) else reason + " (partly: mallopt refused one)"
            )
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
    return mallopt, f"glibc heap keeps a {TOP_PAD >> 20} MiB top pad, mmap above {MMAP_THRESHOLD >> 20} MiB"


def outcome() -> str:
    """What keep_heap_pages did, in words; before the first convolution, what it will do (changing nothing)."""
    if _outcome:
        return _outcome[0]
    return _mallopt()[1] + " (from the first convolution)"

"""How much a data or checkpoint file may make ember allocate, checked before the allocation.

A small file can declare a huge size (a header, a pickle) or inflate to one (gzip, deflate). ember compares
what a file declares with the limit before allocating or decompressing it, and refuses with one line that
names the file and the limit: 2 GiB for data and tensor storage, 16 MiB for a checkpoint's pickle (its
metadata: unpickling costs about 0.2 s of CPU per MiB of opcodes). A trusted larger file loads after
raising the limit, for one process: EMBER_MAX_FILE_BYTES=<bytes> in the environment (for example 8e9)
sets both."""

from __future__ import annotations

import os

ENV = "EMBER_MAX_FILE_BYTES"
DEFAULT_MAX_FILE_BYTES = 2 << 30  # 2 GiB: every data set and model ember's workflow is meant for fits
DEFAULT_MAX_PICKLE_BYTES = 16 << 20  # unpickling costs about 0.2 s per MiB of opcodes: 3 s at most


def _from_env() -> int | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        raise ValueError(f"{ENV}={text!r} is not a number of bytes") from None
    return value if value > 0 else None


def explicit_limit() -> bool:
    """Whether the user set EMBER_MAX_FILE_BYTES (a trusted file: the ratio checks stand down too)."""
    return _from_env() is not None


def max_file_bytes() -> int:
    """The limit in bytes for data and storage: EMBER_MAX_FILE_BYTES when set, else 2 GiB."""
    return _from_env() or DEFAULT_MAX_FILE_BYTES


def max_pickle_bytes() -> int:
    """The limit in bytes for a checkpoint's pickle: EMBER_MAX_FILE_BYTES when set, else 16 MiB."""
    return _from_env() or DEFAULT_MAX_PICKLE_BYTES


def too_big(what: str, size: int, limit: int | None = None) -> str:
    """The message for a file part of `size` bytes over the limit (the data limit unless given)."""
    limit = max_file_bytes() if limit is None else limit
    return f"{what} needs {size:,} bytes, over ember's limit of {limit:,} (for a trusted file, raise it with {ENV}=<bytes>)"

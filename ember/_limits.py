"""How much a data or checkpoint file may make ember allocate, checked before the allocation.

A small file can declare a huge size (a header, a pickle) or inflate to one (gzip, deflate). ember compares
what a file declares with MAX_FILE_BYTES before allocating or decompressing it, and refuses with one line
that names the file and the limit. A trusted larger file loads after raising the limit, for one process:
EMBER_MAX_FILE_BYTES=<bytes> in the environment (for example 8e9)."""

from __future__ import annotations

import os

ENV = "EMBER_MAX_FILE_BYTES"
DEFAULT_MAX_FILE_BYTES = 2 << 30  # 2 GiB: every data set and model ember's workflow is meant for fits


def max_file_bytes() -> int:
    """The limit in bytes: EMBER_MAX_FILE_BYTES when set to a positive number, else 2 GiB."""
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            value = int(float(text))
        except ValueError:
            raise ValueError(f"{ENV}={text!r} is not a number of bytes") from None
        if value > 0:
            return value
    return DEFAULT_MAX_FILE_BYTES


def too_big(what: str, size: int) -> str:
    """The message for a file part of `size` bytes over the limit."""
    return (
        f"{what} needs {size:,} bytes, over ember's limit of {max_file_bytes():,} for one file "
        f"(for a trusted file, raise it with {ENV}=<bytes>)"
    )

"""Reading IDX files (the MNIST family's format), plain or gzip-compressed, with strict checks."""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

# type code -> big-endian element type
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """An IDX file is corrupt or truncated; the message names the file and the byte offset."""


def _read_bytes(path: str) -> bytes:
    """The file's content, decompressed when it is gzip."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>", expect_ndim: int | None = None) -> np.ndarray:
    """Decode IDX bytes into a native-endian array, checking magic number, type, dimensions and length."""
    if len(raw) < 4:
        raise IDXFormatError(
            f"{name}: truncated IDX header: file has {len(raw)} bytes, the magic number needs 4 (offset 0)"
        )
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(
            f"{name}: bad IDX magic number {raw[:4].hex()} at offset 0 (must start with two zero bytes)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise IDXFormatError(f"{name}: unknown IDX element type 0x{code:02x} at offset 2")
    if ndim == 0:
        raise IDXFormatError(f"{name}: IDX file declares 0 dimensions at offset 3")
    if expect_ndim is not None and ndim != expect_ndim:
        raise IDXFormatError(f"{name}: expected an IDX file with {expect_ndim} dimensions, found {ndim} at offset 3")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, file has {len(raw)} (offset {len(raw)})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    need = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) < need:
        raise IDXFormatError(
            f"{name}: truncated IDX data: shape {shape} needs {need} bytes, file ends at offset {len(raw)}"
        )
    if len(raw) > need:
        raise IDXFormatError(f"{name}: {len(raw) - need} unexpected trailing bytes after offset {need}")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, expect_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or .gz) into an array."""
    path = os.fspath(path)
    return parse_idx(_read_bytes(path), path, expect_ndim)


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """An images file: uint8 array N x rows x cols."""
    arr = read_idx(path, expect_ndim=3)
    if arr.dtype != np.uint8:
        raise IDXFormatError(f"{os.fspath(path)}: image file holds {arr.dtype}, expected uint8 (offset 2)")
    return arr


def read_label_file(path: str | os.PathLike) -> np.ndarray:
    """A labels file: int64 array N."""
    arr = read_idx(path, expect_ndim=1)
    if arr.dtype != np.uint8:
        raise IDXFormatError(f"{os.fspath(path)}: label file holds {arr.dtype}, expected uint8 (offset 2)")
    return arr.astype(np.int64)

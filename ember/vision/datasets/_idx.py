"""Reading IDX files (the MNIST family's format), plain or gzip-compressed, with strict checks."""

from __future__ import annotations

import math
import os
import zlib

import numpy as np

from ..._limits import max_file_bytes, too_big

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
    """The file's content, decompressed when it is gzip: only as far as its IDX header says it reaches (plus
    one byte, to notice trailing data), and never past the file-size limit."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        head = _inflate(raw, 4 + 4 * 255)  # the longest IDX header
        need = _declared_size(head)
        limit = max_file_bytes()
        if need is not None and need > limit:
            raise IDXFormatError(f"{path}: {too_big('the decompressed IDX data', need)}")
        return _inflate(raw, (need if need is not None else limit) + 1)
    except (EOFError, OSError, zlib.error) as e:
        raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({e})") from None


def _inflate(raw: bytes, most: int) -> bytes:
    """The first `most` bytes (or fewer, if it ends) of gzip data, members one after another."""
    out = bytearray()
    data = raw
    while data and len(out) < most:
        d = zlib.decompressobj(31)
        out += d.decompress(data, most - len(out))
        while not d.eof and d.unconsumed_tail and len(out) < most:
            out += d.decompress(d.unconsumed_tail, most - len(out))
        if len(out) >= most:
            break
        if not d.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        data = d.unused_data
    return bytes(out[:most])


def _declared_size(head: bytes) -> int | None:
    """The total size an IDX header declares (header and data), or None when the header is unreadable."""
    if len(head) < 4 or head[2] not in _IDX_TYPES or len(head) < 4 + 4 * head[3]:
        return None
    ndim = head[3]
    shape = np.frombuffer(head, dtype=">u4", count=ndim, offset=4)
    return 4 + 4 * ndim + math.prod(int(d) for d in shape) * _IDX_TYPES[head[2]].itemsize


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
    need = header + math.prod(shape) * dtype.itemsize  # Python integers: no overflow, however large the dims
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

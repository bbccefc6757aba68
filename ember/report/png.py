"""A tiny PNG encoder (8-bit grayscale or RGB), so the report can inline example images without Pillow."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, payload and the CRC over type + payload."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes for a uint8 array of shape (H, W) (grayscale) or (H, W, 3) (RGB)."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"encode_png expects uint8 pixels, got {pixels.dtype}; scale to 0..255 and cast first")
    if pixels.ndim == 2:
        color_type = 0
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        color_type = 2
    else:
        raise ValueError(f"encode_png expects shape (H, W) or (H, W, 3), got {pixels.shape}")
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"encode_png needs a non-empty image, got shape {pixels.shape}")
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    rows = np.ascontiguousarray(pixels).reshape(height, -1)
    # every scanline starts with filter type 0 (none); zlib does the compressing
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def png_data_uri(pixels: np.ndarray) -> str:
    """The image as a data: URI, ready for an <img src=...> in a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(encode_png(pixels)).decode("ascii")


def to_uint8_image(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) scaled to uint8 0..255."""
    scaled = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0), 0.0, 1.0) * 255.0
    return np.rint(scaled).astype(np.uint8)

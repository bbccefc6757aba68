"""torchvision.io: reading and writing image files as uint8 (C, H, W) tensors (through Pillow)."""

from __future__ import annotations

from .image import (
    ImageReadMode,
    decode_image,
    decode_jpeg,
    decode_png,
    encode_png,
    read_file,
    read_image,
    write_file,
    write_png,
)

__all__ = [
    "ImageReadMode",
    "decode_image",
    "decode_jpeg",
    "decode_png",
    "encode_png",
    "read_file",
    "read_image",
    "write_file",
    "write_png",
]

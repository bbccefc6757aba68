"""Image files to and from uint8 (C, H, W) tensors, as torchvision.io does, decoded and encoded by Pillow.

PNG pixels are exact. JPEG is lossy and decoders may round differently: Pillow's libjpeg and the one
torchvision was built with usually agree, but a pixel may differ in its last bits (and GRAY from a colour PNG
uses Pillow's luma weights, which can differ from libpng's by one level). Encoded PNG bytes hold the same
pixels as torchvision's but need not be the same bytes (the encoders choose filters differently)."""

from __future__ import annotations

import io
import os
from enum import Enum

import numpy as np

from ..._tensor import Tensor
from .._pillow import pillow

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


class ImageReadMode(Enum):
    """The channels a decoded image is converted to (a mode may also be given as a string, e.g. "RGB")."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA  # the same mode under a shorter name


# the Pillow mode each read mode converts to
_PIL_MODE = {
    ImageReadMode.GRAY: "L",
    ImageReadMode.GRAY_ALPHA: "LA",
    ImageReadMode.RGB: "RGB",
    ImageReadMode.RGB_ALPHA: "RGBA",
}
_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def _read_mode(mode) -> ImageReadMode:
    if isinstance(mode, str):
        return ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a string, got {type(mode).__name__}")
    return mode


def _bytes_tensor(data: bytes) -> Tensor:
    from ..._creation import from_numpy

    return from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def _encoded_bytes(input: Tensor) -> bytes:
    """The raw bytes held by a one-dimensional uint8 tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"input should be a Tensor, got {type(input).__name__}")
    if input._data.dtype != np.uint8:
        raise RuntimeError("Expected a torch.uint8 tensor")
    if input.dim() != 1 or input.numel() == 0:
        raise RuntimeError("Expected a non empty 1-dimensional tensor")
    return np.ascontiguousarray(input.detach()._data).tobytes()


def read_file(path: str | os.PathLike) -> Tensor:
    """A file's contents as a one-dimensional uint8 tensor."""
    with open(os.fspath(path), "rb") as f:
        return _bytes_tensor(f.read())


def write_file(filename: str | os.PathLike, data: Tensor) -> None:
    """Write the bytes held by a one-dimensional uint8 tensor to a file."""
    if not isinstance(data, Tensor) or data._data.dtype != np.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if data.dim() != 1:
        raise RuntimeError("Input data should be a 1-dimensional tensor")
    with open(os.fspath(filename), "wb") as f:
        f.write(np.ascontiguousarray(data.detach()._data).tobytes())


def _kind(data: bytes) -> str:
    """The format an encoded image announces in its first bytes."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"GIF8":
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def _is_16_bit(img) -> bool:
    """Whether a PNG stores 16 bits per sample (Pillow names its raw layout with ';16')."""
    if img.mode.startswith("I"):
        return True
    return any(isinstance(t[3], str) and ";16" in t[3] for t in getattr(img, "tile", ()) or ())


def _decode(data: bytes, kind: str, mode: ImageReadMode, apply_exif_orientation: bool) -> Tensor:
    Image = pillow(what="decoding images")
    img = Image.open(io.BytesIO(data))
    if kind == "jpeg":
        if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
            raise RuntimeError("The provided mode is not supported for JPEG files")
        if mode is ImageReadMode.GRAY and img.mode == "RGB":
            img.draft("L", img.size)  # libjpeg itself outputs the luma channel, as torchvision asks it to
    elif _is_16_bit(img):
        raise NotImplementedError(
            "ember does not implement torchvision.io decoding of 16-bit PNG images (they decode to uint16)"
        )
    img.load()
    if apply_exif_orientation:
        img = pillow("ImageOps", what="decoding images").exif_transpose(img)
    if img.mode == "P" and mode is ImageReadMode.UNCHANGED:
        # as torchvision (libpng without palette expansion): one channel of palette indices, e.g. class ids
        indices = np.asarray(img, dtype=np.uint8)
        from ..._creation import from_numpy

        return from_numpy(np.ascontiguousarray(indices[None]))
    if img.mode in ("P", "PA"):  # palette: the colours it names, with alpha where the palette has some
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    elif img.mode == "CMYK":
        img = img.convert("RGB")
    elif img.mode == "1":
        img = img.convert("L")
    target = _PIL_MODE.get(mode, img.mode)
    if target not in _CHANNELS:
        raise RuntimeError(f"ember cannot decode {kind.upper()} images of Pillow mode {img.mode!r}")
    if img.mode != target:
        img = img.convert(target)
    pixels = np.asarray(img, dtype=np.uint8).reshape(img.size[1], img.size[0], _CHANNELS[target])
    from ..._creation import from_numpy

    return from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def decode_image(
    input: Tensor | str | os.PathLike,
    mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
    apply_exif_orientation: bool = False,
) -> Tensor:
    """Decode a PNG or JPEG image, given as a path or as a uint8 tensor of its bytes, into a uint8 (C, H, W) tensor."""
    if not isinstance(input, Tensor):
        input = read_file(input)
    data = _encoded_bytes(input)
    mode = _read_mode(mode)
    kind = _kind(data)
    if kind in ("gif", "webp"):
        raise NotImplementedError(f"ember does not implement torchvision.io.decode_image for {kind.upper()} images")
    if kind == "unknown":
        raise RuntimeError("Unsupported image file. Only jpeg, png, webp and gif are currently supported.")
    return _decode(data, kind, mode, apply_exif_orientation)


def read_image(
    path: str | os.PathLike,
    mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
    apply_exif_orientation: bool = False,
) -> Tensor:
    """Read a PNG or JPEG file into a uint8 (C, H, W) tensor (decode_image on the file's bytes)."""
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


def decode_png(
    input: Tensor, mode: ImageReadMode | str = ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False
) -> Tensor:
    """Decode the bytes of a PNG image into a uint8 (C, H, W) tensor."""
    data = _encoded_bytes(input)
    if _kind(data) != "png":
        raise RuntimeError("Content is not png")
    return _decode(data, "png", _read_mode(mode), apply_exif_orientation)


def decode_jpeg(
    input: Tensor | list[Tensor],
    mode: ImageReadMode | str = ImageReadMode.UNCHANGED,
    device: str = "cpu",
    apply_exif_orientation: bool = False,
) -> Tensor | list[Tensor]:
    """Decode the bytes of a JPEG image (or a list of them) into uint8 (C, H, W) tensors."""
    from ..._device import device as as_device

    if as_device(device).type != "cpu":
        raise RuntimeError("ember decodes JPEG images on the CPU only")
    if isinstance(input, list):
        if not input:
            raise ValueError("Input list must contain at least one element")
        return [decode_jpeg(item, mode, device, apply_exif_orientation) for item in input]
    data = _encoded_bytes(input)
    if _kind(data) != "jpeg":
        raise RuntimeError("Not a JPEG file")
    return _decode(data, "jpeg", _read_mode(mode), apply_exif_orientation)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """The bytes of a PNG file holding a uint8 (C, H, W) image of 1 or 3 channels, as a uint8 tensor."""
    if not isinstance(input, Tensor) or input._data.dtype != np.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.dim() != 3:
        raise RuntimeError("Input data should be a 3-dimensional tensor")
    channels = input.size(0)
    if channels not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {channels}")
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    Image = pillow(what="encoding PNG images")
    hwc = np.ascontiguousarray(input.detach()._data.transpose(1, 2, 0))
    img = Image.fromarray(hwc[:, :, 0] if channels == 1 else hwc)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=int(compression_level))
    return _bytes_tensor(buffer.getvalue())


def write_png(input: Tensor, filename: str | os.PathLike, compression_level: int = 6) -> None:
    """Save a uint8 (C, H, W) image of 1 or 3 channels as a PNG file."""
    write_file(filename, encode_png(input, compression_level))

"""torchvision.io on Pillow: files to uint8 (C, H, W) tensors and back, the read modes, the errors."""

from __future__ import annotations

import io
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import io as vio
from ember.vision.io import ImageReadMode


def pixels(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def encoded(img: Image.Image, format="PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=format, **kwargs)
    return buffer.getvalue()


def as_tensor(data: bytes) -> ember.Tensor:
    return ember.tensor(np.frombuffer(data, dtype=np.uint8).copy())


def chw(arr: np.ndarray) -> np.ndarray:
    return (arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)).copy()


def decoded(data: bytes, mode=ImageReadMode.UNCHANGED, **kwargs) -> np.ndarray:
    out = vio.decode_image(as_tensor(data), mode, **kwargs)
    assert out.dtype == ember.uint8 and out.dim() == 3
    return out.numpy()


def png_bytes(arr: np.ndarray, color_type: int, bit_depth: int = 8) -> bytes:
    """A minimal PNG written by hand (for layouts Pillow does not write, such as 16-bit RGB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + row.tobytes() for row in arr.reshape(h, -1))
    header = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


SOURCES = {
    "L": pixels((5, 7)),
    "LA": pixels((5, 7, 2), 1),
    "RGB": pixels((5, 7, 3), 2),
    "RGBA": pixels((5, 7, 4), 3),
}


@pytest.mark.parametrize("mode", list(SOURCES))
def test_png_unchanged_gives_the_stored_pixels(mode):
    arr = SOURCES[mode]
    data = encoded(Image.fromarray(arr, mode))
    np.testing.assert_array_equal(decoded(data), chw(arr))


@pytest.mark.parametrize("mode", list(SOURCES))
def test_png_read_modes_convert_channels(mode):
    arr = SOURCES[mode].reshape(5, 7, -1)
    data = encoded(Image.fromarray(SOURCES[mode], mode))
    color = arr[:, :, :3] if arr.shape[2] >= 3 else np.repeat(arr[:, :, :1], 3, axis=2)
    alpha = arr[:, :, -1:] if arr.shape[2] in (2, 4) else np.full((5, 7, 1), 255, np.uint8)
    np.testing.assert_array_equal(decoded(data, ImageReadMode.RGB), chw(color))
    np.testing.assert_array_equal(decoded(data, ImageReadMode.RGB_ALPHA), chw(np.concatenate([color, alpha], 2)))
    gray = decoded(data, ImageReadMode.GRAY)
    luma = color.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert gray.shape == (1, 5, 7) and np.abs(gray[0] - luma).max() <= 1.0  # one level between luma roundings
    gray_alpha = decoded(data, ImageReadMode.GRAY_ALPHA)
    np.testing.assert_array_equal(gray_alpha, np.concatenate([gray, chw(alpha)]))


def test_palette_and_one_bit_pngs_expand():
    rgb = pixels((6, 6, 3), 4)
    palette = Image.fromarray(rgb).quantize(16)
    expect = np.asarray(palette.convert("RGB"))
    # UNCHANGED keeps the palette indices in one channel (torchvision's libpng does not expand them), the
    # colour modes give the colours
    np.testing.assert_array_equal(decoded(encoded(palette)), np.asarray(palette)[None])
    np.testing.assert_array_equal(decoded(encoded(palette), ImageReadMode.RGB), chw(expect))
    palette.info["transparency"] = 0
    clear = decoded(encoded(palette, transparency=0), ImageReadMode.RGB_ALPHA)
    assert clear.shape == (4, 6, 6) and set(np.unique(clear[3])) <= {0, 255} and (clear[3] == 0).any()
    bits = Image.fromarray(pixels((4, 9), 5) > 127)
    np.testing.assert_array_equal(decoded(encoded(bits)), chw(np.asarray(bits).astype(np.uint8) * 255))


def test_modes_by_name_and_alias():
    data = encoded(Image.fromarray(SOURCES["L"]))
    assert ImageReadMode.RGBA is ImageReadMode.RGB_ALPHA
    assert [m.value for m in ImageReadMode] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(decoded(data, "rgb"), decoded(data, ImageReadMode.RGB))
    assert decoded(data, "RGBA").shape == (4, 5, 7)


def test_read_image_and_decode_image_take_a_path(tmp_path):
    arr = SOURCES["RGB"]
    Image.fromarray(arr).save(tmp_path / "a.png")
    for out in (
        vio.read_image(tmp_path / "a.png"),
        vio.read_image(str(tmp_path / "a.png")),
        vio.decode_image(tmp_path / "a.png"),
    ):
        assert out.dtype == ember.uint8
        np.testing.assert_array_equal(out.numpy(), chw(arr))
    gray = vio.read_image(tmp_path / "a.png", mode=ImageReadMode.GRAY)
    assert gray.shape == (1, 5, 7)


def test_jpeg_decodes_as_pillows_libjpeg_does(tmp_path):
    rgb = Image.fromarray(np.kron(pixels((4, 5, 3), 6), np.ones((4, 4, 1), np.uint8)))
    data = encoded(rgb, "JPEG", quality=90)
    with Image.open(io.BytesIO(data)) as img:
        np.testing.assert_array_equal(decoded(data), chw(np.asarray(img)))
    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", img.size)  # libjpeg's own grayscale output
        np.testing.assert_array_equal(decoded(data, ImageReadMode.GRAY), chw(np.asarray(img)))
    assert decoded(data, "RGB").shape == (3, 16, 20)
    for mode in (ImageReadMode.RGB_ALPHA, ImageReadMode.GRAY_ALPHA):
        with pytest.raises(RuntimeError, match="not supported for JPEG"):
            vio.decode_image(as_tensor(data), mode)
    gray = encoded(Image.fromarray(pixels((8, 8), 7)), "JPEG")
    assert decoded(gray).shape == (1, 8, 8) and decoded(gray, "RGB").shape == (3, 8, 8)
    assert [t.shape for t in vio.decode_jpeg([as_tensor(data), as_tensor(gray)])] == [(3, 16, 20), (1, 8, 8)]
    with pytest.raises(RuntimeError, match="Not a JPEG"):
        vio.decode_jpeg(as_tensor(encoded(Image.fromarray(SOURCES["L"]))))


def test_exif_orientation_is_applied_on_request():
    arr = SOURCES["L"]
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: turn 90 degrees clockwise to show
    data = encoded(Image.fromarray(arr), exif=exif)
    np.testing.assert_array_equal(decoded(data), chw(arr))
    np.testing.assert_array_equal(decoded(data, apply_exif_orientation=True), chw(np.rot90(arr, k=-1)))


def test_encode_png_round_trips_and_write_png(tmp_path):
    for arr in (pixels((3, 6, 5), 8), pixels((1, 6, 5), 9)):
        for level in (0, 6, 9):
            data = vio.encode_png(ember.tensor(arr), compression_level=level)
            assert data.dtype == ember.uint8 and data.dim() == 1
            np.testing.assert_array_equal(vio.decode_png(data).numpy(), arr)
        vio.write_png(ember.tensor(arr), tmp_path / "out.png")
        with Image.open(tmp_path / "out.png") as img:
            np.testing.assert_array_equal(chw(np.asarray(img)), arr)


def test_read_file_and_write_file(tmp_path):
    payload = bytes(range(256)) * 3
    (tmp_path / "blob").write_bytes(payload)
    data = vio.read_file(tmp_path / "blob")
    assert data.dtype == ember.uint8 and data.shape == (768,)
    vio.write_file(tmp_path / "copy", data)
    assert (tmp_path / "copy").read_bytes() == payload


def test_errors():
    png = as_tensor(encoded(Image.fromarray(SOURCES["RGB"])))
    with pytest.raises(RuntimeError, match="uint8"):
        vio.decode_image(png.to(ember.int32))
    with pytest.raises(RuntimeError, match="1-dimensional"):
        vio.decode_image(png[None])
    with pytest.raises(RuntimeError, match="Unsupported image file"):
        vio.decode_image(ember.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="Content is not png"):
        vio.decode_png(as_tensor(encoded(Image.fromarray(SOURCES["RGB"]), "JPEG")))
    with pytest.raises(NotImplementedError, match="GIF"):
        vio.decode_image(as_tensor(encoded(Image.fromarray(SOURCES["RGB"]), "GIF")))
    for arr, color_type in ((np.zeros((2, 3), ">u2"), 0), (np.zeros((2, 3, 3), ">u2"), 2)):
        with pytest.raises(NotImplementedError, match="16-bit"):
            vio.decode_image(as_tensor(png_bytes(arr, color_type, 16)))
    with pytest.raises(RuntimeError, match="1 or 3"):
        vio.encode_png(ember.zeros(2, 4, 4, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="uint8"):
        vio.encode_png(ember.zeros(3, 4, 4))
    with pytest.raises(RuntimeError, match="3-dimensional"):
        vio.encode_png(ember.zeros(4, 4, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="between 0 and 9"):
        vio.encode_png(ember.zeros(3, 4, 4, dtype=ember.uint8), compression_level=10)


def test_hand_written_png_helper_is_a_valid_png():
    arr = pixels((3, 4, 3), 10)
    np.testing.assert_array_equal(decoded(png_bytes(arr, 2)), chw(arr))


def test_decoding_without_pillow_names_the_extra(monkeypatch):
    png = as_tensor(encoded(Image.fromarray(SOURCES["RGB"])))
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"ember\[vision\]"):
        vio.decode_image(png)

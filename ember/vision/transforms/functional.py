"""Image transforms as functions, for PIL images and ember tensors shaped (..., C, H, W)."""

from __future__ import annotations

import numbers
import sys
from collections.abc import Sequence
from enum import Enum

import numpy as np

from ..._tensor import Tensor

_PIL_HINT = "ember.vision works on PIL images here and needs Pillow: pip install pillow"


def _pil():
    """The PIL.Image module, or a clear ImportError."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(_PIL_HINT) from e
    return Image


def _is_pil(img) -> bool:
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(img, mod.Image)


def _check_image(img) -> None:
    if not (_is_pil(img) or isinstance(img, Tensor)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


class InterpolationMode(Enum):
    """How pixels are resampled."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's resampling filter numbers
_PIL_FILTERS = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.LANCZOS: 1,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
    InterpolationMode.NEAREST_EXACT: 0,  # PIL's nearest already samples pixel centres, as nearest-exact means
}


def _interp(mode) -> InterpolationMode:
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int):
        for k, v in _PIL_FILTERS.items():
            if v == mode:
                return k
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant")


def get_dimensions(img) -> list[int]:
    """[channels, height, width] of an image."""
    if _is_pil(img):
        w, h = img.size
        return [len(img.getbands()), h, w]
    _check_image(img)
    shape = img.shape
    if len(shape) < 2:
        raise TypeError("Tensor is not a torch image.")
    channels = 1 if len(shape) == 2 else shape[-3]
    return [channels, shape[-2], shape[-1]]


def get_image_size(img) -> list[int]:
    """[width, height] of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    """Number of channels of an image."""
    return get_dimensions(img)[0]


def _float_dtype():
    from ... import _dtype

    return np.dtype(_dtype.get_default_dtype().np).type


_PIL_NP_TYPES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def _pil_array(pic) -> np.ndarray:
    """The image's pixels as H x W x C."""
    arr = np.array(pic, _PIL_NP_TYPES.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        arr = 255 * arr
    return arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))


def to_tensor(pic) -> Tensor:
    """A PIL image or H x W x C ndarray as a C x H x W tensor; uint8 data is scaled to [0, 1] floats."""
    if _is_pil(pic):
        arr = _pil_array(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        ft = _float_dtype()
        chw = np.divide(chw.astype(ft), ft(255))
    from ..._creation import from_numpy

    return from_numpy(chw)


def pil_to_tensor(pic) -> Tensor:
    """A PIL image as a C x H x W tensor of its own pixel type, unscaled."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    from ..._creation import from_numpy

    return from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


# the modes a multi-channel uint8 image may be labelled with, the first being the default
_PIL_MODES_BY_CHANNELS = {2: ("LA",), 3: ("RGB", "YCbCr", "HSV"), 4: ("RGBA", "CMYK", "RGBX")}


def to_pil_image(pic, mode: str | None = None):
    """A C x H x W tensor (floats in [0, 1] are scaled by 255) or H x W x C array as a PIL image.

    mode names the colour space the data is already in (e.g. "YCbCr"): the pixels are labelled with it,
    not converted, and a mode that does not fit the data's channels or type is a ValueError."""
    Image = _pil()
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        data = pic.detach()._data
        arr = data[:, :, None] if data.ndim == 2 else data.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = arr.shape[2]
    if channels > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
    if np.issubdtype(arr.dtype, np.floating) and mode != "F":
        arr = (arr * 255).astype(np.uint8)
    h, w = arr.shape[:2]
    if channels == 1:
        arr = np.ascontiguousarray(arr[:, :, 0])
        i16 = "I;16" if sys.byteorder == "little" else "I;16B"
        expected = {np.uint8: "L", np.int16: i16, np.int32: "I", np.float32: "F"}.get(arr.dtype.type)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be {expected}")
        if expected is None:
            raise TypeError(f"Input type {arr.dtype} is not supported")
        if expected == i16:  # fromarray would widen int16 to "I"; keep the 16-bit pixels as they are
            return Image.frombytes(expected, (w, h), arr.tobytes())
        return Image.fromarray(arr)
    allowed = _PIL_MODES_BY_CHANNELS[channels]
    if mode is not None and mode not in allowed:
        raise ValueError(f"Only modes {list(allowed)} are supported for {channels} channel inputs")
    if arr.dtype != np.uint8:
        raise TypeError(f"Input type {arr.dtype} is not supported for {channels} channels")
    # frombytes labels the raw pixels with the mode; convert() would reinterpret them as RGB first
    return Image.frombytes(mode or allowed[0], (w, h), np.ascontiguousarray(arr).tobytes())


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """(tensor - mean) / std per channel, computed in the tensor's float dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Input tensor should be a torch tensor. Got {type(tensor)}.")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tensor.size()}"
        )
    from ..._creation import tensor as make

    m = make(np.asarray(mean, dtype=tensor._data.dtype))
    s = make(np.asarray(std, dtype=tensor._data.dtype))
    if bool((s._data == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if m.ndim == 1:
        m = m.view(-1, 1, 1)
    if s.ndim == 1:
        s = s.view(-1, 1, 1)
    if inplace:
        return tensor.sub_(m).div_(s)
    return tensor.sub(m).div(s)


def _resized_size(h: int, w: int, size, max_size) -> list[int]:
    """[new_h, new_w]: an int (or 1-list) matches the shorter edge, keeping the aspect ratio."""
    if isinstance(size, int) or len(size) == 1:
        want = size if isinstance(size, int) else size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = want, int(want * long / short)
        if max_size is not None:
            if max_size <= want:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return [new_long, new_short] if w <= h else [new_short, new_long]
    if max_size is not None:
        raise ValueError(
            "max_size should only be passed if size specifies the length of the smaller edge, i.e. size should be an int or a sequence of length 1 in torchscript mode."
        )
    return [int(size[0]), int(size[1])]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize a PIL image (PIL's filters, which always antialias)."""
    _check_image(img)
    interpolation = _interp(interpolation)
    _, h, w = get_dimensions(img)
    new_h, new_w = _resized_size(h, w, size, max_size)
    if [h, w] == [new_h, new_w]:
        return img
    if not _is_pil(img):
        raise NotImplementedError(
            "ember does not implement torchvision.transforms.functional.resize on tensors; resize the PIL image before ToTensor"
        )
    if interpolation not in _PIL_FILTERS:
        raise ValueError(f"Interpolation mode {interpolation} is unsupported with PIL images")
    return img.resize((new_w, new_h), _PIL_FILTERS[interpolation])


def _pad_ltrb(padding) -> list[int]:
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return [p, p, p, p]
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _pil_fill(fill, img, name: str) -> dict:
    """A fill value shaped for PIL: one number per band, ints unless the image is floating point."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(
                f"The number of elements in 'fill' does not match the number of bands of the image ({len(fill)} != {bands})"
            )
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the image's borders: constant (with fill), edge, reflect or symmetric."""
    _check_image(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _pad_ltrb(padding)
    if min(left, top, right, bottom) < 0:
        raise NotImplementedError(
            "ember does not implement torchvision.transforms.functional.pad with negative padding"
        )
    if _is_pil(img):
        if padding_mode == "constant":
            from PIL import ImageOps

            return ImageOps.expand(img, border=(left, top, right, bottom), **_pil_fill(fill, img, "fill"))
        arr = np.asarray(img)
        widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
        out = _pil().fromarray(np.pad(arr, widths, padding_mode))
        if img.mode == "P":  # the padded indices still refer to the original palette
            out.putpalette(img.getpalette())
        return out
    if not isinstance(fill, numbers.Real):
        raise TypeError("Got inappropriate fill arg")  # tensors take one number for every channel
    if padding_mode == "constant":
        from ...nn.functional import pad as nn_pad

        return nn_pad(img, (left, right, top, bottom), value=fill)
    # the other modes only copy pixels: gather them by the source indices np.pad gives for each axis,
    # which keeps autograd and NumPy's behaviour for padding wider than the image
    _, h, w = get_dimensions(img)
    rows = np.pad(np.arange(h), (top, bottom), padding_mode)
    cols = np.pad(np.arange(w), (left, right), padding_mode)
    from ..._creation import from_numpy

    return img.index_select(-2, from_numpy(rows)).index_select(-1, from_numpy(cols))


def crop(img, top: int, left: int, height: int, width: int):
    """The height x width region whose top-left corner is (top, left); outside pixels read as 0."""
    _check_image(img)
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        # the part of the box inside the image (clamped, so a box wholly outside gives an empty slice),
        # zero-padded before by the box's part above/left of the image and after by whatever size is left
        t0, b0 = min(max(top, 0), h), min(max(bottom, 0), h)
        l0, r0 = min(max(left, 0), w), min(max(right, 0), w)
        pad_l, pad_t = min(max(-left, 0), width), min(max(-top, 0), height)
        ltrb = [pad_l, pad_t, width - pad_l - (r0 - l0), height - pad_t - (b0 - t0)]
        return pad(img[..., t0:b0, l0:r0], ltrb, fill=0)
    return img[..., top:bottom, left:right]


def center_crop(img, output_size):
    """The centre output_size region (zero-padded first when the image is smaller)."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    ch, cw = output_size
    if cw > w or ch > h:
        ltrb = [
            (cw - w) // 2 if cw > w else 0,
            (ch - h) // 2 if ch > h else 0,
            (cw - w + 1) // 2 if cw > w else 0,
            (ch - h + 1) // 2 if ch > h else 0,
        ]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return crop(img, top, left, ch, cw)


def hflip(img):
    """Mirror the image left to right."""
    _check_image(img)
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_LEFT_RIGHT)
    return img.flip(-1)


def vflip(img):
    """Mirror the image top to bottom."""
    _check_image(img)
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_TOP_BOTTOM)
    return img.flip(-2)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None, fill=None):
    """Rotate an image counter-clockwise by angle degrees about center (the image's centre by default): PIL's
    own rotate for PIL images, grid sampling for tensors (..., C, H, W)."""
    _check_image(img)
    interpolation = _interp(interpolation)
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not _is_pil(img):
        return _rotate_tensor(img, float(angle), interpolation, expand, center, fill)
    if interpolation not in _PIL_FILTERS:
        raise ValueError(f"Interpolation mode {interpolation} is unsupported with PIL images")
    return img.rotate(angle, _PIL_FILTERS[interpolation], expand, center, **_pil_fill(fill, img, "fillcolor"))


def _rotation_map(angle: float, center, w: int, h: int) -> tuple:
    """(a, b, tx, c, d, ty): where the output pixel at (x, y) from the image centre reads the input,
    x_in = a*x + b*y + tx, y_in = c*x + d*y + ty (also from the centre), for a counter-clockwise rotation."""
    rad = np.deg2rad(angle)
    a, b, c, d = np.cos(rad), -np.sin(rad), np.sin(rad), np.cos(rad)
    cx, cy = (0.0, 0.0) if center is None else (float(center[0]) - 0.5 * w, float(center[1]) - 0.5 * h)
    return a, b, cx - (a * cx + b * cy), c, d, cy - (c * cx + d * cy)


def _expanded_size(m: tuple, w: int, h: int) -> tuple:
    """The integer (width, height) that holds the whole rotated image. Worked out in float32 with differences
    under 1e-4 ignored, as torchvision does for tensors (in float64, 30000 * 1e-4 rounds up past 3 and a
    quarter turn would grow by a pixel)."""
    f = np.float32
    corners = np.array([[-0.5 * w, -0.5 * h], [-0.5 * w, 0.5 * h], [0.5 * w, 0.5 * h], [0.5 * w, -0.5 * h]], f)
    xs = f(m[0]) * corners[:, 0] + f(m[1]) * corners[:, 1] + f(m[2]) + f(0.5 * w)
    ys = f(m[3]) * corners[:, 0] + f(m[4]) * corners[:, 1] + f(m[5]) + f(0.5 * h)
    tol = f(1e-4)
    size = []
    for v in (xs, ys):
        low, high = np.trunc(v.min() / tol) * tol, np.trunc(v.max() / tol) * tol
        size.append(int(np.ceil(high) - np.floor(low)))
    return size[0], size[1]


def _rotate_tensor(img: Tensor, angle: float, interpolation, expand: bool, center, fill) -> Tensor:
    """rotate for a (..., C, H, W) tensor: every output pixel centre mapped back into the input and sampled
    (nearest or bilinear, zeros outside); with fill, outside pixels take it instead."""
    from ... import _dtype as dt
    from ...nn import functional as nnf
    from ...ops.shape import cat

    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    a = img._data
    if a.ndim < 3:
        raise TypeError(f"Tensor is not a torch image: expected at least 3 dims, got {a.ndim}")
    *lead, c, h, w = a.shape
    if isinstance(fill, (list, tuple)) and len(fill) > 1 and len(fill) != c:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels of the image "
            f"({len(fill)} != {c})"
        )
    m = _rotation_map(angle, center, w, h)
    ow, oh = _expanded_size(m, w, h) if expand else (w, h)
    work = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    # pixel centres of the output, from its centre; the map scaled to grid units (the input's half sizes)
    xs = np.linspace(-0.5 * ow + 0.5, 0.5 * ow - 0.5, ow, dtype=work)
    ys = np.linspace(-0.5 * oh + 0.5, 0.5 * oh - 0.5, oh, dtype=work)
    scale = np.array([0.5 * w, 0.5 * h], dtype=work)
    theta = np.array([[m[0], m[3]], [m[1], m[4]], [m[2], m[5]]], dtype=work) / scale
    base = np.stack(
        [np.broadcast_to(xs, (oh, ow)), np.broadcast_to(ys[:, None], (oh, ow)), np.ones((oh, ow), work)], -1
    )
    grid = (base.reshape(-1, 3) @ theta).reshape(1, oh, ow, 2)
    # tensor ops from here on, so a rotated float image keeps its gradient as in torchvision
    planes = img.reshape(-1, c, h, w)
    if planes._data.dtype != work:
        planes = planes.to(dt.from_numpy_dtype(work))
    n = planes.shape[0]
    if fill is not None:  # a channel of ones says how much of each output pixel came from inside the image
        planes = cat([planes, planes.new_ones((n, 1, h, w))], 1)
    grid = Tensor._wrap(np.ascontiguousarray(np.broadcast_to(grid, (n, oh, ow, 2))))
    mode = interpolation.value
    out = nnf.grid_sample(planes, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        inside, out = out[:, -1:], out[:, :-1]
        values = Tensor._wrap(np.array(fill if isinstance(fill, (list, tuple)) else [fill], work).reshape(1, -1, 1, 1))
        if mode == "nearest":
            out = values.expand(out.shape).where(inside < 0.5, out)
        else:
            out = out * inside + (1 - inside) * values
    if a.dtype.kind != "f":
        out = out.round().to(img.dtype)
    return out.reshape(tuple(lead) + (c, oh, ow))


# The weights of R, G and B in an image's grey level (luma), for tensors and arrays alike.
_LUMA_WEIGHTS = (0.2989, 0.587, 0.114)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Luma (0.2989 R + 0.587 G + 0.114 B) in 1 or 3 channels."""
    _check_image(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        gray = img.convert("L")
        if num_output_channels == 3:
            arr = np.asarray(gray, dtype=np.uint8)
            return _pil().fromarray(np.dstack([arr, arr, arr]))
        return gray
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    c = img.shape[-3]
    if c not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {c}")
    if c == 3:
        # ember ops rather than NumPy, so a float image keeps its autograd history; integer images are
        # weighted in the default float dtype (the scalars promote them) and cast back
        r, g, b = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
        wr, wg, wb = _LUMA_WEIGHTS
        lum = (wr * r + wg * g + wb * b).to(img.dtype)
    else:
        lum = img.clone()
    if num_output_channels == 3:
        lum = lum.expand(*lum.shape[:-3], 3, *lum.shape[-2:]).contiguous()
    return lum


to_grayscale = rgb_to_grayscale


# ---------------------------------------------------------------------------- colour adjustments
def _image_array(img: Tensor) -> tuple[np.ndarray, float]:
    """A tensor image's values as floats (in the default float dtype for integers) and its maximum value."""
    a = img._data
    if a.dtype.kind == "f":
        return a, 1.0
    return a.astype(_float_dtype()), float(np.iinfo(a.dtype).max) if a.dtype.kind in "iu" else 1.0


def _from_image_array(values: np.ndarray, like: Tensor, bound: float) -> Tensor:
    """values clamped to [0, bound] and cast back to like's dtype (integers truncate, as torch casts)."""
    out = np.clip(values, 0, bound)
    return Tensor._wrap(out.astype(like._data.dtype, copy=False))


def _luma(rgb: np.ndarray) -> np.ndarray:
    """0.2989 R + 0.587 G + 0.114 B over the channel dim (-3), kept as a dim of size 1."""
    r, g, b = rgb[..., 0:1, :, :], rgb[..., 1:2, :, :], rgb[..., 2:3, :, :]
    wr, wg, wb = _LUMA_WEIGHTS
    return wr * r + wg * g + wb * b


def _enhance(img, name: str, factor: float, pil_enhancer: str, on_tensor):
    """A colour adjustment: PIL's ImageEnhance.<pil_enhancer> on an image, on_tensor(values, bound) on a
    tensor (its values as floats and their maximum), clamped and cast back to the tensor's dtype."""
    _check_image(img)
    if factor < 0:
        raise ValueError(f"{name}_factor ({factor}) is not non-negative.")
    if _is_pil(img):
        from PIL import ImageEnhance

        return getattr(ImageEnhance, pil_enhancer)(img).enhance(factor)
    a, bound = _image_array(img)
    return _from_image_array(on_tensor(a), img, bound)


def _grey_levels(img: Tensor, a: np.ndarray) -> np.ndarray:
    """The luma of an RGB image's values (the values themselves for one channel); whole numbers for an
    integer image, whose grey levels are integers before they are blended."""
    grey = _luma(a) if a.shape[-3] == 3 else a
    return grey if img._data.dtype.kind == "f" else np.floor(grey)


def adjust_brightness(img, brightness_factor: float):
    """Scale the image's values by brightness_factor (0 gives black, 1 the image itself)."""
    return _enhance(img, "brightness", brightness_factor, "Brightness", lambda a: a * brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blend the image with the mean of its grey levels (0 gives that flat grey, 1 the image itself)."""

    def blend(a):
        mean = _grey_levels(img, a).mean(axis=(-3, -2, -1), keepdims=True)
        return contrast_factor * a + (1.0 - contrast_factor) * mean

    return _enhance(img, "contrast", contrast_factor, "Contrast", blend)


def adjust_saturation(img, saturation_factor: float):
    """Blend the image with its grey version (0 gives grey, 1 the image itself, 2 doubles the colour)."""

    def blend(a):
        if a.shape[-3] == 1:
            return a
        return saturation_factor * a + (1.0 - saturation_factor) * _grey_levels(img, a)

    return _enhance(img, "saturation", saturation_factor, "Color", blend)


def adjust_hue(img, hue_factor: float):
    """Turn every colour's hue by hue_factor of a full turn (in [-0.5, 0.5]); grey images are unchanged."""
    _check_image(img)
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        if img.mode in ("L", "1", "I", "F"):
            return img
        mode = img.mode
        h, s, v = img.convert("HSV").split()
        turned = (np.asarray(h, dtype=np.uint8) + np.uint8(int(hue_factor * 255) % 256)).astype(np.uint8)
        return _pil().merge("HSV", (_pil().fromarray(turned, "L"), s, v)).convert(mode)
    if img.shape[-3] == 1:
        return img.clone()
    a, bound = _image_array(img)
    h, s, v = _rgb_to_hsv(a / bound)
    return _from_image_array(_hsv_to_rgb((h + hue_factor) % 1.0, s, v) * bound, img, bound)


def _rgb_to_hsv(rgb: np.ndarray) -> tuple:
    """Hue (in turns), saturation and value of RGB values in [0, 1] over the channel dim (-3)."""
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    top, bottom = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    spread = top - bottom
    grey = spread == 0
    s = spread / np.where(top == 0, 1, top)
    d = np.where(grey, 1, spread)
    rc, gc, bc = (top - r) / d, (top - g) / d, (top - b) / d
    h = np.where(top == r, bc - gc, np.where(top == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(grey, 0.0, (h / 6.0) % 1.0)
    return h, s, top


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] (channel dim -3) from hue in turns, saturation and value."""
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = [np.select([sector == k for k in range(6)], [c[i] for c in choices]) for i in range(3)]
    return np.stack(out, axis=-3)

"""Convolution and pooling over one or two trailing spatial dims: conv1d/2d, unfold/fold, max and average
pooling (fixed and adaptive), each op beside its node.

Every op works on a 4-D (N, C, H, W) view of its input; the 1-D forms view (N, C, L) as height 1, and an
unbatched input as a batch of one. Two array kernels carry the work: `im2col` copies each sliding window
into a column (C*kh*kw rows, one column per output position) and `col2im` adds columns back onto the
image, so a convolution is one batched matrix product and its input gradient a product then col2im."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _dtype as dt
from .._allocator import keep_heap_pages
from .._tensor import Tensor
from ..autograd.grad_mode import grad_enabled
from ._op import Adjoint, Node, attach, check_float, record_adjoint, wrap
from .reduction import float_sum


# ---------------------------------------------------------------------------- window geometry
class Geometry:
    """Sizes of a sliding-window op on (H, W): kernel, stride, padding (top, bottom, left, right), dilation,
    and the output size they give."""

    __slots__ = ("kernel", "stride", "pads", "dilation", "in_hw", "out_hw")

    def __init__(self, in_hw, kernel, stride, pads, dilation, out_hw=None) -> None:
        self.in_hw, self.kernel, self.stride, self.pads, self.dilation = in_hw, kernel, stride, pads, dilation
        if out_hw is None:
            out_hw = tuple(
                (in_hw[d] + pads[2 * d] + pads[2 * d + 1] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
                for d in range(2)
            )
        self.out_hw = out_hw

    @property
    def padded_hw(self) -> tuple:
        """The size the padded input must have so that every window lies inside it."""
        return tuple(
            max(
                self.in_hw[d] + self.pads[2 * d] + self.pads[2 * d + 1],
                (self.out_hw[d] - 1) * self.stride[d] + self.dilation[d] * (self.kernel[d] - 1) + 1,
            )
            for d in range(2)
        )

    def window_slice(self, d: int, i: int) -> slice:
        """The padded-input positions that kernel offset i of every window covers along spatial dim d."""
        start = i * self.dilation[d]
        return slice(start, start + self.stride[d] * (self.out_hw[d] - 1) + 1, self.stride[d])


# An op that passes over its operands several times (a max-pool: two passes per kernel offset) runs them
# at cache speed when it works through the batch in pieces that fit in the cache: max-pooling a
# (1000, 6, 24, 24) batch took 10 ms in one piece and 6.4 ms in pieces of about 2 MiB here.
CHUNK_BYTES = 2 << 20
CONV_CHUNK_BYTES = (
    4 << 20
)  # a convolution's columns without gradients (LeNet's first layer at batch 1000: 12.5 -> 7.5 ms)


def cache_chunks(count: int, item_bytes: int, minimum: int = 1, target: int | None = None) -> list:
    """Slices cutting range(count) into runs of about target bytes (CHUNK_BYTES by default; at least
    `minimum` items each unless count is smaller; a short tail joins the run before it)."""
    size = max(minimum, (target or CHUNK_BYTES) // max(item_bytes, 1), 1)
    starts = list(range(0, count, size)) or [0]
    if len(starts) > 1 and count - starts[-1] < minimum:
        starts.pop()
    return [slice(a, b) for a, b in zip(starts, starts[1:] + [count])]


def padded(a: np.ndarray, geo: Geometry, value=0) -> np.ndarray:
    """a (N, C, H, W) inside a border of value large enough for every window of geo."""
    top, _, left, _ = geo.pads
    ph, pw = geo.padded_hw
    h, w = a.shape[2:]
    if (top, left) == (0, 0) and (ph, pw) == (h, w):
        return a
    out = np.full(a.shape[:2] + (ph, pw), value, dtype=a.dtype)
    out[:, :, top : top + h, left : left + w] = a[:, :, : ph - top, : pw - left]
    return out


def _crop(planes: np.ndarray, geo: Geometry) -> np.ndarray:
    """The unpadded (H, W) part of padded planes, contiguous."""
    top, _, left, _ = geo.pads
    h, w = geo.in_hw
    if (top, left) == (0, 0) and planes.shape[2:] == (h, w):
        return planes
    return np.ascontiguousarray(planes[:, :, top : top + h, left : left + w])


def im2col(a: np.ndarray, geo: Geometry) -> np.ndarray:
    """(N, C*kh*kw, OH*OW) columns of a (N, C, H, W): row (c, i, j) of column (y, x) holds the padded
    input at (y*sh + i*dh, x*sw + j*dw), torch's unfold layout."""
    p = padded(a, geo)
    n, c = p.shape[:2]
    sn, sc, sh, sw = p.strides
    (kh, kw), (oh, ow) = geo.kernel, geo.out_hw
    view = as_strided(
        p,
        (n, c, kh, kw, oh, ow),
        (sn, sc, sh * geo.dilation[0], sw * geo.dilation[1], sh * geo.stride[0], sw * geo.stride[1]),
        writeable=False,
    )
    return view.reshape(n, c * kh * kw, oh * ow)


def col2im(cols: np.ndarray, geo: Geometry) -> np.ndarray:
    """The adjoint of im2col: every column entry added back onto its input position (N, C, H, W); an
    input position collects its entries in kernel order, as torch's fold does."""
    (kh, kw), (oh, ow) = geo.kernel, geo.out_hw
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    c5 = cols.reshape(n * c, kh, kw, oh, ow)  # batch and channel merged: NumPy iterates one dim fewer
    ph, pw = geo.padded_hw
    planes = np.zeros((n * c, ph, pw), dtype=cols.dtype)
    for i in range(kh):
        rows = geo.window_slice(0, i)
        for j in range(kw):
            planes[:, rows, geo.window_slice(1, j)] += c5[:, i, j]
    return _crop(planes.reshape(n, c, ph, pw), geo)


# ---------------------------------------------------------------------------- batch-last columns
# NCHW columns run NumPy's inner loops along one output row: OW elements. For small feature maps (LeNet's
# second layer: 8x8 outputs) im2col, col2im and the per-sample products are then mostly loop overhead. With
# the batch as the last axis, (C, H, W, N), a window's row is a run of OW*N elements (N when strided), and
# the batch is one matrix product. Chosen by shape alone (the same on every machine): docs/performance.md
# has the measurements behind the thresholds.
BATCH_LAST_MIN_BATCH = 16
BATCH_LAST_MAX_WIDTH = 12


def batch_last(n: int, geo: Geometry) -> bool:
    """Whether a convolution of a batch of n with this geometry runs on batch-last columns."""
    return n >= BATCH_LAST_MIN_BATCH and geo.out_hw[1] <= BATCH_LAST_MAX_WIDTH


def transpose_2d(a: np.ndarray) -> np.ndarray:
    """a (R, M) transposed into a new C-contiguous (M, R) array.

    Reading R rows whose length is a multiple of 4 KiB maps them onto the same few L1 cache sets, and NumPy's
    copy then ran 9x slower here; such rows are first copied into a buffer with slightly longer rows."""
    rows, length = a.shape
    if rows > 8 and (length * a.itemsize) % 4096 == 0:
        buf = np.empty((rows, length + 64 // a.itemsize), dtype=a.dtype)
        buf[:, :length] = a
        a = buf[:, :length]
    return np.ascontiguousarray(a.T)


def to_batch_last(a: np.ndarray, geo: Geometry) -> np.ndarray:
    """a (N, C, H, W) as (C, PH, PW, N), inside a zero border large enough for every window of geo."""
    n, c, h, w = a.shape
    t = transpose_2d(a.reshape(n, c * h * w)).reshape(c, h, w, n)
    top, _, left, _ = geo.pads
    ph, pw = geo.padded_hw
    if (top, left) == (0, 0) and (ph, pw) == (h, w):
        return t
    out = np.zeros((c, ph, pw, n), dtype=a.dtype)
    out[:, top : top + h, left : left + w] = t
    return out


def im2col_batch_last(p: np.ndarray, geo: Geometry) -> np.ndarray:
    """(C*kh*kw, OH*OW*N) columns of a batch-last (C, PH, PW, N) array: the im2col entries, batch last."""
    c, _, _, n = p.shape
    sc, sh, sw, sn = p.strides
    (kh, kw), (oh, ow) = geo.kernel, geo.out_hw
    view = as_strided(
        p,
        (c, kh, kw, oh, ow, n),
        (sc, sh * geo.dilation[0], sw * geo.dilation[1], sh * geo.stride[0], sw * geo.stride[1], sn),
        writeable=False,
    )
    return view.reshape(c * kh * kw, oh * ow * n)


def col2im_batch_last(cols: np.ndarray, geo: Geometry, n: int) -> np.ndarray:
    """The adjoint of im2col_batch_last, returned as (N, C, H, W): each input position collects its
    entries in kernel order, the same sums in the same order as col2im."""
    (kh, kw), (oh, ow) = geo.kernel, geo.out_hw
    c = cols.shape[0] // (kh * kw)
    c6 = cols.reshape(c, kh, kw, oh, ow, n)
    ph, pw = geo.padded_hw
    planes = np.zeros((c, ph, pw, n), dtype=cols.dtype)
    for i in range(kh):
        rows = geo.window_slice(0, i)
        for j in range(kw):
            planes[:, rows, geo.window_slice(1, j)] += c6[:, i, j]
    top, _, left, _ = geo.pads
    h, w = geo.in_hw
    if (top, left) != (0, 0) or (ph, pw) != (h, w):
        planes = np.ascontiguousarray(planes[:, top : top + h, left : left + w])
    return transpose_2d(planes.reshape(c * h * w, n)).reshape(n, c, h, w)


# ---------------------------------------------------------------------------- argument handling
def pair(value, name: str, n: int = 2) -> tuple:
    """An int or a sequence of n ints as an n-tuple (torch's int-or-tuple arguments)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(value)
    if len(values) == 1:
        values = values * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{name} must be an int or a tuple of {n} ints, but got {value!r}")
    return tuple(int(v) for v in values)


def as_4d(input: Tensor, spatial: int, op: str) -> tuple[np.ndarray, bool]:
    """input's array as (N, C, H, W), and whether it had no batch dim; checks the number of dims."""
    a = input._data
    full = spatial + 2
    if a.ndim not in (full - 1, full):
        raise RuntimeError(
            f"{op}: Expected {full - 1}D (unbatched) or {full}D (batched) input to {op}, but got input of size: "
            f"{list(a.shape)}"
        )
    unbatched = a.ndim == full - 1
    if unbatched:
        a = a[None]
    if spatial == 1:
        a = a[:, :, None, :]
    return a, unbatched


def from_4d(a: np.ndarray, spatial: int, unbatched: bool) -> np.ndarray:
    """The inverse of as_4d's reshaping, for an op's output or an input gradient."""
    if spatial == 1:
        a = a[:, :, 0, :]
    return a[0] if unbatched else a


def _spatial_pair(value, name: str, spatial: int, fill: int) -> tuple:
    """A 1-D or 2-D size argument as (h, w); the 1-D forms use fill for the unit height."""
    if spatial == 1:
        return (fill,) + pair(value, name, 1)
    return pair(value, name)


# ---------------------------------------------------------------------------- convolution
def _conv_geometry(x4: np.ndarray, w4: np.ndarray, stride, padding, dilation, spatial: int, op: str) -> Geometry:
    stride = _spatial_pair(stride, "stride", spatial, 1)
    dilation = _spatial_pair(dilation, "dilation", spatial, 1)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    kernel = w4.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if max(stride) != 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for d in range(2):
                total = dilation[d] * (kernel[d] - 1)
                pads += [total // 2, total - total // 2]
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        ph, pw = _spatial_pair(padding, "padding", spatial, 0)
        if min(ph, pw) < 0:
            raise RuntimeError("negative padding is not supported")
        pads = (ph, ph, pw, pw)
    geo = Geometry(x4.shape[2:], kernel, stride, pads, dilation)
    padded_in = [x4.shape[2 + d] + pads[2 * d] + pads[2 * d + 1] for d in range(2)]
    reach = [dilation[d] * (kernel[d] - 1) + 1 for d in range(2)]
    if min(geo.out_hw) <= 0:
        dims = slice(1, None) if spatial == 1 else slice(None)
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded_in[dims]))}). Kernel size: "
            f"({' x '.join(map(str, reach[dims]))}). Kernel size can't be greater than actual input size"
        )
    return geo


def _check_conv(input: Tensor, weight: Tensor, bias, groups: int, spatial: int, op: str) -> None:
    full = spatial + 2
    w = weight._data
    if w.ndim != full:
        raise RuntimeError(f"Expected {full}D weight for {op}, but got weight of size {list(w.shape)}")
    x = input._data
    if x.ndim not in (full - 1, full):
        raise RuntimeError(
            f"Expected {full - 1}D (unbatched) or {full}D (batched) input to {op}, but got input of size: {list(x.shape)}"
        )
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    channels = x.shape[0 if x.ndim == full - 1 else 1]
    if w.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size {list(w.shape)} instead"
        )
    if channels != w.shape[1] * groups:
        shape = list(x.shape)
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input{shape} to have "
            f"{w.shape[1] * groups} channels, but got {channels} channels instead"
        )
    _check_bias_shape(bias, w, w.shape[0], "")
    _same_dtype(x, w)
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(
            f"Input type ({_c_type(x.dtype)}) and bias type ({_c_type(bias._data.dtype)}) should be the same"
        )


def _check_bias_shape(bias, w: np.ndarray, channels: int, kind: str) -> None:
    """Refuse a bias that is not one number per output channel, with torch's message."""
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != channels):
        raise RuntimeError(
            f"Given {kind}weight of size {list(w.shape)}, expected bias to be 1-dimensional with {channels} "
            f"elements, but got bias of size {list(bias._data.shape)} instead"
        )


def _same_dtype(x: np.ndarray, w: np.ndarray) -> None:
    """Refuse a weight of another dtype than the input, with torch's message."""
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"expected scalar type {dt.scalar_type_name(x.dtype)} but found {dt.scalar_type_name(w.dtype)}"
        )


def _c_type(d: np.dtype) -> str:
    """The C++ type name torch's convolution messages use for a dtype."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(d.name, d.name)


class ConvolutionBackward0(Node):
    """Gradients of a convolution: input (columns of W^T g added back by col2im), weight (g times the
    input's columns, summed over the batch) and bias (g summed over batch and positions)."""

    def backward_arrays(self, g):
        x, w, cols = self.saved_arrays()
        geo, groups = self.geo, self.groups
        g4 = _to_4d(g._data, self.spatial, self.unbatched)
        n, o = g4.shape[:2]
        gx = gw = gb = gt = None
        if self.next_nodes[1] is not None:
            if self.batch_last:  # one product for the whole batch: gt (groups, O/groups, OH*OW*N)
                gt = transpose_2d(g4.reshape(n, -1)).reshape(groups, o // groups, -1)
                gw = np.matmul(gt, cols.reshape(groups, -1, gt.shape[2]).transpose(0, 2, 1))
            else:
                gg = g4.reshape(n, groups, o // groups, geo.out_hw[0] * geo.out_hw[1])
                gw = float_sum(np.matmul(gg, _split_groups(cols, groups).transpose(0, 1, 3, 2)), (0,), False, None)
            gw = wrap(gw.reshape(self.w_shape))
        if self.next_nodes[0] is not None:
            gx = wrap(from_4d(self._input_grad_arrays(g4, w, gt), self.spatial, self.unbatched))
        if len(self.next_nodes) > 2 and self.next_nodes[2] is not None:
            gb = wrap(float_sum(g4, (0, 2, 3), False, None))
        return gx, gw, gb

    def _input_grad_arrays(self, g4: np.ndarray, w: np.ndarray, gt) -> np.ndarray:
        """(N, C, H, W) input gradient; gt is the whole batch's batch-last gradient when already made."""
        geo, groups = self.geo, self.groups
        n, o = g4.shape[:2]
        w3 = w.reshape(groups, o // groups, -1)
        pieces = input_grad_pieces(n, w3, geo)
        if pieces is None:
            gg = g4.reshape(n, groups, o // groups, geo.out_hw[0] * geo.out_hw[1])
            if geo.stride == (1, 1):
                return _input_grad_by_offset(_to_4d(w, self.spatial, False), gg, geo)
            return col2im(_merge_groups(np.matmul(w3.transpose(0, 2, 1), gg)), geo)
        out = np.empty((n, groups * w.shape[1]) + geo.in_hw, dtype=g4.dtype)
        for part in pieces:
            m = part.stop - part.start
            if gt is None or m != n:
                gt = transpose_2d(g4[part].reshape(m, -1)).reshape(groups, o // groups, -1)
            out[part] = col2im_batch_last(np.matmul(w3.transpose(0, 2, 1), gt).reshape(-1, gt.shape[2]), geo, m)
        return out

    def backward(self, g):
        # backward_arrays' products on the same operands, piece for piece (transposed copies are exact), and
        # fold_columns makes col2im_batch_last's sums in its order: the two forms agree bit for bit
        from .shape import cat

        x, w, _ = self.saved_tensors
        geo, groups, spatial = self.geo, self.groups, self.spatial
        g4 = _tensor_4d(g, spatial, self.unbatched)
        n, o = g4.shape[:2]
        og = o // groups
        length = geo.out_hw[0] * geo.out_hw[1]
        w3 = w.reshape(groups, og, -1)
        gx4 = gw = gb = None
        if self.next_nodes[1] is not None:
            cols = unfold_windows(_tensor_4d(x, spatial, self.unbatched), geo)
            if self.batch_last:
                gt = g4.reshape(n, -1).transpose(0, 1).contiguous().reshape(groups, og, -1)
                gw = gt @ cols.permute(1, 2, 0).contiguous().reshape(groups, -1, length * n).transpose(1, 2)
            else:
                gw = (g4.reshape(n, groups, og, length) @ _split_groups(cols, groups).transpose(2, 3)).sum(0)
        if self.next_nodes[0] is not None:
            pieces = input_grad_pieces(n, w3._data, geo)
            if pieces is None:
                gg = g4.reshape(n, groups, og, length)
                if geo.stride == (1, 1):
                    gx4 = _tensor_input_grad_by_offset(_tensor_4d(w, spatial, False), gg, geo)
                else:
                    gx4 = fold_columns(_merge_groups(w3.transpose(1, 2) @ gg), geo)
            else:
                parts = []
                for part in pieces:
                    m = part.stop - part.start
                    gt = g4[part].reshape(m, -1).transpose(0, 1).contiguous().reshape(groups, og, -1)
                    parts.append(fold_columns((w3.transpose(1, 2) @ gt).reshape(-1, length, m).permute(2, 0, 1), geo))
                gx4 = parts[0] if len(parts) == 1 else cat(parts, 0)
        if len(self.next_nodes) > 2 and self.next_nodes[2] is not None:
            gb = g4.sum((0, 2, 3))
        gx = None if gx4 is None else _tensor_from_4d(gx4, spatial, self.unbatched)
        return gx, None if gw is None else gw.reshape(self.w_shape), gb


def input_grad_pieces(n: int, w3: np.ndarray, geo: Geometry):
    """How a convolution's input gradient is made: None for a small batch (NCHW: per kernel offset when the
    stride is 1, else col2im), or the pieces of the batch, each one batch-last product and col2im_batch_last
    sized to the cache (the two-conv example's second layer: 42 -> 27 ms)."""
    if n < BATCH_LAST_MIN_BATCH:
        return None
    rows = w3.shape[0] * w3.shape[2]  # C*kh*kw columns rows per output position
    return cache_chunks(n, rows * geo.out_hw[0] * geo.out_hw[1] * w3.itemsize, 1, CONV_CHUNK_BYTES)


# The input gradient of a stride-1 convolution, one kernel offset at a time: the product of that offset's
# weights with the gradient lands on the input shifted by the offset. Same sums as col2im of W^T g, in the same
# order, without the column buffer (a third faster for the two-conv example's second layer). The array and
# tensor forms below make the same products on the same contiguous operands, so they agree bit for bit.
def _input_grad_by_offset(w4: np.ndarray, gg: np.ndarray, geo: Geometry) -> np.ndarray:
    """(N, C, H, W) input gradient from gg (N, groups, O/groups, L) and weight w4 (O, C/groups, kh, kw)."""
    o, cg, kh, kw = w4.shape
    n, groups = gg.shape[:2]
    w5 = w4.reshape(groups, o // groups, cg, kh, kw)
    ph, pw = geo.padded_hw
    planes = np.zeros((n, groups * cg, ph, pw), dtype=gg.dtype)
    for i in range(kh):
        rows = geo.window_slice(0, i)
        for j in range(kw):
            part = np.matmul(np.ascontiguousarray(w5[:, :, :, i, j].transpose(0, 2, 1)), gg)
            planes[:, :, rows, geo.window_slice(1, j)] += part.reshape((n, groups * cg) + geo.out_hw)
    return _crop(planes, geo)


def _tensor_input_grad_by_offset(w4: Tensor, gg: Tensor, geo: Geometry) -> Tensor:
    """_input_grad_by_offset in recorded tensor ops (each offset's part padded into place, then summed)."""
    from .nn_ops import constant_pad

    o, cg, kh, kw = w4.shape
    n, groups = gg.shape[:2]
    w5 = w4.reshape(groups, o // groups, cg, kh, kw)
    ph, pw = geo.padded_hw
    (oh, ow), total = geo.out_hw, None
    for i in range(kh):
        top = i * geo.dilation[0]
        for j in range(kw):
            left = j * geo.dilation[1]
            part = (w5[:, :, :, i, j].transpose(1, 2).contiguous() @ gg).reshape(n, groups * cg, oh, ow)
            placed = constant_pad(part, (left, pw - left - ow, top, ph - top - oh), 0.0)
            total = placed if total is None else total + placed
    top, _, left, _ = geo.pads
    h, w = geo.in_hw
    return total[:, :, top : top + h, left : left + w]


def _split_groups(cols, groups: int):
    """(N, G*K, L) columns (an array or a tensor) as (N, G, K, L), also when N is 0."""
    n, rows, length = cols.shape
    return cols.reshape(n, groups, rows // groups, length)


def _merge_groups(cols):
    """(N, G, K, L) as (N, G*K, L), also when N is 0."""
    n, groups, rows, length = cols.shape
    return cols.reshape(n, groups * rows, length)


def _to_4d(a: np.ndarray, spatial: int, unbatched: bool) -> np.ndarray:
    if unbatched:
        a = a[None]
    return a[:, :, None, :] if spatial == 1 else a


def _tensor_4d(t: Tensor, spatial: int, unbatched: bool) -> Tensor:
    if unbatched:
        t = t.unsqueeze(0)
    return t.unsqueeze(2) if spatial == 1 else t


def _tensor_from_4d(t: Tensor, spatial: int, unbatched: bool) -> Tensor:
    if spatial == 1:
        t = t.squeeze(2)
    return t.squeeze(0) if unbatched else t


def convolution(input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups: int, spatial: int) -> Tensor:
    """conv1d / conv2d: cross-correlation of input with weight (O, C/groups, kh, kw) plus bias."""
    op = f"conv{spatial}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}() received an invalid combination of arguments: input must be a Tensor")
    _check_conv(input, weight, bias, groups, spatial, op)
    keep_heap_pages()
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")
    x4 = _to_4d(input._data, spatial, input._data.ndim == spatial + 1)
    w4 = _to_4d(weight._data, spatial, False)
    geo = _conv_geometry(x4, w4, stride, padding, dilation, spatial, op)
    top, bottom, left, right = geo.pads
    if top != bottom or left != right:
        # 'same' with an even reach: pad explicitly (recorded), then convolve without padding
        pad = (left, right) if spatial == 1 else (left, right, top, bottom)
        from .nn_ops import constant_pad

        return convolution(constant_pad(input, pad, 0.0), weight, bias, stride, 0, dilation, groups, spatial)
    unbatched = input._data.ndim == spatial + 1
    n, o = x4.shape[0], w4.shape[0]
    og = o // groups
    w3 = w4.reshape(groups, og, -1)
    wanted = grad_enabled() and (
        input._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)
    )
    if wanted:
        out, cols, lay_batch_last = _columns_product(x4, w3, geo)
    else:
        # Nothing keeps the columns: make and use them a cache-sized piece of the batch at a time (at least
        # BATCH_LAST_MIN_BATCH samples, so every piece takes the layout the whole batch would)
        out = np.empty((n, o) + geo.out_hw, dtype=x4.dtype)
        sample_bytes = w3.shape[2] * groups * geo.out_hw[0] * geo.out_hw[1] * x4.itemsize
        for part in cache_chunks(n, sample_bytes, BATCH_LAST_MIN_BATCH, CONV_CHUNK_BYTES):
            out[part] = _columns_product(x4[part], w3, geo)[0]
    if bias is not None:
        out += bias._data.reshape(o, 1, 1)
    res = wrap(from_4d(out, spatial, unbatched))
    if wanted:
        node = attach(res, ConvolutionBackward0, input, weight, bias)
        node.save(input, weight, wrap(cols))
        node.geo, node.groups, node.spatial, node.unbatched = geo, groups, spatial, unbatched
        node.w_shape, node.batch_last = weight._data.shape, lay_batch_last
    return res


def _columns_product(x4: np.ndarray, w3: np.ndarray, geo: Geometry) -> tuple:
    """A convolution's (N, O, OH, OW) output from its columns; also the columns and whether they are batch-last."""
    n, groups = x4.shape[0], w3.shape[0]
    o = groups * w3.shape[1]
    if batch_last(n, geo):
        cols = im2col_batch_last(to_batch_last(x4, geo), geo)
        out = np.matmul(w3, cols.reshape(groups, -1, cols.shape[1]))  # (groups, O/groups, OH*OW*N)
        return transpose_2d(out.reshape(-1, n)).reshape((n, o) + geo.out_hw), cols, True
    cols = im2col(x4, geo)
    out = np.matmul(w3[0], cols) if groups == 1 else np.matmul(w3, _split_groups(cols, groups))
    return out.reshape((n, o) + geo.out_hw), cols, False


# ---------------------------------------------------------------------------- transposed convolution
class _TransposedConvolutionBackward(Node):
    """Gradients of a transposed convolution (the adjoint of a convolution in its input): input (the weight
    times the gradient's columns), weight (the input times the gradient's columns, summed over the batch)
    and bias. torch names the node as it names a convolution's."""

    def backward_arrays(self, g):
        x, w = self.saved_arrays()
        geo, groups = self.geo, self.groups
        g4 = _to_4d(g._data, self.spatial, False)
        x4 = _to_4d(x, self.spatial, False)
        n, cin = x4.shape[:2]
        length = geo.out_hw[0] * geo.out_hw[1]
        cols = _split_groups(im2col(g4, geo), groups)
        xg = x4.reshape(n, groups, cin // groups, length)
        w3 = w.reshape(groups, cin // groups, -1)
        gx = gw = gb = None
        if self.next_nodes[0] is not None:
            gx = wrap(np.matmul(w3, cols).reshape(x.shape))
        if self.next_nodes[1] is not None:
            gw = wrap(float_sum(np.matmul(xg, cols.transpose(0, 1, 3, 2)), (0,), False, None).reshape(w.shape))
        if len(self.next_nodes) > 2 and self.next_nodes[2] is not None:
            gb = wrap(float_sum(g4, (0, 2, 3), False, None))
        return gx, gw, gb

    def backward(self, g):
        x, w = self.saved_tensors
        geo, groups = self.geo, self.groups
        g4 = _tensor_4d(g, self.spatial, False)
        x4 = _tensor_4d(x, self.spatial, False)
        n, cin = x4.shape[:2]
        length = geo.out_hw[0] * geo.out_hw[1]
        cols = _split_groups(unfold_windows(g4, geo), groups)
        xg = x4.reshape(n, groups, cin // groups, length)
        w3 = w.reshape(groups, cin // groups, -1)
        gx = gw = gb = None
        if self.next_nodes[0] is not None:
            gx = (w3 @ cols).reshape(x.shape)
        if self.next_nodes[1] is not None:
            gw = (xg @ cols.transpose(2, 3)).sum(0).reshape(w.shape)
        if len(self.next_nodes) > 2 and self.next_nodes[2] is not None:
            gb = g4.sum((0, 2, 3))
        return gx, gw, gb


_TransposedConvolutionBackward.__name__ = "ConvolutionBackward0"


def transposed_output_size(in_hw, geo_args, output_padding) -> tuple:
    """(H-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 for each spatial dim."""
    kernel, stride, padding, dilation = geo_args
    return tuple(
        (in_hw[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + output_padding[d] + 1
        for d in range(2)
    )


def conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, spatial: int):
    """conv_transpose1d / 2d: the adjoint of a convolution, weight (C_in, C_out/groups, kh, kw), plus bias."""
    op = f"conv_transpose{spatial}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}() received an invalid combination of arguments: input must be a Tensor")
    full = spatial + 2
    x, w = input._data, weight._data
    if w.ndim != full:
        raise RuntimeError(f"Expected {full}D weight for {op}, but got weight of size {list(w.shape)}")
    if x.ndim != full:
        raise RuntimeError(f"Expected {full}D (batched) input to {op}, but got input of size: {list(x.shape)}")
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[0]} channels, but got {x.shape[1]} channels instead"
        )
    _check_bias_shape(bias, w, w.shape[1] * groups, "transposed=1, ")
    _same_dtype(x, w)
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(
            f"Input type (torch.{dt.scalar_type_name(x.dtype)}Tensor) and bias type "
            f"(torch.{dt.scalar_type_name(bias._data.dtype)}Tensor) should be the same or input should be a MKLDNN "
            "tensor and bias is a dense tensor"
        )
    if x.dtype.kind == "b":
        raise NotImplementedError("\"slow_conv_transpose2d_cpu\" not implemented for 'Bool'")
    keep_heap_pages()
    stride = _spatial_pair(stride, "stride", spatial, 1)
    padding = _spatial_pair(padding, "padding", spatial, 0)
    output_padding = _spatial_pair(output_padding, "output_padding", spatial, 0)
    dilation = _spatial_pair(dilation, "dilation", spatial, 1)
    if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0:
        raise RuntimeError("non-positive stride or dilation, or negative padding, is not supported")
    if any(output_padding[d] >= max(stride[d], dilation[d]) for d in range(2)):
        oh, ow = output_padding
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got output_padding_height: {oh} "
            f"output_padding_width: {ow} stride_height: {stride[0]} stride_width: {stride[1]} dilation_height: "
            f"{dilation[0]} dilation_width: {dilation[1]}"
        )
    x4 = _to_4d(x, spatial, False)
    w4 = _to_4d(w, spatial, False)
    kernel = w4.shape[2:]
    out_hw = transposed_output_size(x4.shape[2:], (kernel, stride, padding, dilation), output_padding)
    if min(out_hw) <= 0:
        raise RuntimeError(f"{op}: the calculated output size {out_hw} is too small for input {list(x.shape)}")
    geo = Geometry(out_hw, kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation, x4.shape[2:])
    n, cin = x4.shape[:2]
    length = x4.shape[2] * x4.shape[3]
    w3 = w4.reshape(groups, cin // groups, -1)
    cols = np.matmul(w3.transpose(0, 2, 1), x4.reshape(n, groups, cin // groups, length))
    out = col2im(_merge_groups(cols), geo)
    if bias is not None:
        out += bias._data.reshape(-1, 1, 1)
    res = wrap(from_4d(out, spatial, False))
    if grad_enabled() and (input._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        node = attach(res, _TransposedConvolutionBackward, input, weight, bias)
        node.save(input, weight)
        node.geo, node.groups, node.spatial = geo, groups, spatial
    return res


# ---------------------------------------------------------------------------- resampling (interpolate)
class UpsampleNearest1DBackward0(Adjoint):
    pass


class UpsampleNearest2DBackward0(Adjoint):
    pass


class UpsampleBilinear2DBackward0(Adjoint):
    pass


class ResampleBackwardBackward(Adjoint):
    """The gradient of a resampling's gradient: the resampling again."""


def resample(input: Tensor, taps: list, out_shape: tuple, node_cls) -> Tensor:
    """out[..., p] = sum over taps (index, weight) of weight[p] * input[..., index[p]], over the flattened
    trailing planes of input; a tap's weight None means 1. Nearest resampling has one tap, bilinear four."""
    a = input._data
    plane = len(out_shape)
    lead = a.shape[: a.ndim - plane]
    flat = a.reshape(lead + (-1,))
    out = None
    for index, weight in taps:
        part = flat[..., index.ravel()]
        if weight is not None:
            part = part * weight.ravel().astype(a.dtype)
        out = part if out is None else np.add(out, part, out=out)
    res = wrap(np.ascontiguousarray(out).reshape(lead + tuple(out_shape)))
    record_adjoint(res, node_cls, input, resample_adjoint, taps, a.shape[a.ndim - plane :], node_cls)
    return res


def resample_adjoint(g: Tensor, taps: list, in_shape: tuple, node_cls) -> Tensor:
    """The adjoint of resample: each output value, times each tap's weight, added onto the tap's input."""
    gd = g._data
    plane = len(in_shape)
    lead = gd.shape[: gd.ndim - plane]
    rows = int(np.prod(lead, dtype=np.int64))
    src = gd.reshape(rows, -1)
    out = np.zeros((rows, int(np.prod(in_shape))), dtype=gd.dtype)
    cols = np.arange(rows)[:, None]
    for index, weight in taps:
        part = src if weight is None else src * weight.reshape(1, -1).astype(gd.dtype)
        np.add.at(out, (cols, index.reshape(1, -1)), part)
    res = wrap(out.reshape(lead + tuple(in_shape)))
    out_shape = gd.shape[gd.ndim - plane :]
    record_adjoint(res, ResampleBackwardBackward, g, resample, taps, out_shape, node_cls)
    return res


def _source_scale(n_in: int, n_out: int, scale) -> float:
    """The input step per output step: 1/scale_factor when one was given, else in/out (torch's rule)."""
    return 1.0 / scale if scale is not None else n_in / n_out


def nearest_taps(in_sizes: tuple, out_sizes: tuple, scales: tuple) -> list:
    """One tap: each output position copies input position floor(out * step) (clamped)."""
    axes = []
    for n_in, n_out, sc in zip(in_sizes, out_sizes, scales):
        if len(in_sizes) == 2 and n_out in (n_in, 2 * n_in):
            # torch's 2-D kernel copies a dim of unchanged size, and halves indices for an exact doubling,
            # whatever scale_factor was asked for
            axes.append(np.arange(n_out) // (n_out // n_in))
            continue
        step = np.float32(_source_scale(n_in, n_out, sc))
        axes.append(np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * step).astype(np.int64), n_in - 1))
    return [(np.ravel_multi_index(np.ix_(*axes), in_sizes), None)]


def bilinear_taps(in_sizes: tuple, out_sizes: tuple, scales: tuple, align_corners: bool, dtype) -> list:
    """Four taps (the corners around each output position's source point) with their bilinear weights."""
    lows, highs, fracs = [], [], []
    for n_in, n_out, sc in zip(in_sizes, out_sizes, scales):
        out_pos = np.arange(n_out, dtype=np.float64)
        if n_out == n_in:  # torch leaves a dim of unchanged size as it is
            src = out_pos
        elif align_corners:
            step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            src = out_pos * step
        else:
            src = np.maximum((out_pos + 0.5) * _source_scale(n_in, n_out, sc) - 0.5, 0.0)
        low = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        lows.append(low)
        highs.append(np.minimum(low + 1, n_in - 1))
        fracs.append((src - low).astype(dtype))
    (h0, w0), (h1, w1), (fh, fw) = lows, highs, fracs
    one = np.asarray(1, dtype)
    taps = []
    for hi, hw in ((h0, one - fh), (h1, fh)):
        for wi, ww in ((w0, one - fw), (w1, fw)):
            taps.append((np.ravel_multi_index(np.ix_(hi, wi), in_sizes), np.outer(hw, ww)))
    return taps


# ---------------------------------------------------------------------------- unfold and fold
class Im2ColBackward0(Adjoint):
    pass


class Col2ImBackward0(Adjoint):
    pass


def unfold_windows(input: Tensor, geo: Geometry) -> Tensor:
    """im2col of a (N, C, H, W) tensor, recorded (its gradient is fold_columns)."""
    check_float(input, "im2col_out_cpu")
    res = wrap(im2col(input._data, geo))
    record_adjoint(res, Im2ColBackward0, input, fold_columns, geo)
    return res


def fold_columns(input: Tensor, geo: Geometry) -> Tensor:
    """col2im of (N, C*kh*kw, L) columns, recorded (its gradient is unfold_windows)."""
    check_float(input, "col2im_out_cpu")
    res = wrap(col2im(input._data, geo))
    record_adjoint(res, Col2ImBackward0, input, unfold_windows, geo)
    return res


def _fold_geometry(in_hw, kernel_size, dilation, padding, stride) -> Geometry:
    kernel, dilation = pair(kernel_size, "kernel_size"), pair(dilation, "dilation")
    padding, stride = pair(padding, "padding"), pair(stride, "stride")
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dH: {dilation[0]} dW: {dilation[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"padding should be non-negative, but got padH: {padding[0]} padW: {padding[1]}")
    return Geometry(tuple(in_hw), kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding (N, C, H, W) windows as columns (N, C*kh*kw, L) (torch.nn.functional.unfold)."""
    a = input._data
    if a.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {a.ndim}D)")
    x = input if a.ndim == 4 else input.unsqueeze(0)
    geo = _fold_geometry(x._data.shape[2:], kernel_size, dilation, padding, stride)
    if min(geo.out_hw) <= 0:
        raise RuntimeError(
            f"Given input with spatial size ({a.shape[-2]}, {a.shape[-1]}), kernel_size={geo.kernel}, "
            f"dilation={geo.dilation}, padding={(geo.pads[0], geo.pads[2])}, calculated shape of the array of "
            f"sliding blocks as ({geo.out_hw[0]}, {geo.out_hw[1]}), but its components must be at least one."
        )
    res = unfold_windows(x, geo)
    return res if a.ndim == 4 else res.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns (N, C*kh*kw, L) added back into (N, C, H, W) (torch.nn.functional.fold)."""
    a = input._data
    if a.ndim not in (2, 3):
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {a.ndim}D)"
        )
    x = input if a.ndim == 3 else input.unsqueeze(0)
    out_hw = pair(output_size, "output_size")
    geo = _fold_geometry(out_hw, kernel_size, dilation, padding, stride)
    k = geo.kernel[0] * geo.kernel[1]
    if x._data.shape[1] % k:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={x._data.shape[1]} and kernel_size={geo.kernel}"
        )
    if x._data.shape[2] != geo.out_hw[0] * geo.out_hw[1]:
        raise RuntimeError(
            f"Given output_size={out_hw}, kernel_size={geo.kernel}, dilation={geo.dilation}, "
            f"padding={(geo.pads[0], geo.pads[2])}, stride={geo.stride}, expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {geo.out_hw[0]} * {geo.out_hw[1]} = "
            f"{geo.out_hw[0] * geo.out_hw[1]}, but got input.size(2)={x._data.shape[2]}."
        )
    res = fold_columns(x, geo)
    return res if a.ndim == 3 else res.squeeze(0)


# ---------------------------------------------------------------------------- pooling
def _pool_geometry(x4: np.ndarray, kernel_size, stride, padding, dilation, ceil_mode: bool, spatial: int) -> Geometry:
    kernel = _spatial_pair(kernel_size, "kernel_size", spatial, 1)
    stride = (
        kernel
        if stride is None or (not isinstance(stride, int) and len(stride) == 0)
        else (_spatial_pair(stride, "stride", spatial, 1))
    )
    padding = _spatial_pair(padding, "padding", spatial, 0)
    dilation = _spatial_pair(dilation, "dilation", spatial, 1)
    if min(kernel) <= 0:
        raise RuntimeError(
            f"kernel_size must be greater than zero, but got {kernel[-spatial:] if spatial == 1 else kernel}"
        )
    if min(stride) <= 0:
        raise RuntimeError("stride should be greater than zero")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    for d in range(2):
        if padding[d] * 2 > kernel[d]:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={padding[d]}, "
                f"kernel_size={kernel[d]} and dilation={dilation[d]}"
            )
    out = []
    for d in range(2):
        size, k, s, p, dl = x4.shape[2 + d], kernel[d], stride[d], padding[d], dilation[d]
        span = size + 2 * p - dl * (k - 1) - 1
        n = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (n - 1) * s >= size + p:
            n -= 1  # the last window must start inside the input or its left padding
        out.append(n)
    geo = Geometry(x4.shape[2:], kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation, tuple(out))
    if min(out) <= 0:
        shape = x4.shape[1:] if spatial == 2 else (x4.shape[1], x4.shape[3])
        size = "x".join(str(s) for s in shape)
        outs = "x".join(str(s) for s in ((x4.shape[1],) + tuple(out[-spatial:])))
        raise RuntimeError(f"Given input size: ({size}). Calculated output size: ({outs}). Output size is too small")
    return geo


class MaxPool2DWithIndicesBackward0(Node):
    """The gradient goes to the one input position each window chose (positions chosen by several windows
    collect all of theirs)."""

    def backward_arrays(self, g):
        gd = _to_4d(g._data, self.spatial, self.unbatched)
        n, c = gd.shape[:2]
        h, w = self.geo.in_hw
        geo = self.geo
        if self.disjoint:
            # Each input position lies in at most one window: one pass per kernel offset writes the
            # gradient where that offset was chosen (plus 0.0, so a -0 arrives as the +0 a sum would give).
            # The choice is applied as a bit mask (all ones or all zeros) on the gradient's bits: exact for
            # every value, infinities and NaNs included, and 3x faster here than np.where.
            bits = np.dtype(f"u{gd.itemsize}")
            share = (gd + gd.dtype.type(0)).view(bits)
            mask = np.empty(share.shape, bits)
            ph, pw = geo.padded_hw
            out = np.zeros((n, c, ph, pw), dtype=gd.dtype)
            out_bits = out.view(bits)
            k = 0
            for i in range(geo.kernel[0]):
                rows = geo.window_slice(0, i)
                for j in range(geo.kernel[1]):
                    np.negative(np.equal(self.local, k).view(np.uint8), out=mask, dtype=bits)
                    np.bitwise_and(share, mask, out=out_bits[:, :, rows, geo.window_slice(1, j)])
                    k += 1
            return (wrap(from_4d(_crop(out, geo), self.spatial, self.unbatched)),)
        flat = np.zeros((n * c, h * w), dtype=gd.dtype)
        idx = self.indices()
        np.add.at(flat, (np.arange(n * c)[:, None], idx.reshape(n * c, -1)), gd.reshape(n * c, -1))
        return (wrap(from_4d(flat.reshape(n, c, h, w), self.spatial, self.unbatched)),)

    def indices(self) -> np.ndarray:
        """Where each output's value came from, as flat indices into its input plane."""
        return _max_indices(self.local, self.geo)

    def backward(self, g):
        idx = wrap(self.indices())
        g4 = _tensor_4d(g, self.spatial, self.unbatched)
        n, c = g4.shape[:2]
        h, w = self.geo.in_hw
        flat = g4.new_zeros((n * c, h * w)).scatter_add(1, idx.reshape(n * c, -1), g4.reshape(n * c, -1))
        return (_tensor_from_4d(flat.reshape(n, c, h, w), self.spatial, self.unbatched),)


def _first_real_offset(geo: Geometry) -> np.ndarray:
    """For each window (OH, OW): the first kernel offset, in scan order, that falls inside the unpadded input."""
    top, _, left, _ = geo.pads
    rows = [np.arange(geo.out_hw[0]) * geo.stride[0] - top + i * geo.dilation[0] for i in range(geo.kernel[0])]
    cols = [np.arange(geo.out_hw[1]) * geo.stride[1] - left + j * geo.dilation[1] for j in range(geo.kernel[1])]
    first = np.zeros(geo.out_hw, dtype=np.int64)
    found = np.zeros(geo.out_hw, dtype=bool)
    k = 0
    for r in rows:
        for c in cols:
            inside = ((r >= 0) & (r < geo.in_hw[0]))[:, None] & ((c >= 0) & (c < geo.in_hw[1]))[None, :]
            first[inside & ~found] = k
            found |= inside
            k += 1
    return first


def _max_indices(local: np.ndarray, geo: Geometry) -> np.ndarray:
    """Each window's chosen kernel offset (local) as an index into the input's H*W plane (int64)."""
    top, _, left, _ = geo.pads
    w_in = geo.in_hw[1]
    corner = (np.arange(geo.out_hw[0]) * geo.stride[0] - top)[:, None] * w_in + (
        np.arange(geo.out_hw[1]) * geo.stride[1] - left
    )
    offsets = np.array(
        [i * geo.dilation[0] * w_in + j * geo.dilation[1] for i in range(geo.kernel[0]) for j in range(geo.kernel[1])]
    )
    return corner + offsets[local]


def _window_maxima(p: np.ndarray, geo: Geometry, best: np.ndarray, local: np.ndarray) -> None:
    """Fill best with each window's maximum over the padded planes p and local with the kernel offset it
    came from (the first among ties)."""
    windows = [
        p[:, :, geo.window_slice(0, i), geo.window_slice(1, j)]
        for i in range(geo.kernel[0])
        for j in range(geo.kernel[1])
    ]
    # One pass per kernel offset: keep the larger value and which offset it came from (the first among ties).
    # (Masked copies are slow in NumPy: the value is a maximum, the offset an update in wrapping integers,
    # local + take * (k - local), which is exact for either outcome of take.)
    np.copyto(best, windows[0])
    local[...] = 0
    step = np.empty_like(local)
    for k, v in enumerate(windows[1:], 1):
        take = np.greater(v, best)
        np.maximum(best, v, out=best)
        np.subtract(local.dtype.type(k), local, out=step)
        np.multiply(step, take, out=step)
        np.add(local, step, out=local)


def max_pool(
    input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, return_indices: bool, spatial: int
):
    """max_pool1d / max_pool2d: the largest value of each window (the first one among ties, a NaN over any
    number), and optionally where it was, as an index into each (H*W) plane."""
    x4, unbatched = as_4d(input, spatial, f"max_pool{spatial}d")
    keep_heap_pages()
    if x4.dtype.kind == "b":
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    geo = _pool_geometry(x4, kernel_size, stride, padding, dilation, ceil_mode, spatial)
    if min(x4.shape[1:]) == 0:
        raise RuntimeError(f"max_pool{spatial}d: Expected input's non-batch dimensions to have positive length")
    fill = -np.inf if x4.dtype.kind == "f" else np.iinfo(x4.dtype).min
    p = padded(x4, geo, fill)
    n, c = p.shape[:2]
    planes = p.reshape((n * c, 1) + p.shape[2:])
    best = np.empty((n * c, 1) + geo.out_hw, dtype=p.dtype)
    local = np.empty(best.shape, np.uint8 if geo.kernel[0] * geo.kernel[1] <= 256 else np.int64)
    for part in cache_chunks(n * c, p.shape[2] * p.shape[3] * p.itemsize):
        _window_maxima(planes[part], geo, best[part], local[part])
    best, local = best.reshape((n, c) + geo.out_hw), local.reshape((n, c) + geo.out_hw)
    if x4.dtype.kind == "f" and np.isnan(best).any():
        offsets = [(i, j) for i in range(geo.kernel[0]) for j in range(geo.kernel[1])]
        for k, (i, j) in enumerate(offsets):  # torch keeps a window's last NaN
            v = p[:, :, geo.window_slice(0, i), geo.window_slice(1, j)]
            nan = np.isnan(v)
            np.copyto(best, v, where=nan)
            np.copyto(local, k, where=nan)
    if p is not x4:
        # A window whose real values all equal the padding's fill (-inf, or the integer minimum) took a padding
        # offset; torch starts each window at its first real element, which then stays the choice.
        at_fill = best == fill
        if at_fill.any():
            np.copyto(local, _first_real_offset(geo).astype(local.dtype), where=at_fill)
    res = wrap(from_4d(best, spatial, unbatched))
    indices = wrap(from_4d(_max_indices(local, geo), spatial, unbatched)) if return_indices else None
    if input._requires_grad and grad_enabled():
        node = attach(res, MaxPool2DWithIndicesBackward0, input)
        node.geo, node.spatial, node.unbatched, node.local = geo, spatial, unbatched, local
        node.disjoint = all(geo.stride[d] >= geo.dilation[d] * (geo.kernel[d] - 1) + 1 for d in range(2))
    if return_indices:
        return res, indices
    return res


def _avg_divisors(geo: Geometry, count_include_pad: bool, divisor_override) -> np.ndarray:
    """Each window's divisor, shaped (OH, OW), by torch's rule."""
    if divisor_override is not None:
        return None
    sizes = []
    for d in range(2):
        k, s, p, size = geo.kernel[d], geo.stride[d], geo.pads[2 * d], geo.in_hw[d]
        start = np.arange(geo.out_hw[d]) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        sizes.append(end - start)
    return np.outer(sizes[0], sizes[1])


class AvgPool2DBackward0(Adjoint):
    """Each window's gradient, divided by its divisor, spread evenly over the window (avg_pool_spread)."""


class AvgPool2DBackwardBackward0(Adjoint):
    pass


def avg_pool_sum(input: Tensor, geo: Geometry, divisor, spatial: int, unbatched: bool) -> Tensor:
    """Each window's sum over the zero-padded input (added in window order), divided by its divisor."""
    x4 = _to_4d(input._data, spatial, unbatched)
    p = padded(x4, geo, 0)
    total = None
    for i in range(geo.kernel[0]):
        rows = geo.window_slice(0, i)
        for j in range(geo.kernel[1]):
            v = p[:, :, rows, geo.window_slice(1, j)]
            total = v.copy() if total is None else np.add(total, v, out=total)
    if total.dtype.kind == "f":
        total /= divisor if isinstance(divisor, np.ndarray) else np.asarray(divisor, total.dtype)
    else:  # integers: the quotient truncated towards zero, as C++ divides
        total = (np.sign(total) * (np.abs(total) // divisor)).astype(total.dtype)
    res = wrap(from_4d(total, spatial, unbatched))
    record_adjoint(res, AvgPool2DBackward0, input, avg_pool_spread, geo, divisor, spatial, unbatched)
    return res


def avg_pool_spread(g: Tensor, geo: Geometry, divisor, spatial: int, unbatched: bool) -> Tensor:
    """The adjoint of avg_pool_sum: each window's value over its divisor, added onto the window's positions
    (each position collects in the order of the windows, as torch's backward does)."""
    g4 = _to_4d(g._data, spatial, unbatched)
    share = g4 / (divisor if isinstance(divisor, np.ndarray) else np.asarray(divisor, g4.dtype))
    ph, pw = geo.padded_hw
    out = np.zeros(g4.shape[:2] + (ph, pw), dtype=g4.dtype)
    for i in reversed(range(geo.kernel[0])):
        rows = geo.window_slice(0, i)
        for j in reversed(range(geo.kernel[1])):
            out[:, :, rows, geo.window_slice(1, j)] += share
    res = wrap(from_4d(_crop(out, geo), spatial, unbatched))
    record_adjoint(res, AvgPool2DBackwardBackward0, g, avg_pool_sum, geo, divisor, spatial, unbatched)
    return res


def avg_pool(input: Tensor, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, spatial):
    """avg_pool1d / avg_pool2d: the mean of each window, by torch's divisor rule."""
    x4, unbatched = as_4d(input, spatial, f"avg_pool{spatial}d")
    keep_heap_pages()
    if x4.dtype.kind == "b" or (x4.dtype.kind in "iu" and x4.dtype != np.int64):
        check_float(input, "avg_pool2d")  # torch averages int64 only among the integer types
    geo = _pool_geometry(x4, kernel_size, stride, padding, 1, ceil_mode, spatial)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    divisor = divisor_override if divisor_override is not None else _avg_divisors(geo, count_include_pad, None)
    if isinstance(divisor, np.ndarray) and x4.dtype.kind == "f":
        divisor = divisor.astype(x4.dtype)
    return avg_pool_sum(input, geo, divisor, spatial, unbatched)


class AdaptiveAvgPool2DBackward0(Adjoint):
    pass


class AdaptiveAvgPool2DBackwardBackward0(Adjoint):
    pass


class AdaptiveMaxPool2DBackward0(MaxPool2DWithIndicesBackward0):
    """Like max pooling's: the gradient goes to where each cell's maximum was (cells may overlap)."""

    disjoint = False

    def indices(self) -> np.ndarray:
        return self.index


def adaptive_max_pool(input: Tensor, sizes: tuple, return_indices: bool):
    """The largest value of each adaptive cell of a (N, C, H, W) input (the first among ties, the last of
    several NaNs, as torch), and where it was."""
    x4 = input._data
    check_float(input, "adaptive_max_pool2d")
    n, c, h, w = x4.shape
    if min(h, w) <= 0:
        raise RuntimeError("adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions")
    bounds = _adaptive_bounds((h, w), sizes)
    out = np.empty((n, c) + tuple(sizes), dtype=x4.dtype)
    index = np.empty((n, c) + tuple(sizes), dtype=np.int64)
    for i, (h0, h1) in enumerate(bounds[0]):
        for j, (w0, w1) in enumerate(bounds[1]):
            cell = x4[:, :, h0:h1, w0:w1].reshape(n, c, -1)
            k = cell.argmax(-1)
            if x4.dtype.kind == "f":
                nan = np.isnan(cell)
                if nan.any():
                    last_nan = cell.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
                    k = np.where(nan.any(-1), last_nan, k)
            out[:, :, i, j] = np.take_along_axis(cell, k[..., None], -1)[..., 0]
            index[:, :, i, j] = (h0 + k // (w1 - w0)) * w + w0 + k % (w1 - w0)
    res = wrap(out)
    if input._requires_grad and grad_enabled():
        node = attach(res, AdaptiveMaxPool2DBackward0, input)
        node.index, node.spatial, node.unbatched = index, 2, False
        node.geo = Geometry((h, w), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), tuple(sizes))
    return res, wrap(index)


class MaxUnpool2DBackward0(Adjoint):
    pass


class MaxUnpoolBackwardBackward(Adjoint):
    pass


def max_unpool(input: Tensor, indices: Tensor, out_sizes: tuple) -> Tensor:
    """Each value of input placed at its flat index in a zero plane of out_sizes (the trailing dims)."""
    if indices._data.dtype != np.int64:
        raise RuntimeError(
            f"elements in indices should be type int64 but got: {dt.scalar_type_name(indices._data.dtype)}"
        )
    idx = indices._data
    plane = int(np.prod(out_sizes))
    invalid = (idx < 0) | (idx >= plane)
    if invalid.any():
        bad = int(idx.ravel()[np.argmax(invalid.ravel())])  # the first one, as torch reports it
        sizes = "x".join(map(str, out_sizes))
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {sizes})")
    return _place(input, idx, tuple(out_sizes))


def _place(input: Tensor, idx: np.ndarray, out_sizes: tuple) -> Tensor:
    a = input._data
    spatial = len(out_sizes)
    lead = a.shape[: a.ndim - spatial]
    rows = int(np.prod(lead, dtype=np.int64))
    out = np.zeros((rows, int(np.prod(out_sizes))), dtype=a.dtype)
    out[np.arange(rows)[:, None], idx.reshape(rows, -1)] = a.reshape(rows, -1)
    res = wrap(out.reshape(lead + out_sizes))
    record_adjoint(res, MaxUnpool2DBackward0, input, _pick, idx, a.shape[a.ndim - spatial :])
    return res


def _pick(g: Tensor, idx: np.ndarray, in_sizes: tuple) -> Tensor:
    """The adjoint of _place: the values at the indices."""
    gd = g._data
    spatial = len(in_sizes)
    lead = gd.shape[: gd.ndim - spatial]
    rows = int(np.prod(lead, dtype=np.int64))
    out = gd.reshape(rows, -1)[np.arange(rows)[:, None], idx.reshape(rows, -1)]
    res = wrap(np.ascontiguousarray(out).reshape(lead + tuple(in_sizes)))
    record_adjoint(res, MaxUnpoolBackwardBackward, g, _place, idx, gd.shape[gd.ndim - spatial :])
    return res


def _adaptive_bounds(in_hw, out_hw) -> tuple:
    """For each spatial dim, the [start, end) of every output cell: floor(i*H/OH) to ceil((i+1)*H/OH)."""
    return tuple([((i * size) // n, -(-((i + 1) * size) // n)) for i in range(n)] for size, n in zip(in_hw, out_hw))


def adaptive_mean(input: Tensor, bounds, in_hw, spatial: int, unbatched: bool) -> Tensor:
    """The mean of each adaptive cell."""
    x4 = _to_4d(input._data, spatial, unbatched)
    out = np.empty(x4.shape[:2] + (len(bounds[0]), len(bounds[1])), dtype=x4.dtype)
    for i, (h0, h1) in enumerate(bounds[0]):
        for j, (w0, w1) in enumerate(bounds[1]):
            # torch's order: the cell's elements added one by one, then divided by its height, then its width
            total = x4[:, :, h0, w0].copy()
            for h in range(h0, h1):
                for w in range(w0 + (h == h0), w1):
                    total += x4[:, :, h, w]
            total /= x4.dtype.type(h1 - h0)
            total /= x4.dtype.type(w1 - w0)
            out[:, :, i, j] = total
    res = wrap(from_4d(out, spatial, unbatched))
    record_adjoint(res, AdaptiveAvgPool2DBackward0, input, adaptive_spread, bounds, in_hw, spatial, unbatched)
    return res


def adaptive_spread(g: Tensor, bounds, in_hw, spatial: int, unbatched: bool) -> Tensor:
    """The adjoint of adaptive_mean: each cell's value over its size, added onto the cell."""
    g4 = _to_4d(g._data, spatial, unbatched)
    out = np.zeros(g4.shape[:2] + tuple(in_hw), dtype=g4.dtype)
    for i, (h0, h1) in enumerate(bounds[0]):
        for j, (w0, w1) in enumerate(bounds[1]):
            share = g4[:, :, i, j] / g4.dtype.type(h1 - h0) / g4.dtype.type(w1 - w0)
            out[:, :, h0:h1, w0:w1] += share[:, :, None, None]
    res = wrap(from_4d(out, spatial, unbatched))
    record_adjoint(res, AdaptiveAvgPool2DBackwardBackward0, g, adaptive_mean, bounds, in_hw, spatial, unbatched)
    return res


def adaptive_avg_pool(input: Tensor, output_size, spatial: int) -> Tensor:
    """adaptive_avg_pool1d / 2d: output_size cells (None keeps the input's size), each the mean of its part."""
    x4, unbatched = as_4d(input, spatial, f"adaptive_avg_pool{spatial}d")
    if x4.dtype.kind != "f":
        check_float(input, "adaptive_avg_pool2d")
    in_hw = x4.shape[2:]
    if spatial == 1:
        sizes = (1,) + (pair(output_size, "output_size", 1))
    elif isinstance(output_size, (int, np.integer)):
        sizes = (int(output_size),) * 2
    else:
        sizes = tuple(in_hw[d] if s is None else int(s) for d, s in enumerate(output_size))
    if min(in_hw) <= 0:
        raise RuntimeError(
            f"adaptive_avg_pool{spatial}d(): Expected input to have non-zero size for non-batch dimensions"
        )
    if min(sizes) < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0")
    return adaptive_mean(input, _adaptive_bounds(in_hw, sizes), in_hw, spatial, unbatched)

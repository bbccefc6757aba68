"""Float sums in the order torch's CPU kernel adds terms, so printed float32 results match digit for digit.

torch sums a contiguous run of floats as SIMD vectors: four interleaved vector accumulators, each a
cascade of four levels that are flushed upwards every 2**p rows, a scalar tail, then the vector lanes
one by one. The order is reproduced here with vectorised NumPy; every partial sum is accumulated
sequentially (np.add.accumulate never reorders), in the input's own float type.
"""

from __future__ import annotations

import math

import numpy as np

# torch splits reductions larger than this across threads; the split points depend on the thread count
# of the machine, so beyond it the order cannot be predicted and plain NumPy is used instead.
SERIAL_LIMIT = 32768

_ILP = 4
_LEVELS = 4


# torch registers its sum kernel without an AVX-512 build, so even AVX-512 machines run the AVX2
# (32-byte, 8 float / 4 double lanes) code, as does the generic fallback.
_VECTOR_BYTES = 32


def _ceil_log2(n: int) -> int:
    return 1 if n <= 2 else (n - 1).bit_length()


def _seq(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Left-to-right sum along axis (starting from zero), never pairwise."""
    if a.shape[axis] == 0:
        shape = a.shape[:axis] + a.shape[axis + 1 :]
        return np.zeros(shape, a.dtype)
    if a.shape[axis] == 1:
        return a.take(0, axis=axis)
    # reducing along a non-innermost axis of a C-ordered array adds whole slices in turn
    if a.ndim > axis + 1 and a.size // a.shape[axis] > 1:
        return np.add.reduce(a, axis=axis)
    return np.add.accumulate(a, axis=axis).take(-1, axis=axis)


def _cascade(rows: np.ndarray) -> np.ndarray:
    """Sum of rows (shape (size, ...)) through the four-level cascade, one accumulator per trailing element."""
    size = rows.shape[0]
    step = 1 << max(4, _ceil_log2(size) // _LEVELS)
    full = size // step
    if not full:
        return _seq(rows)
    rest = rows.shape[1:]
    # levels are added lowest first; an empty level holds zero and is skipped (adding zero is exact)
    parts = [rows[full * step :]]
    blocks = _seq(rows[: full * step].reshape((full, step) + rest), axis=1)
    for _ in range(_LEVELS - 2):
        kept = blocks.shape[0] // step
        parts.append(blocks[kept * step :])
        if not kept:
            break
        blocks = _seq(blocks[: kept * step].reshape((kept, step) + rest), axis=1)
    else:
        parts.append(blocks)
    total = None
    for part in parts:
        if part.shape[0]:
            total = _seq(part) if total is None else total + _seq(part)
    return total


_ROW_ORDERS: dict = {}


def _row_order(n: int) -> np.ndarray:
    """Row order of a row_sum over n rows (4 <= n < 8): accumulator 0, the tail rows, accumulators 1-3."""
    order = _ROW_ORDERS.get(n)
    if order is None:
        order = _ROW_ORDERS[n] = np.array([0, *range(_ILP, n), 1, 2, 3], dtype=np.intp)
    return order


def _row_sum(rows: np.ndarray) -> np.ndarray:
    """torch's row_sum over axis 0: rows dealt round-robin to four cascades, tail rows to the first."""
    n = rows.shape[0]
    groups = n // _ILP
    if not groups:
        return _seq(rows)
    if groups == 1:
        # One row per accumulator: the sum is a left-to-right sum of the rows in a fixed order.
        return _seq(rows[_row_order(n)])
    partial = _cascade(rows[: groups * _ILP].reshape((groups, _ILP) + rows.shape[1:]))
    if n == groups * _ILP:
        return _seq(np.ascontiguousarray(partial))
    return _seq(np.concatenate((partial[:1], rows[groups * _ILP :], partial[1:])))


def _inner(x: np.ndarray) -> np.ndarray:
    """Sums of the rows of a C-contiguous (P, R) array, each added like one contiguous torch row."""
    lanes = _VECTOR_BYTES // x.itemsize
    rows, size = x.shape
    if size < lanes:
        return _row_sum(x.T)
    body = size // lanes * lanes
    vec = _row_sum(x[:, :body].reshape(rows, -1, lanes).transpose(1, 0, 2))
    return _seq(np.concatenate((x[:, body:], vec), axis=1), axis=1)


def _outer(x: np.ndarray) -> np.ndarray:
    """Sums over axis 1 of a C-contiguous (P, R, Q) array, Q > 1: torch's column-wise (outer) kernels."""
    lanes = _VECTOR_BYTES // x.itemsize
    q = x.shape[2]
    group = _ILP * lanes if q >= lanes else _ILP  # columns that share one multi-row cascade
    split = q // group * group
    cols = x.transpose(1, 0, 2)
    if split == q:
        return _cascade(cols)
    if split == 0:
        return _row_sum(cols)
    out = np.empty((x.shape[0], q), x.dtype)
    out[:, :split] = _cascade(cols[:, :, :split])
    out[:, split:] = _row_sum(cols[:, :, split:])
    return out


def _chunked(flat: np.ndarray, threads: int) -> np.ndarray:
    """A large full sum split over threads the way torch's two-pass reduction splits it."""
    used = min(threads, -(-flat.size // SERIAL_LIMIT))
    chunk = -(-flat.size // used)
    parts = [_inner(flat[i : i + chunk].reshape(1, -1))[0] for i in range(0, flat.size, chunk)]
    parts += [flat.dtype.type(0)] * (threads - used)
    return _inner(np.array(parts, flat.dtype).reshape(1, -1))[0]


_LANE_ORDERS: dict = {}


def _small_full_sum(flat: np.ndarray):
    """_inner's sum of a short contiguous 1-D array (fewer than four vectors, so no cascade), in few NumPy calls.

    Below one vector the elements go round-robin to four scalar accumulators (a fixed order); with
    one to three vectors each lane adds its elements in turn, then the tail and the lanes are added
    left to right."""
    n = flat.shape[0]
    lanes = _VECTOR_BYTES // flat.itemsize
    if n < lanes:
        return np.add.accumulate(flat if n < _ILP else flat.take(_row_order(n)))[-1]
    vectors = n // lanes
    if vectors == 1:
        order = _LANE_ORDERS.get((n, lanes))
        if order is None:
            order = _LANE_ORDERS[(n, lanes)] = np.array([*range(lanes, n), *range(lanes)], dtype=np.intp)
        return np.add.accumulate(flat.take(order))[-1]
    body = vectors * lanes
    lane_sums = np.add.reduce(flat[:body].reshape(vectors, lanes), axis=0)
    return np.add.accumulate(np.concatenate((flat[body:], lane_sums)))[-1]


_PLANS: dict = {}
_reduce = np.add.reduce


def plan_of(shape: tuple, dims: tuple, itemsize: int, keepdim: bool = False):
    """A function computing torch_order_sum for C-contiguous arrays of this shape (dims partial, sorted),
    or None where the order is not reproduced. With keepdim its result keeps the reduced dims as size 1.
    Built once per (shape, dims, itemsize, keepdim) and cached."""
    key = (shape, dims, itemsize, keepdim)
    plan = _PLANS.get(key, _PLANS)
    if plan is _PLANS:
        plan = _build_plan(shape, dims, itemsize, keepdim)
        if len(_PLANS) < 4096:
            _PLANS[key] = plan
    return plan


def _build_plan(shape: tuple, dims: tuple, itemsize: int, keepdim: bool):
    if keepdim:
        out_shape = tuple(1 if i in dims else s for i, s in enumerate(shape))
    else:
        out_shape = tuple(s for i, s in enumerate(shape) if i not in dims)
    # size-1 axes vanish in torch's iterator; the reduced ones left must form one block (P, R, Q)
    kept = [(s, i in dims) for i, s in enumerate(shape) if s != 1]
    flags = [r for _, r in kept]
    if not any(flags):
        return lambda a: (a + a.dtype.type(0)).reshape(out_shape)
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    if not all(flags[first : last + 1]):
        return None
    sizes = [s for s, _ in kept]
    p, r, q = math.prod(sizes[:first]), math.prod(sizes[first : last + 1]), math.prod(sizes[last + 1 :])
    lanes = _VECTOR_BYTES // itemsize
    # Short reductions (under two accumulator rounds, no cascade) are one NumPy reduction, after putting
    # rows 4.. between accumulator 0 and accumulators 1-3 when there are 4 to 7 of them: exactly the
    # steps _inner and _outer take for them, without the general path's bookkeeping. Starting the
    # reduction from +0 (initial=0.0) equals adding +0 at the end: both only turn an all -0 sum into +0.
    if r < 2 * _ILP and (q == 1 and r < lanes and p > 1 or q > 1 and q < (_ILP * lanes if q >= lanes else _ILP)):
        order = _row_order(r) if r >= _ILP else None
        flat_out = out_shape == (p * q,)
        if q == 1:

            def short_rows(a):
                rows = a.reshape(p, r).T
                res = _reduce(rows if order is None else rows.take(order, 0), 0, None, None, False, 0.0)
                return res if flat_out else res.reshape(out_shape)

            return short_rows

        if p == 1:
            # One block of rows: reduce the rows themselves (the same slices, added in the same order).
            def short_block(a):
                rows = a.reshape(r, q)
                res = _reduce(rows if order is None else rows.take(order, 0), 0, None, None, False, 0.0)
                return res if flat_out else res.reshape(out_shape)

            return short_block

        def short_cols(a):
            cols = a.reshape(p, r, q).transpose(1, 0, 2)
            res = _reduce(cols if order is None else cols.take(order, 0), 0, None, None, False, 0.0)
            return res.reshape(p * q) if flat_out else res.reshape(out_shape)

        return short_cols

    def general(a):
        res = _inner(a.reshape(p, r)) if q == 1 else _outer(a.reshape(p, r, q))
        return (res + a.dtype.type(0)).reshape(out_shape)

    return general


def torch_order_sum(a: np.ndarray, dims: tuple, threads: int | None = None) -> np.ndarray | None:
    """Sum of a float32/float64 array over dims (sorted, non-empty) in torch's CPU order.

    The result has the reduced dims removed. Returns None where the order is not reproduced (strided
    input, reductions torch would run on several threads when threads is None, reduced dims that are
    not adjacent); the caller then falls back to NumPy."""
    if len(dims) != a.ndim:
        if not 0 < a.size <= SERIAL_LIMIT or not a.flags.c_contiguous:
            return None
        plan = plan_of(a.shape, dims, a.itemsize)
        return None if plan is None else plan(a)
    zero = a.dtype.type(0)  # torch's accumulators start at +0, so an all -0 sum comes out +0
    if a.flags.c_contiguous or a.flags.f_contiguous:
        flat = a.reshape(-1) if a.flags.c_contiguous else a.T.reshape(-1)
    else:
        return None
    if 0 < flat.size < _ILP * _VECTOR_BYTES // flat.itemsize:
        return _small_full_sum(flat) + zero
    if 0 < flat.size <= SERIAL_LIMIT:
        return _inner(flat.reshape(1, -1))[0] + zero
    if flat.size and threads is not None:
        return _chunked(flat, threads) + zero
    return None

"""Variable-length sequences for the recurrent layers: PackedSequence and the pad/pack conversions.

A PackedSequence stores the time steps of a batch one after another (time-major): step t holds the
rows of the batch_sizes[t] sequences still running, longest first. Every conversion is one gather (an
indexing op), so gradients flow back to the padded or packed tensors.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import _creation
from ... import _dtype as dt
from ..._tensor import Tensor
from ...ops import shape as _shape

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_PackedFields = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _long(values) -> Tensor:
    return _creation.tensor(np.asarray(values, dtype=np.int64).reshape(-1), dtype=dt.int64)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes the given one (None stays None)."""
    if permutation is None:
        return None
    return _long(np.argsort(np.asarray(permutation.tolist(), dtype=np.int64), kind="stable"))


class PackedSequence(_PackedFields):
    """Time-major rows of a batch of sequences (data), the batch size of each step, and the sort order."""

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch's older form: PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequence with data converted as Tensor.to does (the indices stay int64)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        """Itself: ember's tensors live on the CPU."""
        return self.to("cpu")

    def cuda(self, *args, **kwargs) -> PackedSequence:
        """Moves data to a CUDA device (raises: ember is CPU-only)."""
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def double(self) -> PackedSequence:
        """data as float64."""
        return self.to(dtype=dt.float64)

    def float(self) -> PackedSequence:
        """data as float32."""
        return self.to(dtype=dt.float32)

    def half(self) -> PackedSequence:
        """data as float16."""
        return self.to(dtype=dt.float16)

    def long(self) -> PackedSequence:
        """data as int64."""
        return self.to(dtype=dt.int64)

    def int(self) -> PackedSequence:
        """data as int32."""
        return self.to(dtype=dt.int32)

    @property
    def is_cuda(self) -> bool:
        """False: ember's tensors live on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """False: ember has no pinned memory."""
        return False


def _lengths_list(lengths) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(
                f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D cpu Long tensor"
            )
        return [int(v) for v in lengths.tolist()]
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D cpu Long tensor")
    return [int(v) for v in arr.tolist()]


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | list[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded (T, B, *) (or (B, T, *) with batch_first) batch whose sequences have the given lengths."""
    lens = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        values, sorted_indices = _long(lens).sort(descending=True)
        lens = [int(v) for v in values.tolist()]
        input = input.index_select(batch_dim, sorted_indices)
    T, B = input.shape[1 - batch_dim], input.shape[batch_dim]
    if len(lens) != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size={B})")
    if not lens or lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if lens[0] > T:
        raise RuntimeError(f"the longest sequence has length {lens[0]} but the input holds only {T} time steps")
    counts = np.asarray(lens)
    batch_sizes = [int((counts > t).sum()) for t in range(lens[0])]
    rows = [(b * T + t) if batch_first else (t * B + b) for t, bs in enumerate(batch_sizes) for b in range(bs)]
    flat = input.reshape(T * B, *input.shape[2:])
    data = flat[_long(rows)]
    return PackedSequence(data, _long(batch_sizes), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, Tensor]:
    """The padded batch (T, B, *) (or (B, T, *)) and the lengths of a PackedSequence, in the original order."""
    data, batch_sizes, _, unsorted_indices = sequence
    sizes = [int(v) for v in batch_sizes.tolist()]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps_out = total_length
    else:
        steps_out = steps
    B = sizes[0] if sizes else 0
    order = list(range(B)) if unsorted_indices is None else [int(v) for v in unsorted_indices.tolist()]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(offsets[-1])
    idx = np.full((steps_out, B), n, dtype=np.int64)  # row n is the padding row
    for t, bs in enumerate(sizes):
        src = np.asarray(order)
        valid = src < bs
        idx[t, valid] = offsets[t] + src[valid]
    if batch_first:
        idx = idx.T
    pad_row = _creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    source = _shape.cat([data, pad_row], 0)
    padded = source[_long(idx)].reshape(*idx.shape, *data.shape[1:])
    per_sorted = [sum(1 for bs in sizes if bs > b) for b in range(B)]
    return padded, _long([per_sorted[b] for b in order])


def pad_sequence(
    sequences: Tensor | list[Tensor], batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Stack sequences of different lengths (L_i, *) into (T, B, *) (or (B, T, *)), padding with padding_value."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in seqs)
    rows = []
    first = seqs[0].dtype  # torch's result takes the first sequence's dtype
    for s in seqs:
        s = s if s.dtype == first else s.to(first)
        missing = longest - s.shape[0]
        if missing:
            pad = _creation.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = _shape.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return _shape.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | list[int], batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = _lengths_list(lengths)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), lens)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences (longest first unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

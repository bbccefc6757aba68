"""Tensor repr in torch's format: precision 4, shared width, sci-mode switch, '...' summaries."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as dt


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None) -> None:
    """Change how tensors print (same options and profiles as torch)."""
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options."""
    return {k: getattr(PRINT_OPTS, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


class _Formatter:
    """Decides one format for all elements, as torch does, from the values that will be shown."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.is_bool = values.dtype == np.bool_
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if self.is_bool:
            self.max_width = max((len(str(bool(v))) for v in values.flat), default=1)
            return
        if not self.floating:
            self.max_width = max((len(str(int(v))) for v in values.flat), default=1)
            return
        finite = values[np.isfinite(values)].astype(np.float64)
        nonzero = np.abs(finite[finite != 0])
        if finite.size == 0:
            self.max_width = max((len(self._special(v)) for v in values.flat), default=1)
            return
        if np.all(finite == np.ceil(finite)):
            self.int_mode = True
            if nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1.0e8):
                self.sci_mode = True
        else:
            self.int_mode = False
            if nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1.0e8 or nonzero.min() < 1.0e-4):
                self.sci_mode = True
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
        self.max_width = max((len(self._fmt(v)) for v in values.flat), default=1)

    @staticmethod
    def _special(v) -> str:
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")

    def _fmt(self, v) -> str:
        if self.is_bool:
            return str(bool(v))
        if not self.floating:
            return str(int(v))
        if not np.isfinite(v):
            return self._special(v)
        p = PRINT_OPTS.precision
        v = float(v)
        if self.sci_mode:
            return f"{v:.{p}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{p}f}"

    def format(self, v) -> str:
        return self._fmt(v).rjust(self.max_width)


def _summarized_values(a: np.ndarray, summarize: bool) -> np.ndarray:
    if not summarize or a.ndim == 0:
        return a.reshape(-1)
    e = PRINT_OPTS.edgeitems
    if a.ndim == 1:
        if a.shape[0] > 2 * e:
            return np.concatenate([a[:e], a[-e:]])
        return a
    if a.shape[0] > 2 * e:
        parts = [_summarized_values(a[i], summarize) for i in list(range(e)) + list(range(a.shape[0] - e, a.shape[0]))]
    else:
        parts = [_summarized_values(a[i], summarize) for i in range(a.shape[0])]
    return np.concatenate(parts) if parts else a.reshape(-1)


def _format_1d(a, fmt, indent, summarize) -> str:
    e = PRINT_OPTS.edgeitems
    width = fmt.max_width + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / width)))
    if summarize and a.shape[0] > 2 * e:
        items = [fmt.format(v) for v in a[:e]] + [" ..."] + [fmt.format(v) for v in a[-e:]]
    else:
        items = [fmt.format(v) for v in a]
    lines = [items[i : i + per_line] for i in range(0, len(items), per_line)]
    text = (",\n" + " " * indent).join(", ".join(line) for line in lines)
    return "[" + text + "]"


def _format_nd(a, fmt, indent, summarize) -> str:
    if a.ndim == 0:
        return fmt.format(a.item()) if not fmt.floating else fmt._fmt(a.item())
    if a.ndim == 1:
        return _format_1d(a, fmt, indent + 1, summarize)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = [_format_nd(a[i], fmt, indent + 1, summarize) for i in range(e)]
        rows.append("...")
        rows += [_format_nd(a[i], fmt, indent + 1, summarize) for i in range(n - e, n)]
    else:
        rows = [_format_nd(a[i], fmt, indent + 1, summarize) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def format_data(a: np.ndarray, indent: int) -> str:
    """The bracketed body of a tensor's repr, indented to line up after 'tensor('."""
    summarize = a.size > PRINT_OPTS.threshold
    if a.size == 0:
        return "[]"
    shown = _summarized_values(a, summarize)
    fmt = _Formatter(shown)
    return _format_nd(a, fmt, indent, summarize)


def tensor_repr(t, prefix: str = "tensor(") -> str:
    """torch's repr of a tensor: values, then dtype, grad_fn and requires_grad suffixes."""
    a = t._data
    indent = len(prefix)
    body = format_data(a, indent - 1) if a.ndim else _scalar_body(a)
    suffixes = []
    if a.size == 0 and a.shape != (0,):
        suffixes.append(f"size={tuple(a.shape)}")
    d = t.dtype
    default_dtypes = (dt.get_default_dtype(), dt.int64, dt.bool_)
    if d not in default_dtypes or (a.size == 0 and d is not dt.get_default_dtype() and d is not dt.int64 and False):
        suffixes.append(f"dtype={d!r}")
    elif a.size == 0 and d is not dt.get_default_dtype():
        suffixes.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    for s in suffixes:
        last_line = text.split("\n")[-1]
        if len(last_line) + len(s) + 2 > PRINT_OPTS.linewidth:
            text += ",\n" + " " * indent + s
        else:
            text += ", " + s
    return text + ")"


def _scalar_body(a: np.ndarray) -> str:
    fmt = _Formatter(a.reshape(-1))
    return fmt._fmt(a.item())

"""Tensor repr in torch's exact format: one shared element format, 80-column wrapping, '...' summaries."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from . import _dtype as dt


class _Options:
    """The global print settings (torch's defaults)."""

    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _Options()

_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Change how tensors print; sci_mode is reset to automatic unless given, as in torch."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile '{profile}' (expected default, short or full)")
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = _PROFILES[profile]
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
    """The current print options, as keyword arguments for set_printoptions."""
    return {k: getattr(PRINT_OPTS, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options inside a with block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One format for every element shown, chosen from the nonzero finite values (as torch does)."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            self.max_width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return
        mags = np.abs(shown.astype(np.float64))
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        py_vals = shown.tolist()
        if self.sci_mode:
            self.max_width = max([1] + [len(f"{v:.{p}e}") for v in py_vals])
        elif self.int_mode:
            # Integer-valued floats print with a trailing '.', hence the + 1.
            self.max_width = max([1] + [len(f"{v:.0f}") + 1 for v in py_vals])
        else:
            self.max_width = max([1] + [len(f"{v:.{p}f}") for v in py_vals])

    def format(self, value) -> str:
        """One element (a Python number), right-aligned to the shared width."""
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            text = f"{value}"
        return " " * (self.max_width - len(text)) + text


def _summarized(a: np.ndarray) -> np.ndarray:
    """Only the edge items that a summarized print shows, stacked like the original."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, dtype=a.dtype)
    n = a.shape[0]
    rows = list(range(e)) + list(range(n - e, n)) if n > 2 * e else range(n)
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        items = [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + [fmt.format(v) for v in a[-e:].tolist()]
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        parts = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(e)]
        parts.append("...")
        parts += [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        parts = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_data(a: np.ndarray, indent: int) -> str:
    """The bracketed values of a tensor's repr, continuation lines indented by indent + 1."""
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _nested_str(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    # The length of the last line, plus two for the ", " that a suffix needs.
    used = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if used + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            used = indent + len(s)
        else:
            parts.append(", " + s)
            used += len(s) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, prefix: str = "tensor(") -> str:
    """torch's repr of a tensor: values, then size/dtype, grad_fn or requires_grad suffixes."""
    a = t._data
    indent = len(prefix)
    d = t.dtype
    suffixes = []
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not dt.get_default_dtype():
            suffixes.append(f"dtype={d!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not dt.get_default_dtype() and d is not dt.int64 and d is not dt.bool_:
            suffixes.append(f"dtype={d!r}")
        body = format_data(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def default_repr(obj, module: str | None = None, torch_module: str | None = None) -> str:
    """Python's default `<module.Class object at 0x...>`, with the module named as the running program
    imports it: under `ember run` torch's name (torch_module, or the alias of module) instead of ember's."""
    from . import compat

    mod = module or type(obj).__module__
    if compat.is_installed():
        mod = torch_module or compat.alias_name(mod) or mod
    return f"<{mod}.{type(obj).__qualname__} object at {hex(id(obj))}>"

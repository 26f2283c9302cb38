"""How a tensor prints: PyTorch's layout, so printed results can be compared line by line.

One format is chosen for all elements of a tensor, from its non-zero finite values:

* all of them whole numbers: ``1.``, ``20.`` (scientific if max > 1e8 or max/min > 1000);
* otherwise fixed point with ``precision`` (4) decimals, or scientific notation when
  max/min > 1000, max > 1e8 or min < 1e-4;

every element is right-aligned to the widest one. Rows wrap at ``linewidth`` (80) characters,
and a tensor of more than ``threshold`` (1000) elements is summarised with ``...`` keeping
``edgeitems`` (3) at each end of every dimension. ``lm.set_printoptions`` changes these.

Printing reads every value into Python, so it works on host (NumPy) arrays only:
``Tensor.__repr__`` copies a device tensor's values to the host first (one transfer), and
the NumPy calls here never see a device array.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes

__all__ = ["set_printoptions", "tensor_repr"]


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


OPTIONS = _PrintOptions()


def set_printoptions(precision: int | None = None, threshold: int | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """PyTorch's print options; ``profile`` is 'default', 'short' or 'full'."""
    if profile is not None:
        presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
                   "full": (4, math.inf, 3, 80)}
        if profile not in presets:
            raise ValueError(f"profile must be 'default', 'short' or 'full', got {profile!r}")
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = presets[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """One element format for a whole tensor (see the module docstring)."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        p = OPTIONS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitude = np.abs(finite)
        lo, hi = float(magnitude.min()), float(magnitude.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
            spec = f".{p}e" if self.sci_mode else ".0f"
            extra = 0 if self.sci_mode else 1
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            spec, extra = (f".{p}e" if self.sci_mode else f".{p}f"), 0
        for v in finite.tolist():
            self.width = max(self.width, len(format(v, spec)) + extra)
        if OPTIONS.sci_mode is not None:
            self.sci_mode = OPTIONS.sci_mode

    def format(self, value) -> str:
        if self.floating:
            value = float(value)
            if self.sci_mode:
                text = format(value, f".{OPTIONS.precision}e")
            elif self.int_mode:
                text = format(value, ".0f")
                if math.isfinite(value):
                    text += "."
            else:
                text = format(value, f".{OPTIONS.precision}f")
        else:
            text = str(value.item() if hasattr(value, "item") else value)
        return " " * (self.width - len(text)) + text


def _summarised(values: np.ndarray) -> np.ndarray:
    """The elements that a summarised print shows (edge items of every dimension)."""
    e = OPTIONS.edgeitems
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * e:
        values = np.concatenate([values[:e], values[-e:]])
    return np.stack([_summarised(v) for v in values]) if values.ndim > 1 else values


def _vector(values: np.ndarray, indent: int, summarise: bool, fmt: _Formatter) -> str:
    per_line = max(1, int(math.floor((OPTIONS.linewidth - indent) / (fmt.width + 2))))
    e = OPTIONS.edgeitems
    if summarise and values.shape[0] > 2 * e:
        items = ([fmt.format(v) for v in values[:e]] + [" ..."]
                 + [fmt.format(v) for v in values[-e:]])
    else:
        items = [fmt.format(v) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarise: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(values)
    if values.ndim == 1:
        return _vector(values, indent, summarise, fmt)
    e = OPTIONS.edgeitems
    if summarise and values.shape[0] > 2 * e:
        rows = ([_nested(v, indent + 1, summarise, fmt) for v in values[:e]] + ["..."]
                + [_nested(v, indent + 1, summarise, fmt) for v in values[-e:]])
    else:
        rows = [_nested(v, indent + 1, summarise, fmt) for v in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(values: np.ndarray, suffixes: list[str], prefix: str = "tensor(") -> str:
    """``tensor(<elements>, <suffixes>)`` laid out as PyTorch prints it (``values``: a host
    array)."""
    values = np.asarray(values)
    default = values.dtype in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)
    extras = []
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            extras.append(f"size={tuple(values.shape)}")
        if values.dtype != dtypes.get_default_dtype():
            extras.append(f"dtype=lamina.{values.dtype}")
    else:
        summarise = values.size > OPTIONS.threshold
        fmt = _Formatter(_summarised(values) if summarise else values)
        body = _nested(values, len(prefix), summarise, fmt)
        if not default:
            extras.append(f"dtype=lamina.{values.dtype}")
    return _with_suffixes(prefix + body, extras + suffixes, len(prefix))


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items, starting a new line where one would pass ``linewidth``."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"

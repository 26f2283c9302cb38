"""What counts as lamina computing the same thing as torch.

Comparison (``compare``): the same report names in the same order; tensors with equal dtype
(module prefix dropped: ``float32``), shape and ``requires_grad``, float values within the
program's rtol/atol (defaults 1e-5/1e-6), integer and bool values exactly; numbers of the same
Python type (``float``, not ``float32``: ``.item()`` gives Python numbers), floats within
tolerance; strings equal after the normalisation below (so ``x.type()`` may say
``lamina.LongTensor``); any other object (dtype, device) by its normalised ``str``.
A program sets its tolerances with a header comment ``# compat: rtol=1e-4 atol=1e-5`` (and says why next to it).

Printed output is compared one ``print`` call at a time after this normalisation:
  1. the word ``lamina`` becomes ``torch`` (``lamina.float32`` -> ``torch.float32``,
     ``lamina.Size([2, 3])`` -> ``torch.Size([2, 3])``);
  2. hexadecimal addresses (``0x7f...``) become ``0x?``;
  3. a dtype's module prefix is dropped (``torch.float32`` -> ``float32``): lamina's dtypes
     are NumPy dtypes, whose ``str`` is the bare name (a documented difference, listed in
     docs/guide.md, "Coming from PyTorch").
A call whose text holds a tensor repr (``tensor(`` or ``Parameter containing``) must then match
exactly: torch's print layout is part of the API. In any other text the words must match
exactly and each number must agree to within one unit of its last printed digit plus the
program's rtol/atol (so ``f"{loss.item():.4f}"`` after a training loop does not fail on the
rounding of float differences that the reports already bound).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6


@dataclass(frozen=True)
class Tolerance:
    """|lamina - torch| <= atol + rtol * |torch|, elementwise."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


def program_tolerance(source: str) -> Tolerance:
    """The ``# compat: rtol=... atol=...`` header of a program, or the defaults."""
    values = {}
    for line in source.splitlines():
        m = re.match(r"\s*#\s*compat:(.*)", line)
        if m:
            for key, val in re.findall(r"(rtol|atol)\s*=\s*([0-9.eE+-]+)", m.group(1)):
                values[key] = float(val)
    return Tolerance(**values)


def normalise_text(text: str) -> str:
    """Printed text and strings with the module name and memory addresses made neutral."""
    text = re.sub(r"\blamina\b", "torch", text)
    text = re.sub(r"\btorch\.(float16|float32|float64|int8|int16|int32|int64|uint8|bool)\b",
                  r"\1", text)
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", text)


def _close(a: float, b: float, tol: Tolerance) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol.atol + tol.rtol * abs(b)


def _compare_values(path: str, expected, actual, tol: Tolerance, problems: list) -> None:
    if expected[0] != actual[0]:
        problems.append(f"{path}: torch gave a {expected[0]}, lamina a {actual[0]} "
                        f"({short(actual)})")
        return
    kind = expected[0]
    if kind == "tensor":
        _, edtype, earr, egrad = expected
        _, adtype, aarr, agrad = actual
        if edtype != adtype:
            problems.append(f"{path}: dtype {adtype}, torch has {edtype}")
        if earr.shape != aarr.shape:
            problems.append(f"{path}: shape {list(aarr.shape)}, torch has {list(earr.shape)}")
            return
        if egrad != agrad:
            problems.append(f"{path}: requires_grad={agrad}, torch has {egrad}")
        if earr.dtype.kind in "fc" or aarr.dtype.kind in "fc":
            e64, a64 = earr.astype(np.float64), aarr.astype(np.float64)
            ok = np.isclose(a64, e64, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
        else:
            ok = earr == aarr
        if not np.all(ok):
            bad = np.argwhere(~np.asarray(ok))
            idx = tuple(int(i) for i in bad[0]) if earr.ndim else ()
            problems.append(
                f"{path}: {bad.shape[0]} of {earr.size} values differ (rtol={tol.rtol}, "
                f"atol={tol.atol}); first at {list(idx)}: lamina {aarr[idx].item()!r}, "
                f"torch {earr[idx].item()!r}")
    elif kind == "number":
        if expected[1] != actual[1]:
            problems.append(f"{path}: lamina gave a {actual[1]} ({actual[2]!r}), torch a "
                            f"{expected[1]} ({expected[2]!r})")
        elif expected[1] == "float":
            if not _close(actual[2], expected[2], tol):
                problems.append(f"{path}: lamina {actual[2]!r}, torch {expected[2]!r}")
        elif actual[2] != expected[2]:
            problems.append(f"{path}: lamina {actual[2]!r}, torch {expected[2]!r}")
    elif kind == "str":
        if expected[1] != actual[1]:
            problems.append(f"{path}: lamina {actual[1]!r}, torch {expected[1]!r}")
    elif kind == "list":
        if len(expected[1]) != len(actual[1]):
            problems.append(f"{path}: lamina gave {len(actual[1])} items, torch "
                            f"{len(expected[1])}")
            return
        for i, (e, a) in enumerate(zip(expected[1], actual[1])):
            _compare_values(f"{path}[{i}]", e, a, tol, problems)
    elif kind == "dict":
        ekeys = [k for k, _ in expected[1]]
        akeys = [k for k, _ in actual[1]]
        if ekeys != akeys:
            problems.append(f"{path}: keys {akeys}, torch has {ekeys}")
            return
        for (k, e), (_, a) in zip(expected[1], actual[1]):
            _compare_values(f"{path}[{k!r}]", e, a, tol, problems)


def short(encoded) -> str:
    """One line describing an encoded report value."""
    if encoded[0] == "tensor":
        return f"{encoded[1]} {list(encoded[2].shape)}"
    return repr(encoded[-1])[:80]


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _printed_close(expected: str, actual: str, tol: Tolerance) -> bool:
    """Same words; each number within one unit of its last printed digit plus tolerance."""
    e_words, a_words = _NUMBER.split(expected), _NUMBER.split(actual)
    if e_words != a_words:
        return False
    for e, a in zip(_NUMBER.findall(expected), _NUMBER.findall(actual)):
        if e == a:
            continue
        if not re.search(r"[.eE]", e + a):  # integers (counts, epochs, sizes) exactly
            return False
        mantissa = re.split(r"[eE]", e)[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(re.split(r"[eE]", e)[1]) if re.search(r"[eE]", e) else 0
        unit = 10.0 ** (exponent - decimals)
        if abs(float(a) - float(e)) > 1.01 * unit + tol.atol + tol.rtol * abs(float(e)):
            return False
    return True


def compare(expected, actual, tol: Tolerance = Tolerance()) -> list[str]:
    """Everything in ``actual`` (lamina's RunResult) that differs from ``expected`` (torch's)."""
    problems: list[str] = []
    if actual.error is not None:
        problems.append(actual.describe_error())
    e_names = [n for n, _ in expected.reports]
    a_names = [n for n, _ in actual.reports]
    if actual.error is not None:  # a failed run is compared up to where it stopped
        e_names = e_names[:len(a_names)]
    if e_names != a_names:
        i = next((i for i, (e, a) in enumerate(zip(e_names, a_names)) if e != a),
                 min(len(e_names), len(a_names)))
        problems.append(f"report #{i}: lamina reported "
                        f"{a_names[i] if i < len(a_names) else 'nothing'!r}, torch "
                        f"{e_names[i] if i < len(e_names) else 'nothing'!r}")
    for (name, e), (_, a) in zip(expected.reports, actual.reports):
        if len(problems) > 12:
            problems.append("... (more differences not listed)")
            return problems
        _compare_values(f"report {name!r}", e, a, tol, problems)
    e_out, a_out = expected.printed, actual.printed
    m = len(a_out) if actual.error is not None else max(len(e_out), len(a_out))
    for i in range(min(m, max(len(e_out), len(a_out)))):
        if i >= len(e_out) or i >= len(a_out):
            problems.append(f"print #{i}: lamina printed {len(a_out)} times, torch {len(e_out)}")
            break
        (et, repr_), (at, _) = e_out[i], a_out[i]
        same = et == at if repr_ else _printed_close(et, at, tol)
        if not same:
            problems.append(f"print #{i} differs{' (tensor repr: exact)' if repr_ else ''}:\n"
                            f"    torch : {et!r}\n    lamina: {at!r}")
            if len(problems) > 12:
                break
    return problems

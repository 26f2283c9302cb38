"""lamina's own exception types.

Each derives from the built-in exception a Python user would expect (``ValueError``,
``TypeError``, ``RuntimeError``), so ``except ValueError`` still works, and from
:class:`LaminaError`, so callers can catch everything lamina raises on purpose.
"""
from __future__ import annotations

__all__ = [
    "LaminaError",
    "LaminaValueError",
    "LaminaTypeError",
    "ShapeError",
    "GraphError",
    "InplaceError",
    "IntegerDivisionByZeroError",
    "DtypeMismatchError",
    "FileFormatError",
    "DataError",
]


class LaminaError(Exception):
    """Base class of every error lamina raises for a user's mistake or a bad file."""


class LaminaValueError(LaminaError, ValueError):
    """A value outside what a function accepts (a negative rate, an unknown name, ...)."""


class LaminaTypeError(LaminaError, TypeError):
    """An argument of the wrong type or dtype."""


class ShapeError(LaminaValueError):
    """Shapes that do not fit together; the message shows both."""


class GraphError(LaminaError, RuntimeError):
    """Misuse of the computational graph (backward twice, backward of a non-scalar, ...)."""


class InplaceError(GraphError):
    """A tensor that backward still needs was modified in place."""


class IntegerDivisionByZeroError(LaminaError, ZeroDivisionError, RuntimeError):
    """An integer //, %, fmod or rounded division by zero (a RuntimeError, as PyTorch raises,
    and a ZeroDivisionError, as Python's integers raise)."""


class DtypeMismatchError(LaminaTypeError, RuntimeError):
    """Operands of a layer (Linear, Conv2d) in different dtypes, e.g. float64 data into a
    float32 model (a RuntimeError, as PyTorch raises; convert with ``.float()``)."""


class FileFormatError(LaminaValueError):
    """A file that is truncated, foreign, or would need code execution to load."""


class DataError(LaminaValueError):
    """A data set file that is missing, corrupted or fails its checksum."""

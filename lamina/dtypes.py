"""Data types, the default floating type, and PyTorch's type-promotion rules.

lamina's dtypes are NumPy dtypes (``lm.float32 is np.dtype('float32')``), named as PyTorch
names them. When an operation combines operands of different types, the result type follows
``torch.result_type``, which differs from NumPy's in two ways that matter in practice:

* categories rank bool < integer < floating; when the categories differ the higher one's
  dtype wins as it is (float32 combined with int64 stays float32; NumPy would give float64);
* operands are ranked by kind: tensors with dimensions, then 0-d tensors, then Python
  numbers. A lower-ranked operand changes the result only if it is of a higher category
  (``float32_vector * float64_scalar_tensor`` is float32; ``int_vector * 2.5`` is the default
  floating type), and a Python float counts as the default floating type.

>>> lm.result_type(lm.tensor([1, 2]), 2.5)
dtype('float32')
"""
from __future__ import annotations

import builtins

import numpy as np

from .backend import get_array_module
from .errors import LaminaTypeError

__all__ = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_",
           "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
           "is_floating_point_dtype"]

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
uint8 = np.dtype("uint8")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = float32
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def get_default_dtype() -> np.dtype:
    """The floating type that Python floats and floating creation functions default to."""
    return _default_float


def set_default_dtype(d, /) -> None:
    """Make ``d`` (float32 or float64, as PyTorch allows float16 too) the default
    floating type: ``lm.tensor([1.5])``, ``lm.zeros(3)`` and new layers' parameters use it."""
    global _default_float
    dtype = np.dtype(d)
    if dtype.kind != "f":
        raise LaminaTypeError(f"set_default_dtype expects a floating type, got {dtype}")
    _default_float = dtype


def is_floating_point_dtype(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def _category(dtype: np.dtype) -> int:
    try:
        return _CATEGORY[dtype.kind]
    except KeyError:
        raise LaminaTypeError(f"unsupported dtype {dtype} (expected bool, integer or floating)") from None


def promote_types(a, b) -> np.dtype:
    """The smallest type both ``a`` and ``b`` convert to, by PyTorch's table
    (``torch.promote_types``): within a category the wider type; across categories the
    higher category's type unchanged (int64 with float16 is float16)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _scalar_dtype(value) -> np.dtype:
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return _default_float
    raise LaminaTypeError(f"cannot take part in type promotion: {value!r} "
                          "(expected a tensor, a bool, an int or a float)")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Let a lower-ranked operand's type in only if its category is higher."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower) and higher.kind != "b":
        return higher
    return promote_types(higher, lower)


def result_type(*operands) -> np.dtype:
    """The dtype of an elementwise operation on ``operands`` (tensors or Python numbers),
    by ``torch.result_type``'s rules (see the module docstring)."""
    ranked: list[np.dtype | None] = [None, None, None]  # dimensioned, 0-d, Python numbers
    for x in operands:
        data = getattr(x, "_data", x)
        if isinstance(data, np.ndarray) or hasattr(data, "__array_namespace__") or (
                not isinstance(data, np.generic) and get_array_module(data) is not np):
            rank, dtype = (0 if data.ndim else 1), data.dtype
        else:
            rank, dtype = 2, _scalar_dtype(data)
        ranked[rank] = dtype if ranked[rank] is None else promote_types(ranked[rank], dtype)
    return _combine(_combine(ranked[0], ranked[1]), ranked[2])

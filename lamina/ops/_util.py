"""Small helpers shared by the operation families (argument normalisation, scalars)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, float32
from ..errors import LaminaTypeError, LaminaValueError

__all__ = ["as_tensor", "operands", "normalize_dim", "normalize_dims", "pair"]

_SCALARS = (int, float, bool, np.number, np.bool_)


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number takes ``like``'s dtype (float32 for an int
    tensor meeting a float), so Python scalars never promote float32 to float64."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS) and like is not None:
        dtype = like._data.dtype
        if isinstance(value, (float, np.floating)) and dtype.kind != "f":
            dtype = float32
        elif isinstance(value, (bool, np.bool_)) and dtype.kind == "b":
            dtype = np.dtype(bool)
        return Tensor._wrap(np.asarray(value, dtype=dtype))
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    return Tensor(value)


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as Tensors (scalars take the other's dtype)."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    if isinstance(b, Tensor):
        return as_tensor(a, b), b
    raise LaminaTypeError(f"expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")


def normalize_dim(dim: int, ndim: int) -> int:
    """A possibly negative ``dim`` as an index in ``range(ndim)``, or a clear error."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise LaminaTypeError(f"dim must be an integer, got {dim!r}")
    lo = -max(ndim, 1)
    if not lo <= dim < max(ndim, 1):
        raise LaminaValueError(f"dim {dim} is out of range for a tensor with {ndim} dimensions "
                               f"(expected {lo} <= dim < {max(ndim, 1)})")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim, ndim: int) -> tuple | None:
    """``dim`` (None, int, or tuple/list of ints) as a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise LaminaValueError(f"dim {tuple(dim)} names an axis twice")
        return axes
    return (normalize_dim(dim, ndim),)


def pair(value, name: str = "value") -> tuple[int, int]:
    """An int or a pair of ints as a pair (kernel sizes, strides, paddings)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise LaminaValueError(f"{name} must be an int or a pair of ints, got {value!r}")

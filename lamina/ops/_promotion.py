"""Dtype helpers for the binary operations of the maths families (atan2, hypot, fmod,
remainder, lerp): promotion by ``torch.result_type`` (:mod:`lamina.dtypes`), and the
floating-only check."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..dtypes import get_default_dtype, result_type
from ..errors import LaminaTypeError
from .arithmetic import cast

__all__ = ["result_dtype", "promote", "require_floating"]


def result_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """The dtype of an elementwise operation on tensors ``a`` and ``b``, as PyTorch's."""
    da, db = a._data.dtype, b._data.dtype
    if da == db:          # the common case (``operands`` has promoted already); dtypes alone
        return da
    return result_type(a, b)


def promote(a: Tensor, b: Tensor, floating: bool = False) -> tuple[Tensor, Tensor]:
    """``a`` and ``b`` cast (differentiably) to their result dtype; with ``floating`` an
    integer or bool result type becomes the default floating type, as PyTorch's floating
    operations do."""
    dtype = result_dtype(a, b)
    if floating and dtype.kind != "f":
        dtype = get_default_dtype()
    return cast(a, dtype), cast(b, dtype)


def require_floating(name: str, *tensors: Tensor) -> None:
    """Raise unless every tensor is floating (PyTorch's hypot, lerp, frac refuse integers)."""
    for t in tensors:
        if t._data.dtype.kind != "f":
            raise LaminaTypeError(f"{name}: expected a floating tensor, got dtype {t._data.dtype}")

"""Casting and copying, in the graph: ``cast`` (``Tensor.to(dtype)``, ``.float()``, ...) and
``clone``. They sit below the other operations because promoting mixed operands
(:func:`lamina.ops._util.operands`) casts; :mod:`.arithmetic` names them as its own.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["cast", "clone"]


class Cast(Function):
    """y = x converted to another dtype;  dy/dx = 1 (the gradient is cast back)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine casts it to the input's dtype


class Clone(Function):
    """y = a copy of x;  dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def cast(x: Tensor, dtype) -> Tensor:
    """x as ``dtype`` (differentiable between floating types; a cast to an integer or bool
    type has no gradient)."""
    dtype = np.dtype(dtype)
    if x._data.dtype == dtype:
        return x
    if dtype.kind != "f":  # an integer or bool result is outside the graph, as in PyTorch
        with no_grad():
            return Cast.apply(x, dtype=dtype)
    return Cast.apply(x, dtype=dtype)


def clone(x: Tensor) -> Tensor:
    """A copy of x that stays in the graph."""
    return Clone.apply(x)

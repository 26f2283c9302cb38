"""The vector activations softmax and log-softmax along one dimension.

Both subtract the maximum along the dimension first (the log-sum-exp trick,
log sum_j e^{x_j} = c + log sum_j e^{x_j - c} with c = max_j x_j; the lecture: "Don't try
without, it *will* fail!"), so they are stable at any scale. Softmax saves its output, as
its derivative is a function of it.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError
from ._casting import cast
from ._util import floating, normalize_dim

__all__ = ["softmax", "log_softmax"]


class Softmax(Function):
    """y_i = e^{x_i} / sum_j e^{x_j} along ``dim`` (shifted by max_j x_j first);
    dL/dx_i = y_i (dL/dy_i - sum_j y_j dL/dy_j)."""

    @staticmethod
    def forward(ctx, x, dim):
        # out= keeps a 0-d input an array (0-d arithmetic returns NumPy scalars)
        xp = get_array_module(x)
        e = xp.subtract(x, x.max(axis=dim, keepdims=True), out=xp.empty_like(x))
        xp.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        xp = get_array_module(y, grad)
        g = xp.subtract(grad, (grad * y).sum(axis=ctx.dim, keepdims=True), out=xp.empty_like(y))
        g *= y
        return g


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^{x_j} = (x_i - c) - log sum_j e^{x_j - c}, c = max_j x_j;
    dL/dx_i = dL/dy_i - e^{y_i} sum_j dL/dy_j."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        shifted = xp.subtract(x, x.max(axis=dim, keepdims=True), out=xp.empty_like(x))
        lse = xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        shifted -= lse
        ctx.dim = dim
        ctx.save(shifted)
        return shifted

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        xp = get_array_module(y, grad)
        g = xp.exp(y, out=xp.empty_like(y))
        g *= grad.sum(axis=ctx.dim, keepdims=True)
        xp.subtract(grad, g, out=g)
        return g


def _softmax_args(name: str, input, dim, dtype):
    x = floating(input)
    if dim is None:
        raise LaminaValueError(
            f"{name} needs dim, the axis that sums to one (e.g. dim=1 for (N, C) logits, "
            "dim=-1 for the last axis); lamina does not guess it")
    if dtype is not None and x.dtype != np.dtype(dtype):
        x = cast(x, dtype)
    return x, normalize_dim(dim, x.ndim)


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """y_i = exp(x_i) / sum_j exp(x_j) along ``dim`` (required), stable at any scale.

    ``dtype`` casts the input first. A slice that is all -inf gives NaN, as in PyTorch.
    """
    x, axis = _softmax_args("softmax", input, dim, dtype)
    if x.ndim == 0:
        axis = None
    return Softmax.apply(x, dim=axis)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """y_i = x_i - log sum_j exp(x_j) along ``dim`` (required), by the log-sum-exp trick."""
    x, axis = _softmax_args("log_softmax", input, dim, dtype)
    if x.ndim == 0:
        axis = None
    return LogSoftmax.apply(x, dim=axis)

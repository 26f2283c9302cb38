"""Cumulative sums and products along a dimension: cumsum and cumprod.

As in PyTorch, integer and bool inputs accumulate in int64, and ``dtype=`` casts the input
before accumulating (differentiably between floating types).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor, int64
from ..backend import get_array_module
from ._util import as_tensor, normalize_dim
from .arithmetic import cast, clone

__all__ = ["cumsum", "cumprod"]


def _reverse_cumsum(a, axis: int):
    """r_k = sum_{i >= k} a_i along ``axis``."""
    xp = get_array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis=axis), axis=axis), axis=axis)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``;  dL/dx_k = sum_{i >= k} dL/dy_i."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return get_array_module(x).cumsum(x, axis=axis, dtype=x.dtype)  # NumPy widens int32

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.axis)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along ``axis``;
    dL/dx_k = sum_{i >= k} dL/dy_i prod_{j <= i, j != k} x_j.

    Where x_k != 0 that is (sum_{i >= k} dL/dy_i y_i) / x_k. A line with zeros, the first
    at position z, needs no division: entries before z use the formula above (y_i = 0 for
    i >= z), entries after z get 0 (every product keeps the factor x_z = 0), and x_z gets
    y_{z-1} sum_{i >= z} dL/dy_i prod_{z < j <= i} x_j, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, axis):
        y = get_array_module(x).cumprod(x, axis=axis, dtype=x.dtype)
        ctx.axis = axis
        ctx.save(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        axis = ctx.axis
        xp = get_array_module(x, grad)
        zero = x == 0
        if not zero.any():
            return _reverse_cumsum(grad * y, axis) / x
        n = x.shape[axis]
        shape = [1] * x.ndim
        shape[axis] = n
        pos = xp.arange(n).reshape(shape)
        first = xp.where(zero.any(axis=axis, keepdims=True),
                         xp.argmax(zero, axis=axis, keepdims=True), n)
        before = pos < first
        one = xp.ones((), dtype=x.dtype)
        gx = xp.where(before, _reverse_cumsum(grad * y, axis) / xp.where(before, x, one), 0)
        # at the first zero: y_{z-1} times the sum of dL/dy_i prod_{z < j <= i} x_j
        after = xp.cumprod(xp.where(pos <= first, one, x), axis=axis)
        tail = xp.sum(xp.where(pos >= first, grad * after, 0), axis=axis, keepdims=True)
        head = xp.prod(xp.where(before, x, one), axis=axis, keepdims=True)
        gx = gx + xp.where(pos == first, head * tail, 0)
        return gx.astype(grad.dtype, copy=False)


def _accumulated(input, dim: int, dtype) -> tuple[Tensor, int]:
    x = as_tensor(input)
    if dtype is not None:
        x = cast(x, dtype)
    elif x._data.dtype.kind in "biu":
        x = cast(x, int64)
    return x, normalize_dim(dim, x.ndim)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """The running sums y_i = x_0 + ... + x_i along ``dim``.

    >>> lm.cumsum(lm.tensor([1, 2, 3]), 0)
    tensor([1, 3, 6])
    """
    x, axis = _accumulated(input, dim, dtype)
    if x.ndim == 0:
        return clone(x)
    return Cumsum.apply(x, axis=axis)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """The running products y_i = x_0 ... x_i along ``dim`` (exact gradients also where x
    holds zeros).

    >>> lm.cumprod(lm.tensor([1.0, 2.0, 3.0]), 0)
    tensor([1., 2., 6.])
    """
    x, axis = _accumulated(input, dim, dtype)
    if x.ndim == 0:
        return clone(x)
    return Cumprod.apply(x, axis=axis)

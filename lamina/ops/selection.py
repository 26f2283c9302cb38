"""Elementwise selection: clamp, maximum, minimum and where.

Each output element is one of its inputs' elements (or a bound), so the gradient is routed,
not computed: dL/dz goes to the input that was selected and 0 to the others. Binary forms
broadcast; the engine sums each gradient back to its input's shape (``sum_to``).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module, on_device_of
from ..errors import LaminaValueError
from ._util import operands

__all__ = ["clamp", "maximum", "minimum", "where"]


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save(x)
        ctx.lo, ctx.hi = lo, hi
        return get_array_module(x).clip(x, lo, hi)

    @staticmethod
    def inside(ctx):
        """The mask lo <= x <= hi where the derivative is 1 (also read by the second-order rule)."""
        (x,) = ctx.saved
        mask = get_array_module(x).ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= x >= ctx.lo
        if ctx.hi is not None:
            mask &= x <= ctx.hi
        return mask

    @staticmethod
    def backward(ctx, grad):
        return grad * Clamp.inside(ctx)


def _extremum_grads(grad, a, b, a_loses, b_loses):
    """PyTorch's rule for max/min: each input gets dL/dz unless it lost the comparison, half of
    it on a tie; a NaN makes no one lose, so both inputs of a NaN element get dL/dz."""
    xp = get_array_module(grad, a, b)
    g = xp.where(a == b, grad * 0.5, grad).astype(grad.dtype, copy=False)
    return xp.where(a_loses, 0, g), xp.where(b_loses, 0, g)


class Maximum(Function):
    """z = max(a, b) elementwise; the gradient goes to the larger input (split in half on ties,
    to both inputs where one is NaN, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return get_array_module(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _extremum_grads(grad, a, b, a < b, a > b)


class Minimum(Function):
    """z = min(a, b) elementwise; the gradient goes to the smaller input (split on ties, to
    both where one is NaN)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return get_array_module(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return _extremum_grads(grad, a, b, a > b, a < b)


class Where(Function):
    """z = a where cond else b;  dz/da = cond, dz/db = not cond (cond gets no gradient)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save(cond)
        return get_array_module(cond, a, b).where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved
        xp = get_array_module(cond, grad)
        zero = xp.zeros((), dtype=grad.dtype)
        _, need_a, need_b = ctx.needs_input_grad
        return (None,
                xp.where(cond, grad, zero) if need_a else None,
                xp.where(cond, zero, grad) if need_b else None)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """x limited to [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise LaminaValueError("clamp needs at least one of min and max")
    lo = _bound(min, x) if min is not None else None
    hi = _bound(max, x) if max is not None else None
    return Clamp.apply(x, lo=lo, hi=hi)


def _bound(value, x: Tensor):
    """A bound of clamp (a number or a tensor) as an array of ``x``'s dtype on its device."""
    data = x._data
    if isinstance(value, Tensor):
        value = on_device_of(value._data, data)
    return get_array_module(data).asarray(value, dtype=data.dtype)


def maximum(a, b) -> Tensor:
    """Elementwise maximum, broadcasting."""
    return Maximum.apply(*operands(a, b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum, broadcasting."""
    return Minimum.apply(*operands(a, b))


def where(condition, a, b) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all broadcast together)."""
    a, b = operands(a, b)
    if isinstance(condition, Tensor):
        cond = condition
    else:  # an array or a list: as a bool array on the operands' device
        array = get_array_module(condition).asarray(condition, dtype=bool)
        cond = Tensor._wrap(on_device_of(array, a._data))
    if cond._data.dtype != np.bool_:
        cond = Tensor._wrap(cond._data.astype(bool))
    return Where.apply(cond, a, b)

"""Rounding and remainders, elementwise: floor, ceil, round (to ``decimals`` places), trunc
(alias fix), frac, fmod and remainder.

The rounding functions are piecewise constant, so their gradient is zero (as PyTorch's);
frac(x) = x - trunc(x) has gradient 1. On an integer tensor floor, ceil, round and trunc
return the values unchanged in a new tensor, as PyTorch does; bool tensors are refused.
fmod keeps the sign of the dividend (C's fmod), remainder the sign of the divisor
(Python's %), and both keep integer dtypes.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import IntegerDivisionByZeroError, LaminaTypeError
from ._promotion import promote, require_floating
from ._util import as_tensor, operands
from .arithmetic import clone

__all__ = ["floor", "ceil", "round", "trunc", "fix", "frac", "fmod", "remainder"]


class Floor(Function):
    """y = floor x, the largest integer <= x;  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).floor(x)

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


class Ceil(Function):
    """y = ceil x, the smallest integer >= x;  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).ceil(x)

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


class Trunc(Function):
    """y = trunc x, x rounded towards zero;  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


class Round(Function):
    """y = x rounded to the nearest multiple of 10^{-d} (d = ``decimals``), halves to the
    even neighbour as PyTorch's: rint(x 10^d) / 10^d, or rint(x / 10^{-d}) 10^{-d} for d < 0;
    dy/dx = 0."""

    @staticmethod
    def forward(ctx, x, decimals):
        xp = get_array_module(x)
        if decimals == 0:
            return xp.rint(x)
        scale = xp.asarray(10.0 ** abs(decimals), dtype=x.dtype)
        if decimals > 0:
            return xp.rint(x * scale) / scale
        return xp.rint(x / scale) * scale

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


class Frac(Function):
    """y = x - trunc x, the fractional part with the sign of x;  dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x - get_array_module(x).trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Fmod(Function):
    """z = a - b trunc(a / b) (the sign of a);  dz/da = 1, dz/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return get_array_module(a, b).fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        gb = None
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = -grad * get_array_module(a, b).trunc(a / b)
        return (grad if need_a else None), gb


class Remainder(Function):
    """z = a - b floor(a / b) (the sign of b, as Python's %);  dz/da = 1,
    dz/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return get_array_module(a, b).remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        gb = None
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = -grad * get_array_module(a, b).floor(a / b)
        return (grad if need_a else None), gb


# ----------------------------------------------------------------- public functions
def _rounded(name: str, input, fn: type[Function], **params) -> Tensor:
    """``fn`` on a floating tensor; integer tensors come back unchanged (a copy)."""
    x = as_tensor(input)
    kind = x._data.dtype.kind
    if kind == "b":
        raise LaminaTypeError(f"{name}: expected a floating or integer tensor, got dtype bool")
    if kind in "iu":
        if params.get("decimals", 0) != 0:
            raise LaminaTypeError(f"{name}: decimals={params['decimals']} needs a floating "
                                  f"tensor, got dtype {x._data.dtype}")
        return clone(x)
    return fn.apply(x, **params)


def floor(input: Tensor) -> Tensor:
    """The largest integer <= x, elementwise (zero gradient)."""
    return _rounded("floor", input, Floor)


def ceil(input: Tensor) -> Tensor:
    """The smallest integer >= x, elementwise (zero gradient)."""
    return _rounded("ceil", input, Ceil)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds, ...), halves
    to even as PyTorch: round(2.5) = 2, round(-0.5) = -0 (zero gradient).

    >>> lm.round(lm.tensor([0.5, 1.5, 1.2345]), decimals=0)
    tensor([0., 2., 1.])
    """
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise LaminaTypeError(f"round: decimals must be an int, got {decimals!r}")
    return _rounded("round", input, Round, decimals=int(decimals))


def trunc(input: Tensor) -> Tensor:
    """x rounded towards zero, elementwise (zero gradient)."""
    return _rounded("trunc", input, Trunc)


fix = trunc


def frac(input: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with the sign of x (floating tensors only)."""
    x = as_tensor(input)
    require_floating("frac", x)
    return Frac.apply(x)


def _dividing(name: str, input, other) -> tuple[Tensor, Tensor]:
    a, b = promote(*operands(input, other))
    kind = a._data.dtype.kind
    if kind == "b":
        raise LaminaTypeError(f"{name}: expected floating or integer tensors, got dtype bool")
    if kind in "iu" and (b._data == 0).any():
        raise IntegerDivisionByZeroError(f"{name}: integer division by zero (the divisor holds a 0)")
    return a, b


def fmod(input, other) -> Tensor:
    """The remainder of input / other with the sign of ``input`` (C's fmod), broadcasting.

    >>> lm.fmod(lm.tensor([-3, 3]), 2)
    tensor([-1,  1])
    """
    return Fmod.apply(*_dividing("fmod", input, other))


def remainder(input, other) -> Tensor:
    """The remainder of input / other with the sign of ``other`` (Python's %), broadcasting.

    >>> lm.remainder(lm.tensor([-3, 3]), 2)
    tensor([1, 1])
    """
    return Remainder.apply(*_dividing("remainder", input, other))

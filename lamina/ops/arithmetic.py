"""Elementwise arithmetic: add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sign, and dtype
casts (clamp, maximum, minimum and where, which select rather than compute, are in
``selection``).

Binary operations broadcast; their backward returns gradients of the broadcast shape and
the engine sums them back to each input's shape (``sum_to``) in one place.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..dtypes import get_default_dtype
from ..errors import IntegerDivisionByZeroError, LaminaValueError
from ._casting import cast, clone  # noqa: F401  (in __all__: arithmetic names them)
from ._util import operands, write_out

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sign",
           "cast", "clone", "square", "floor_divide"]


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        ga = grad / b if need_a else None
        gb = -grad * a / (b * b) if need_b else None
        return ga, gb


class Neg(Function):
    """z = -x;  dz/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(Function):
    """z = x^p for a constant p;  dz/dx = p x^(p-1) (0 where x = 0 and p >= 1)."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save(x)
        ctx.exponent = exponent
        if exponent == 2:
            return x * x
        return x ** exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        p = ctx.exponent
        if p == 2:
            return grad * (2 * x)
        if p == 0:
            return get_array_module(grad).zeros_like(grad)
        return grad * (p * x ** (p - 1))


class Pow(Function):
    """z = a^b;  dz/da = b a^(b-1), dz/db = a^b ln a (taken as 0 where a = 0, b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        z = a ** b
        ctx.save(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved
        xp = get_array_module(a, b)
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            ga = grad * xp.where(b == 0, 0, b * a ** (b - 1))
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = xp.where((a == 0) & (b >= 0), 0, grad * z * xp.log(a))
        return ga, gb


class Exp(Function):
    """y = e^x;  dy/dx = y."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).exp(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / x


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y).  A zero upstream gradient stays zero where y = 0 or
    y is NaN (so ``where(x > 0, sqrt(x), 0)`` has gradient 0, not NaN, at x <= 0)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).sqrt(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            g = grad / (2 * y)
        return get_array_module(g).where(grad == 0, 0, g).astype(g.dtype, copy=False)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * get_array_module(x).sign(x)


class Sign(Function):
    """y = sign(x);  dy/dx = 0 (piecewise constant)."""

    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).sign(x)

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


def add(a, b, alpha=1, out=None) -> Tensor:
    """a + alpha * b, broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    return write_out(out, Add.apply(*operands(a, b)), "add")


def sub(a, b, alpha=1, out=None) -> Tensor:
    """a - alpha * b, broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    return write_out(out, Sub.apply(*operands(a, b)), "sub")


def mul(a, b, out=None) -> Tensor:
    """a * b elementwise, broadcasting."""
    return write_out(out, Mul.apply(*operands(a, b)), "mul")


def div(a, b, rounding_mode: str | None = None, out=None) -> Tensor:
    """a / b elementwise, broadcasting: true division, or with ``rounding_mode`` 'trunc' or
    'floor' the quotient rounded toward zero or down (integer inputs stay integers)."""
    a, b = operands(a, b)
    if rounding_mode is not None:
        return write_out(out, _rounded_div(a, b, rounding_mode), "div")
    if a._data.dtype.kind != "f":  # true division of integers gives the default floating type
        a, b = cast(a, get_default_dtype()), cast(b, get_default_dtype())
    return write_out(out, Div.apply(a, b), "div")


def _rounded_div(a: Tensor, b: Tensor, rounding_mode: str) -> Tensor:
    """Division rounded toward zero ('trunc') or down ('floor'); zero gradient, as PyTorch."""
    if rounding_mode not in ("trunc", "floor"):
        raise LaminaValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor', got {rounding_mode!r}")
    x, y = a._data, b._data
    xp = get_array_module(x, y)
    if x.dtype.kind in "iub" and y.dtype.kind in "iub" and not xp.all(y):
        raise IntegerDivisionByZeroError(
            f"div(rounding_mode={rounding_mode!r}): integer division by zero (the divisor holds a 0)")
    if x.dtype.kind == "f":
        q = xp.trunc(x / y) if rounding_mode == "trunc" else xp.floor(x / y)
    elif rounding_mode == "floor":
        q = xp.floor_divide(x, y)
    else:
        q = (xp.abs(x) // xp.abs(y)) * xp.sign(x) * xp.sign(y)
    return Tensor._wrap(q.astype(x.dtype, copy=False))


def neg(x: Tensor) -> Tensor:
    """-x."""
    return Neg.apply(x)


def pow(a, b) -> Tensor:
    """a ** b; a constant exponent takes the cheaper path."""
    if isinstance(a, Tensor) and isinstance(b, (int, float, np.number)) and not isinstance(b, bool):
        return PowScalar.apply(a, exponent=b)
    return Pow.apply(*operands(a, b))


def square(x: Tensor) -> Tensor:
    """x * x."""
    return PowScalar.apply(x, exponent=2)


def exp(x: Tensor) -> Tensor:
    """e^x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """Square root."""
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    """|x|."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x (zero gradient)."""
    return Sign.apply(x)


def floor_divide(input, other, out=None) -> Tensor:
    """``input // other``: division rounded down (PyTorch's ``floor_divide``)."""
    return div(input, other, rounding_mode="floor", out=out)

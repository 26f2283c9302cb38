"""Trigonometric and hyperbolic functions and their inverses, elementwise, with atan2 and
hypot, and PyTorch's ``arc*`` aliases.

Integer and bool inputs become float32 first, as in PyTorch (``torch.sin(int tensor)`` is
float32). Outside an inverse function's domain (asin of 2, acosh of 0) the result is NaN,
silently, as PyTorch's. Where the derivative is a function of the output (tan: 1 + y^2) the
output is saved instead of the input.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ._promotion import promote, require_floating
from ._util import floating, operands

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
           "atanh", "atan2", "hypot", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
           "arctanh", "arctan2"]


def _quiet():
    """Domain errors give NaN or inf without a warning, as in PyTorch."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * get_array_module(x).cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad * get_array_module(x).sin(x)


class Tan(Function):
    """y = tan x;  dy/dx = 1 / cos^2 x = 1 + y^2."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tan(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 + y * y)


class Asin(Function):
    """y = arcsin x;  dy/dx = 1 / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / get_array_module(x).sqrt(1 - x * x)


class Acos(Function):
    """y = arccos x;  dy/dx = -1 / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return -grad / get_array_module(x).sqrt(1 - x * x)


class Atan(Function):
    """y = arctan x;  dy/dx = 1 / (1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (1 + x * x)


class Sinh(Function):
    """y = sinh x = (e^x - e^{-x}) / 2;  dy/dx = cosh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad * get_array_module(x).cosh(x)


class Cosh(Function):
    """y = cosh x = (e^x + e^{-x}) / 2;  dy/dx = sinh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad * get_array_module(x).sinh(x)


class Asinh(Function):
    """y = arsinh x = ln(x + sqrt(x^2 + 1));  dy/dx = 1 / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return get_array_module(x).arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / get_array_module(x).sqrt(x * x + 1)


class Acosh(Function):
    """y = arcosh x = ln(x + sqrt(x^2 - 1)) for x >= 1;  dy/dx = 1 / sqrt(x^2 - 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            # sqrt(x - 1) sqrt(x + 1), not sqrt(x^2 - 1): x^2 - 1 cancels near x = 1
            xp = get_array_module(x)
            return grad / (xp.sqrt(x - 1) * xp.sqrt(x + 1))


class Atanh(Function):
    """y = artanh x = ln((1 + x) / (1 - x)) / 2 for |x| < 1;  dy/dx = 1 / (1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / (1 - x * x)


class Atan2(Function):
    """z = atan2(a, b), the angle of the point (b, a) in (-pi, pi];
    dz/da = b / (a^2 + b^2), dz/db = -a / (a^2 + b^2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return get_array_module(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        with _quiet():
            scale = grad / (a * a + b * b)
        return (scale * b if need_a else None), (-scale * a if need_b else None)


class Hypot(Function):
    """z = sqrt(a^2 + b^2) (without overflow for large a, b);  dz/da = a / z, dz/db = b / z."""

    @staticmethod
    def forward(ctx, a, b):
        z = get_array_module(a, b).hypot(a, b)
        ctx.save(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        with _quiet():
            scale = grad / z
        return (scale * a if need_a else None), (scale * b if need_b else None)


# ----------------------------------------------------------------- public functions
def sin(input: Tensor) -> Tensor:
    """sin x elementwise (x in radians)."""
    return Sin.apply(floating(input))


def cos(input: Tensor) -> Tensor:
    """cos x elementwise (x in radians)."""
    return Cos.apply(floating(input))


def tan(input: Tensor) -> Tensor:
    """tan x elementwise (x in radians)."""
    return Tan.apply(floating(input))


def asin(input: Tensor) -> Tensor:
    """arcsin x elementwise, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return Asin.apply(floating(input))


def acos(input: Tensor) -> Tensor:
    """arccos x elementwise, in [0, pi] (NaN outside [-1, 1])."""
    return Acos.apply(floating(input))


def atan(input: Tensor) -> Tensor:
    """arctan x elementwise, in (-pi/2, pi/2)."""
    return Atan.apply(floating(input))


def sinh(input: Tensor) -> Tensor:
    """The hyperbolic sine elementwise."""
    return Sinh.apply(floating(input))


def cosh(input: Tensor) -> Tensor:
    """The hyperbolic cosine elementwise."""
    return Cosh.apply(floating(input))


def asinh(input: Tensor) -> Tensor:
    """The inverse hyperbolic sine elementwise."""
    return Asinh.apply(floating(input))


def acosh(input: Tensor) -> Tensor:
    """The inverse hyperbolic cosine elementwise (NaN below 1)."""
    return Acosh.apply(floating(input))


def atanh(input: Tensor) -> Tensor:
    """The inverse hyperbolic tangent elementwise (+-inf at +-1, NaN beyond)."""
    return Atanh.apply(floating(input))


def atan2(input, other) -> Tensor:
    """The angle atan2(input, other) of the point (other, input), quadrant-aware, in
    (-pi, pi]; broadcasting, integer operands become float32.

    >>> lm.atan2(lm.tensor([1.0, -1.0]), lm.tensor([-1.0, -1.0]))   # 3pi/4, -3pi/4
    tensor([ 2.3562, -2.3562])
    """
    return Atan2.apply(*promote(*operands(input, other), floating=True))


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2) elementwise, broadcasting (floating tensors only, as PyTorch)."""
    a, b = promote(*operands(input, other))
    require_floating("hypot", a)
    return Hypot.apply(a, b)


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
arctan2 = atan2

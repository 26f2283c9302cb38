"""Exponentials, logarithms, powers of -1/2 and -1, and the error function with its inverse,
elementwise: exp2, expm1, log2, log10, log1p, rsqrt, reciprocal, erf, erfinv.

Integer and bool inputs become float32 first, as in PyTorch. erf and erfinv are computed in
float64 on NumPy alone (Cody's rational approximations from ``_special``; erfinv refines an
initial approximation by Newton steps on erf) and rounded to the input's dtype once.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ._special import _A, _B, _erfc_positive
from ._util import floating

__all__ = ["exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "reciprocal", "erf", "erfinv"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _quiet():
    """log(0), 1/0 and sqrt(-1) give -inf, inf and NaN without a warning, as in PyTorch."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


# --------------------------------------------------------------------------- erf numerics
def _erf_small(v):
    """erf(v) for |v| <= 0.46875 (Cody's first interval)."""
    vv = v * v
    num, den = _A[4] * vv, vv
    for i in range(3):
        num = (num + _A[i]) * vv
        den = (den + _B[i]) * vv
    return v * (num + _A[3]) / (den + _B[3])


def _erf64(x):
    """erf(x) for a float64 array, to about 1e-16 (NaN stays NaN, erf(+-inf) = +-1)."""
    xp = get_array_module(x)
    z = xp.minimum(xp.abs(x), 6.0)       # erfc(6) < 3e-17: erf is 1 in float64 beyond
    out = xp.empty_like(z)
    small = z <= 0.46875
    out[small] = _erf_small(z[small])
    large = ~small
    out[large] = 1 - _erfc_positive(z[large])
    return xp.copysign(out, x)


def _erfc_nonnegative(y):
    """erfc(y) = 1 - erf(y) for a float64 array of y >= 0, with full relative precision
    in the tail (where 1 - erf(y) would cancel)."""
    xp = get_array_module(y)
    out = xp.empty_like(y)
    small = y <= 0.46875
    out[small] = 1 - _erf_small(y[small])
    out[~small] = _erfc_positive(y[~small])
    return out


# M. Giles, "Approximating the erfinv function", GPU Computing Gems (2011): the
# single-precision approximation, relative error about 4e-7, in w = -ln((1 - a)(1 + a)).
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefficients, t):
    p = coefficients[0] + 0 * t
    for c in coefficients[1:]:
        p = p * t + c
    return p


def _erfinv64(x):
    """erfinv(x) for a float64 array: +-inf at +-1, NaN outside [-1, 1].

    Giles's approximation y0, then Newton steps until they no longer change y (at most
    eight; two suffice in float32's range). For a = |x| <= 1/2 the step solves
    erf(y) = a: y <- y - (erf(y) - a) / erf'(y), with erf'(y) = 2/sqrt(pi) e^{-y^2}. For
    a > 1/2 it solves log erfc(y) = log(1 - a), which is nearly linear in y in the tail (so
    the steps converge fast even where y0, made for float32's range, is off by 0.5 at
    a = 1 - 1e-16), and 1 - a is exact there (Sterbenz) while erfc keeps its digits."""
    xp = get_array_module(x)
    a = xp.abs(x)
    out = xp.full(x.shape, xp.nan, dtype=x.dtype)
    out[a == 1] = xp.inf
    inside = a < 1
    a = a[inside]
    with _quiet():
        w = -xp.log((1 - a) * (1 + a))
        y = xp.where(w < 5, _horner(_GILES_CENTRAL, w - 2.5),
                     _horner(_GILES_TAIL, xp.sqrt(w) - 3)) * a
    tail = a > 0.5
    log_gap = xp.log(1 - a[tail])
    for _ in range(8):
        slope = _TWO_OVER_SQRT_PI * xp.exp(-(y * y))
        step = xp.empty_like(y)
        step[~tail] = (_erf64(y[~tail]) - a[~tail]) / slope[~tail]
        erfc = _erfc_nonnegative(y[tail])
        step[tail] = (log_gap - xp.log(erfc)) * erfc / slope[tail]
        y = y - step
        # a step below 1e-14 |y| leaves an error far below one ulp for the next to fix
        if not (xp.abs(step) > 1e-14 * xp.abs(y)).any():
            break
    out[inside] = y
    return xp.copysign(out, x)


def _in_float64(fn, x):
    """fn evaluated in float64 and rounded once to x's dtype."""
    y = fn(x.astype(np.float64, copy=False))
    return y.astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- operations
class Exp2(Function):
    """y = 2^x;  dy/dx = y ln 2."""

    @staticmethod
    def forward(ctx, x):
        with _quiet():
            y = get_array_module(x).exp2(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (y * _LN2)


class Expm1(Function):
    """y = e^x - 1 (precise for small x);  dy/dx = e^x = y + 1."""

    @staticmethod
    def forward(ctx, x):
        with _quiet():
            y = get_array_module(x).expm1(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (y + 1)


class Log2(Function):
    """y = log_2 x;  dy/dx = 1 / (x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / (x * _LN2)


class Log10(Function):
    """y = log_10 x;  dy/dx = 1 / (x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / (x * _LN10)


class Log1p(Function):
    """y = ln(1 + x) (precise for small x);  dy/dx = 1 / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        with _quiet():
            return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        with _quiet():
            return grad / (1 + x)


class Rsqrt(Function):
    """y = 1 / sqrt(x);  dy/dx = -x^{-3/2} / 2 = -y^3 / 2."""

    @staticmethod
    def forward(ctx, x):
        with _quiet():
            y = 1 / get_array_module(x).sqrt(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        with _quiet():
            return grad * (-0.5 * y * y * y)


class Reciprocal(Function):
    """y = 1 / x;  dy/dx = -1 / x^2 = -y^2."""

    @staticmethod
    def forward(ctx, x):
        with _quiet():
            y = get_array_module(x).reciprocal(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        with _quiet():
            return grad * -(y * y)


class Erf(Function):
    """y = erf x = 2/sqrt(pi) int_0^x e^{-t^2} dt;  dy/dx = 2/sqrt(pi) e^{-x^2}."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return _in_float64(_erf64, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (_TWO_OVER_SQRT_PI * get_array_module(x).exp(-(x * x)))


class Erfinv(Function):
    """y = erf^{-1}(x) for x in (-1, 1);  dy/dx = 1 / erf'(y) = sqrt(pi)/2 e^{y^2}."""

    @staticmethod
    def forward(ctx, x):
        y = _in_float64(_erfinv64, x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        with _quiet():
            return grad * (get_array_module(y).exp(y * y) / _TWO_OVER_SQRT_PI)


# ----------------------------------------------------------------- public functions
def exp2(input: Tensor) -> Tensor:
    """2^x elementwise."""
    return Exp2.apply(floating(input))


def expm1(input: Tensor) -> Tensor:
    """e^x - 1 elementwise, without the cancellation of exp(x) - 1 for small x."""
    return Expm1.apply(floating(input))


def log2(input: Tensor) -> Tensor:
    """The base-2 logarithm elementwise."""
    return Log2.apply(floating(input))


def log10(input: Tensor) -> Tensor:
    """The base-10 logarithm elementwise."""
    return Log10.apply(floating(input))


def log1p(input: Tensor) -> Tensor:
    """ln(1 + x) elementwise, precise for small x."""
    return Log1p.apply(floating(input))


def rsqrt(input: Tensor) -> Tensor:
    """1 / sqrt(x) elementwise (inf at 0, NaN below)."""
    return Rsqrt.apply(floating(input))


def reciprocal(input: Tensor) -> Tensor:
    """1 / x elementwise (integer inputs give float32, as PyTorch)."""
    return Reciprocal.apply(floating(input))


def erf(input: Tensor) -> Tensor:
    """The error function erf x = 2/sqrt(pi) int_0^x e^{-t^2} dt elementwise.

    >>> lm.erf(lm.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8427])
    """
    return Erf.apply(floating(input))


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function elementwise: erfinv(erf(x)) = x; +-inf at +-1, NaN
    outside [-1, 1]."""
    return Erfinv.apply(floating(input))

"""Numerical helpers on raw arrays for the activations and the losses: e^{-|x|}, a precise
in-place log1p, the overflow-free sigmoid, and the standard normal CDF Phi that exact GELU
needs (NumPy has no erf).
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module


# Speed notes: np.where and masked ufuncs (where=) run about 10x slower than plain arithmetic
# on random masks (branch misprediction), and np.log1p / np.expm1 about 8x slower than
# np.log / np.exp, so the hot paths below blend with arithmetic and use Kahan's log1p.


def _exp_neg_abs(x):
    """e^{-|x|} in a fresh array (in (0, 1], so it never overflows)."""
    xp = get_array_module(x)
    z = xp.abs(x, out=xp.empty_like(x))
    xp.negative(z, out=z)
    return xp.exp(z, out=z)


def _log1p_inplace(e):
    """log(1 + e) for e >= 0, in place, to full relative precision (Kahan): with u = fl(1 + e),
    log1p(e) = log(u) * e / (u - 1), and = e where u rounds to 1."""
    xp = get_array_module(e)
    u = xp.add(e, 1, out=xp.empty_like(e))      # out=: 0-d arithmetic would give scalars
    d = u - 1
    xp.log(u, out=u)
    tiny = d == 0                     # 1 + e == 1: log1p(e) = e to working precision
    u += tiny
    d += tiny
    u /= d
    e *= u
    return e


def _log1p_exp_neg_abs(x):
    """log(1 + e^{-|x|}), the correction term of softplus(x) = max(x, 0) + log(1 + e^{-|x|})."""
    return _log1p_inplace(_exp_neg_abs(x))


def _sigmoid(x):
    """sigma(x) = 1 / (1 + e^{-x}), evaluated as e^{-|x|} / (1 + e^{-|x|}) for x < 0 so the
    exponent is never positive and nothing overflows (and tiny values keep their digits)."""
    e = _exp_neg_abs(x)
    den = e + 1
    get_array_module(x).maximum(e, x >= 0, out=e)      # numerator: 1 for x >= 0, e^{-|x|} = e^x for x < 0
    e /= den
    return e


def _sigmoid_unit(x):
    """sigma(x) = 1 / (1 + e^{-x}) in three in-place passes over one fresh array, for the
    Sigmoid unit (it runs in every step of the lectures' networks).

    As in PyTorch, e^{-x} is allowed to overflow to inf where x is very negative (below about
    -88.7 in float32), which makes sigma exactly 0 there, and sigma(-inf) = 0; float16 is
    computed in float32 and rounded once, as PyTorch's kernels do. The losses use _sigmoid,
    which keeps tiny values (and exact zeros) for their gradients."""
    if x.dtype.char == "e":
        return _sigmoid_unit(x.astype(np.float32)).astype(np.float16)
    xp = get_array_module(x)
    z = xp.negative(x, out=xp.empty_like(x))  # out=: a 0-d input would give a scalar
    with np.errstate(over="ignore"):          # host-side warning control (a no-op on devices)
        xp.exp(z, out=z)
    z += 1
    return xp.reciprocal(z, out=z)


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969): the coefficients of netlib's CALERF, accurate to about 1e-16. NumPy has no erf.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-01,
      6.05183413124413191e-02, 2.33520497626869185e-03)


def _erfc_positive(y):
    """erfc(y) for y > 0.46875 (Cody's second and third intervals)."""
    xp = get_array_module(y)
    out = xp.empty_like(y)
    mid = y <= 4.0
    for mask, (num, den, last) in ((mid, (_C, _D, 7)), (~mid, (_P, _Q, 4))):
        v = y[mask]
        if not v.size:
            continue
        z = v if num is _C else 1 / (v * v)
        xnum, xden = num[last + 1] * z, z
        for i in range(last):
            xnum = (xnum + num[i]) * z
            xden = (xden + den[i]) * z
        r = (xnum + num[last]) / (xden + den[last])
        if num is _P:
            r = (1 / math.sqrt(math.pi) - z * r) / v
        # e^{-v^2} split as e^{-s^2} e^{-(v-s)(v+s)} with s = v rounded to 1/16: keeps the
        # rounding error of v^2 out of the exponent.
        s = xp.trunc(v * 16) / 16
        out[mask] = xp.exp(-s * s) * xp.exp(-(v - s) * (v + s)) * r
    return out


# Numerical Recipes' erfc: one Chebyshev fit for all z >= 0, relative error < 1.2e-7 (float32
# precision), erfc(z) = t exp(-z^2 + P(t)) with t = 1 / (1 + z/2). Branch-free, so float32 GELU
# runs at the speed of a few exps instead of through masked gathers.
_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
       1.48851587, -0.82215223, 0.17087277)


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, through erfc in the tails (no cancellation): Cody's
    approximation (~1e-16) in float64, Numerical Recipes' (~1e-7) in float32."""
    xp = get_array_module(x)
    if x.dtype == np.float32:
        z = xp.abs(x, out=xp.empty_like(x))
        z *= np.float32(1 / math.sqrt(2))
        t = xp.multiply(z, np.float32(0.5), out=xp.empty_like(z))
        t += 1
        xp.reciprocal(t, out=t)
        p = xp.multiply(t, np.float32(_NR[-1]), out=xp.empty_like(t))
        for c in _NR[-2:0:-1]:
            p += np.float32(c)
            p *= t
        p += np.float32(_NR[0])
        z *= z
        p -= z
        xp.exp(p, out=p)
        p *= t
        half = p
        half *= np.float32(0.5)                  # erfc(|x| / sqrt 2) / 2 = Phi(-|x|)
    else:
        z = xp.abs(x) * (1 / math.sqrt(2))
        half = xp.empty_like(x)
        small = z <= 0.46875
        v = z[small]
        vv = v * v
        xnum, xden = _A[4] * vv, vv
        for i in range(3):
            xnum = (xnum + _A[i]) * vv
            xden = (xden + _B[i]) * vv
        half[small] = 0.5 - 0.5 * v * (xnum + _A[3]) / (xden + _B[3])
        large = ~small
        half[large] = 0.5 * _erfc_positive(z[large])
    positive = x >= 0
    half *= 1 - 2 * positive.astype(x.dtype)     # Phi(x) = 1 - Phi(-x) for x >= 0
    half += positive
    return half

"""Activation functions: the non-linearities sigma of the lectures' neuron
f(x_1, ..., x_s) = sigma(sum_i x_i w_i - b), and the vector activations softmax / log-softmax.

Every function is numerically stable over the whole float range: sigmoid, softplus and
logsigmoid only ever exponentiate non-positive numbers (no overflow at x = +-1e4), and
softmax / log_softmax subtract the row maximum first (the log-sum-exp trick,
log sum_j e^{x_j} = c + log sum_j e^{x_j - c} with c = max_j x_j; the lecture: "Don't try
without, it *will* fail!"). Where the derivative is a function of the output (sigmoid:
sigma' = sigma (1 - sigma), tanh: 1 - y^2, relu: [y > 0]) the output is saved, not the input.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..errors import LaminaValueError
from ._util import as_tensor, normalize_dim

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu",
           "heaviside", "softmax", "log_softmax", "logsigmoid", "hardtanh"]


# Speed notes: np.where and masked ufuncs (where=) run about 10x slower than plain arithmetic
# on random masks (branch misprediction), and np.log1p / np.expm1 about 8x slower than
# np.log / np.exp, so the hot paths below blend with arithmetic and use Kahan's log1p.


def _exp_neg_abs(x):
    """e^{-|x|} in a fresh array (in (0, 1], so it never overflows)."""
    z = np.abs(x, out=np.empty_like(x))
    np.negative(z, out=z)
    return np.exp(z, out=z)


def _log1p_inplace(e):
    """log(1 + e) for e >= 0, in place, to full relative precision (Kahan): with u = fl(1 + e),
    log1p(e) = log(u) * e / (u - 1), and = e where u rounds to 1."""
    u = np.add(e, 1, out=np.empty_like(e))      # out=: 0-d arithmetic would give scalars
    d = u - 1
    np.log(u, out=u)
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
    np.maximum(e, x >= 0, out=e)      # numerator: 1 for x >= 0, e^{-|x|} = e^x for x < 0
    e /= den
    return e


def _sigmoid_unit(x):
    """sigma(x) = 1 / (1 + e^{-x}) in four in-place passes over one fresh array, for the
    Sigmoid unit (it runs in every step of the lectures' networks).

    -x is clamped at the largest exponent with a finite e^t, so nothing overflows; the result
    has full relative precision wherever it is a normal float (x > -88 in float32) and is
    about 6e-39 instead of e^x below that. The losses use _sigmoid, which keeps such tiny
    values (and exact zeros) for their gradients."""
    z = np.negative(x, out=np.empty_like(x))  # out=: a 0-d input would give a scalar
    np.minimum(z, _EXP_LIMIT.get(z.dtype.char, 88.0), out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


_EXP_LIMIT = {"e": 11.0, "f": 88.0, "d": 709.0}  # largest t with a finite e^t, by dtype


class Sigmoid(Function):
    """y = sigma(x) = 1 / (1 + e^{-x});  dy/dx = sigma(x) (1 - sigma(x)) = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = _sigmoid_unit(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


class ReLU(Function):
    """y = ReLU(x) = max{0, x};  dy/dx = [x > 0] = [y > 0] (0 at the kink x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (y > 0)


class LeakyReLU(Function):
    """y = x for x > 0, a x otherwise;  dy/dx = 1 for x > 0, a otherwise.  For a >= 0 the
    sign of y is the sign of x, so the output is saved; for a < 0 the input is."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ax = np.multiply(x, negative_slope, out=np.empty_like(x))
        # x > 0 picks the larger of x and a x when a <= 1, the smaller when a > 1
        y = (np.maximum if negative_slope <= 1 else np.minimum)(x, ax, out=ax)
        ctx.slope = negative_slope
        ctx.save(y if negative_slope >= 0 else x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved
        slope = (s > 0).astype(grad.dtype)
        slope *= 1 - ctx.slope
        slope += ctx.slope                # 1 where x > 0, a elsewhere
        slope *= grad
        return slope


class ELU(Function):
    """y = x for x > 0, alpha (e^x - 1) otherwise;  dy/dx = 1 for x > 0, alpha e^x otherwise.
    (alpha e^x, not y + alpha: the latter rounds to 0 in float32 once e^x < 6e-8.)"""

    @staticmethod
    def forward(ctx, x, alpha):
        y = np.expm1(np.minimum(x, 0))              # no overflow for large positive x
        y *= alpha
        y += np.maximum(x, 0)                       # one of the two terms is always 0
        ctx.alpha = alpha
        ctx.save(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        slope = np.exp(np.minimum(x, 0))            # 1 for x > 0
        slope *= ctx.alpha
        slope += np.multiply(x > 0, 1 - ctx.alpha, dtype=slope.dtype)
        slope *= grad
        return slope


class Softplus(Function):
    """y = (1/beta) log(1 + e^{beta x}), and y = x where beta x > threshold (PyTorch's cut);
    dy/dx = sigma(beta x) (1 where beta x > threshold).  log(1 + e^t) is evaluated as
    max(t, 0) + log1p(e^{-|t|}), which neither overflows nor loses the small values."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        t = x * beta if beta != 1 else x
        y = _log1p_exp_neg_abs(t)
        y += np.maximum(t, 0)
        if beta != 1:
            y /= beta
        cut = t > threshold
        if cut.any():
            y += cut * (x - y)                      # y = x beyond the threshold
        ctx.save(t)
        ctx.threshold = threshold
        return y

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved
        s = _sigmoid(t)
        cut = t > ctx.threshold
        if cut.any():
            s += cut * (1 - s)
        s *= grad
        return s


class LogSigmoid(Function):
    """y = log sigma(x) = min(x, 0) - log1p(e^{-|x|});  dy/dx = 1 - sigma(x) = 1 - e^y."""

    @staticmethod
    def forward(ctx, x):
        y = _log1p_exp_neg_abs(x)
        np.subtract(np.minimum(x, 0), y, out=y)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * -np.expm1(y)


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
    out = np.empty_like(y)
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
        s = np.trunc(v * 16) / 16
        out[mask] = np.exp(-s * s) * np.exp(-(v - s) * (v + s)) * r
    return out


# Numerical Recipes' erfc: one Chebyshev fit for all z >= 0, relative error < 1.2e-7 (float32
# precision), erfc(z) = t exp(-z^2 + P(t)) with t = 1 / (1 + z/2). Branch-free, so float32 GELU
# runs at the speed of a few exps instead of through masked gathers.
_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
       1.48851587, -0.82215223, 0.17087277)


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, through erfc in the tails (no cancellation): Cody's
    approximation (~1e-16) in float64, Numerical Recipes' (~1e-7) in float32."""
    if x.dtype == np.float32:
        z = np.abs(x, out=np.empty_like(x))
        z *= np.float32(1 / math.sqrt(2))
        t = np.multiply(z, np.float32(0.5), out=np.empty_like(z))
        t += 1
        np.reciprocal(t, out=t)
        p = np.multiply(t, np.float32(_NR[-1]), out=np.empty_like(t))
        for c in _NR[-2:0:-1]:
            p += np.float32(c)
            p *= t
        p += np.float32(_NR[0])
        z *= z
        p -= z
        np.exp(p, out=p)
        p *= t
        half = p
        half *= np.float32(0.5)                  # erfc(|x| / sqrt 2) / 2 = Phi(-|x|)
    else:
        z = np.abs(x) * (1 / math.sqrt(2))
        half = np.empty_like(x)
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


class GELU(Function):
    """y = x Phi(x) (Phi the standard normal CDF);  dy/dx = Phi(x) + x phi(x).
    approximate='tanh': y = x (1 + tanh u) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x))
            ctx.save(x, t)
            return 0.5 * x * (1 + t)
        cdf = _normal_cdf(x)
        ctx.save(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, c = ctx.saved
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            return grad * (0.5 * (1 + c) + 0.5 * x * (1 - c * c) * k * (1 + 3 * 0.044715 * x * x))
        pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (c + x * pdf)


class SiLU(Function):
    """y = x sigma(x);  dy/dx = sigma(x) (1 + x (1 - sigma(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return grad * s * (1 + x * (1 - s))


class Heaviside(Function):
    """The step unit H(x) = 1 for x >= 0, 0 otherwise (or torch.heaviside: 0, ``values``, 1
    for x <, =, > 0);  dH/dx = 0 wherever it exists, and taken as 0 at the step."""

    @staticmethod
    def forward(ctx, x, values):
        if values is None:
            return (x >= 0).astype(x.dtype)
        return np.where(x > 0, 1, np.where(x == 0, values, 0)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class HardTanh(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 for lo < x < hi, else 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        y = np.clip(x, min_val, max_val)
        ctx.save(y)
        ctx.lo, ctx.hi = min_val, max_val
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * ((y > ctx.lo) & (y < ctx.hi))


class Softmax(Function):
    """y_i = e^{x_i} / sum_j e^{x_j} along ``dim`` (shifted by max_j x_j first);
    dL/dx_i = y_i (dL/dy_i - sum_j y_j dL/dy_j)."""

    @staticmethod
    def forward(ctx, x, dim):
        # out= keeps a 0-d input an array (0-d arithmetic returns NumPy scalars)
        e = np.subtract(x, x.max(axis=dim, keepdims=True), out=np.empty_like(x))
        np.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        g = np.subtract(grad, (grad * y).sum(axis=ctx.dim, keepdims=True), out=np.empty_like(y))
        g *= y
        return g


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^{x_j} = (x_i - c) - log sum_j e^{x_j - c}, c = max_j x_j;
    dL/dx_i = dL/dy_i - e^{y_i} sum_j dL/dy_j."""

    @staticmethod
    def forward(ctx, x, dim):
        shifted = np.subtract(x, x.max(axis=dim, keepdims=True), out=np.empty_like(x))
        lse = np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        shifted -= lse
        ctx.dim = dim
        ctx.save(shifted)
        return shifted

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        g = np.exp(y, out=np.empty_like(y))
        g *= grad.sum(axis=ctx.dim, keepdims=True)
        np.subtract(grad, g, out=g)
        return g


# ----------------------------------------------------------------- public functions
def _floating(input) -> Tensor:
    """``input`` as a Tensor; integer and bool tensors become float32 (as PyTorch's sigmoid,
    tanh, ... do), so e.g. np.exp never silently returns float64."""
    x = as_tensor(input)
    if x.dtype.kind not in "fc":
        x = Tensor._wrap(x._data.astype(np.float32))
    return x


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function sigma(x) = 1 / (1 + e^{-x}) elementwise (no overflow at +-1e4)."""
    return Sigmoid.apply(_floating(input))


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent f(z) = tanh(z) elementwise."""
    return Tanh.apply(_floating(input))


def relu(input: Tensor) -> Tensor:
    """ReLU(x) = x for x > 0, 0 otherwise, elementwise."""
    return ReLU.apply(as_tensor(input))


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyReLU.apply(as_tensor(input), negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU(x) = x for x > 0, alpha (e^x - 1) otherwise."""
    return ELU.apply(_floating(input), alpha=alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + e^{beta x}), a smooth ReLU; linear where beta x > threshold."""
    return Softplus.apply(_floating(input), beta=beta, threshold=threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log sigma(x) = -softplus(-x), stable for large |x|."""
    return LogSigmoid.apply(_floating(input))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x Phi(x); ``approximate='tanh'`` uses the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise LaminaValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_floating(input), approximate=approximate)


def silu(input: Tensor) -> Tensor:
    """SiLU (swish): x sigma(x)."""
    return SiLU.apply(_floating(input))


def heaviside(input: Tensor, values: Tensor | float | None = None) -> Tensor:
    """The step unit of the McCulloch-Pitts neuron: 1 for x >= 0, 0 otherwise.

    With ``values`` (a tensor or number) it follows ``torch.heaviside``: 0 for x < 0,
    ``values`` for x == 0, 1 for x > 0. The gradient is zero everywhere.

    >>> lm.heaviside(lm.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 1., 1.])
    """
    x = as_tensor(input)
    if values is not None:
        values = values._data if isinstance(values, Tensor) else np.asarray(values, x.dtype)
    return Heaviside.apply(x, values=values)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """min(max(x, min_val), max_val)."""
    if min_val > max_val:
        raise LaminaValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return HardTanh.apply(as_tensor(input), min_val=min_val, max_val=max_val)


def _softmax_args(name: str, input, dim, dtype):
    x = _floating(input)
    if dim is None:
        raise LaminaValueError(
            f"{name} needs dim, the axis that sums to one (e.g. dim=1 for (N, C) logits, "
            "dim=-1 for the last axis); lamina does not guess it")
    if dtype is not None and x.dtype != np.dtype(dtype):
        from .arithmetic import cast

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

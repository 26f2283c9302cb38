"""Activation functions: the elementwise non-linearities sigma of the lectures' neuron
f(x_1, ..., x_s) = sigma(sum_i x_i w_i - b) (the vector activations softmax / log-softmax are
in ``softmax``).

Every function is numerically stable over the whole float range: sigmoid, softplus and
logsigmoid only ever exponentiate non-positive numbers (no overflow at x = +-1e4). Where the derivative is a function of the output (sigmoid:
sigma' = sigma (1 - sigma), tanh: 1 - y^2, relu: [y > 0]) the output is saved, not the input.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module, on_device_of
from ..errors import LaminaValueError
from ._special import _log1p_exp_neg_abs, _normal_cdf, _sigmoid, _sigmoid_unit
from . import _workspace as workspace
from ._util import as_tensor, floating

# The integer type of each floating type's size, to work on the bits of its values.
_SAME_SIZE_INT = {"e": np.dtype(np.int16), "f": np.dtype(np.int32), "d": np.dtype(np.int64)}

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu",
           "heaviside", "logsigmoid", "hardtanh"]


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
        y = get_array_module(x).tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


class ReLU(Function):
    """y = ReLU(x) = max{0, x};  dy/dx = [x > 0] = [y > 0] (0 at the kink x = 0, and 1 for a
    NaN, which passes its gradient on, as PyTorch's ``not (y <= 0)``)."""

    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).maximum(x, 0, out=workspace.empty_like(x))
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        xp = get_array_module(y, grad)
        bits = _SAME_SIZE_INT.get(grad.dtype.char)
        if xp is not np or bits is None or y.dtype != grad.dtype or not y.size:
            # (on a device a select costs no more than the bit trick below)
            return xp.where(y <= 0, 0, grad).astype(grad.dtype, copy=False)
        # where(y <= 0, 0, grad) without np.where (about 15x slower on a random mask): y is a
        # ReLU output (positive, +-0 or NaN), so "not y <= 0" is "y != 0", and the masked
        # entries are cleared bit by bit (grad AND 0...0), which keeps exact zeros there even
        # where grad is inf or NaN, and every other entry exactly.
        keep = xp.not_equal(y, 0, out=workspace.empty_like(y, np.bool_))
        mask = xp.subtract(0, keep, dtype=bits, out=workspace.empty_like(y, bits))  # 0 or ~0
        out = workspace.empty_like(grad)
        xp.bitwise_and(grad.view(bits), mask, out=out.view(bits))
        return out


class LeakyReLU(Function):
    """y = x for x > 0, a x otherwise;  dy/dx = 1 for x > 0, a otherwise.  For a >= 0 the
    sign of y is the sign of x, so the output is saved; for a < 0 the input is."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        xp = get_array_module(x)
        ax = xp.multiply(x, negative_slope, out=xp.empty_like(x))
        # x > 0 picks the larger of x and a x when a <= 1, the smaller when a > 1
        y = (xp.maximum if negative_slope <= 1 else xp.minimum)(x, ax, out=ax)
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
        xp = get_array_module(x)
        y = xp.expm1(xp.minimum(x, 0))              # no overflow for large positive x
        y *= alpha
        y += xp.maximum(x, 0)                       # one of the two terms is always 0
        ctx.alpha = alpha
        ctx.save(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        xp = get_array_module(x)
        slope = xp.exp(xp.minimum(x, 0))            # 1 for x > 0
        slope *= ctx.alpha
        slope += xp.multiply(x > 0, 1 - ctx.alpha, dtype=slope.dtype)
        slope *= grad
        return slope


class Softplus(Function):
    """y = (1/beta) log(1 + e^{beta x}), and y = x where beta x > threshold (PyTorch's cut);
    dy/dx = sigma(beta x) (1 where beta x > threshold).  log(1 + e^t) is evaluated as
    max(t, 0) + log1p(e^{-|t|}), which neither overflows nor loses the small values."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        t = x * beta if beta != 1 else x
        y = _log1p_exp_neg_abs(t)
        y += xp.maximum(t, 0)
        if beta != 1:
            y /= beta
        cut = t > threshold
        # (on the CPU a masked copy is skipped when nothing is cut; on a device the test
        # would cost a synchronisation, and the copy is cheap)
        if xp is not np or cut.any():
            xp.copyto(y, x, where=cut)              # y = x beyond the threshold
        ctx.save(t)
        ctx.threshold = threshold
        return y

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved
        s = _sigmoid(t)
        cut = t > ctx.threshold
        if get_array_module(t) is not np or cut.any():
            s += cut * (1 - s)
        s *= grad
        return s


class LogSigmoid(Function):
    """y = log sigma(x) = min(x, 0) - log1p(e^{-|x|});  dy/dx = 1 - sigma(x) = 1 - e^y."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        y = _log1p_exp_neg_abs(x)
        xp.subtract(xp.minimum(x, 0), y, out=y)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * -get_array_module(y).expm1(y)


class GELU(Function):
    """y = x Phi(x) (Phi the standard normal CDF);  dy/dx = Phi(x) + x phi(x).
    approximate='tanh': y = x (1 + tanh u) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            t = get_array_module(x).tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x))
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
        pdf = get_array_module(x).exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
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
        xp = get_array_module(x)
        return xp.where(x > 0, 1, xp.where(x == 0, values, 0)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return get_array_module(grad).zeros_like(grad)


class HardTanh(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 for lo < x < hi, else 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        y = get_array_module(x).clip(x, min_val, max_val)
        ctx.save(y)
        ctx.lo, ctx.hi = min_val, max_val
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * ((y > ctx.lo) & (y < ctx.hi))


# ----------------------------------------------------------------- public functions
def sigmoid(input: Tensor) -> Tensor:
    """The logistic function sigma(x) = 1 / (1 + e^{-x}) elementwise (no overflow at +-1e4)."""
    return Sigmoid.apply(floating(input))


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent f(z) = tanh(z) elementwise."""
    return Tanh.apply(floating(input))


def relu(input: Tensor) -> Tensor:
    """ReLU(x) = x for x > 0, 0 otherwise, elementwise."""
    return ReLU.apply(as_tensor(input))


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyReLU.apply(as_tensor(input), negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU(x) = x for x > 0, alpha (e^x - 1) otherwise."""
    return ELU.apply(floating(input), alpha=alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + e^{beta x}), a smooth ReLU; linear where beta x > threshold."""
    return Softplus.apply(floating(input), beta=beta, threshold=threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log sigma(x) = -softplus(-x), stable for large |x|."""
    return LogSigmoid.apply(floating(input))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x Phi(x); ``approximate='tanh'`` uses the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise LaminaValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(floating(input), approximate=approximate)


def silu(input: Tensor) -> Tensor:
    """SiLU (swish): x sigma(x)."""
    return SiLU.apply(floating(input))


def heaviside(input: Tensor, values: Tensor | float | None = None) -> Tensor:
    """The step unit of the McCulloch-Pitts neuron: 1 for x >= 0, 0 otherwise.

    With ``values`` (a tensor or number) it follows ``torch.heaviside``: 0 for x < 0,
    ``values`` for x == 0, 1 for x > 0. The gradient is zero everywhere.

    >>> lm.heaviside(lm.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 1., 1.])
    """
    x = as_tensor(input)
    if isinstance(values, Tensor):
        values = on_device_of(values._data, x._data)
    elif values is not None:
        values = get_array_module(x._data).asarray(values, dtype=x.dtype)
    return Heaviside.apply(x, values=values)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """min(max(x, min_val), max_val)."""
    if min_val > max_val:
        raise LaminaValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return HardTanh.apply(as_tensor(input), min_val=min_val, max_val=max_val)

"""Loss functions with PyTorch's ``F`` signatures, the regression and divergence family:
mse_loss, l1_loss, smooth_l1_loss, huber_loss, kl_div and the lectures' quadratic cost (the
other families are ``classification_loss``, ``binary_loss``, ``margin_loss`` and
``structured_hinge``; the reduction and validation helpers they share are in
``_loss_reduction``).

Each loss is one Function: forward computes the per-element loss l_n and reduces it
('none': l itself, 'sum': sum_n l_n, 'mean': sum_n l_n / n); backward multiplies the local
derivative dl_n/dx by the upstream gradient (divided by n for 'mean'). Input and target must
have equal shapes: a target is never broadcast silently (an (N, 1) output against an (N,)
target is a ShapeError, not an (N, N) loss).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError
from ._loss_reduction import _both, _pair, _reduce, _reduction, _upstream

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "quadratic_loss"]


class MSE(Function):
    """l = (x - y)^2;  dl/dx = 2 (x - y) = -dl/dy."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save(d)
        ctx.reduction = reduction
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        return _both(ctx, (2 * _upstream(grad, ctx.reduction, d.size)) * d)


class L1(Function):
    """l = |x - y|;  dl/dx = sign(x - y) = -dl/dy (0 at the kink)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save(d)
        ctx.reduction = reduction
        return _reduce(get_array_module(d).abs(d), reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        return _both(ctx, _upstream(grad, ctx.reduction, d.size) * get_array_module(d).sign(d))


class SmoothL1(Function):
    """With d = x - y: l = d^2 / (2 beta) for |d| < beta, |d| - beta/2 otherwise;
    dl/dx = d / beta inside, sign(d) outside (beta = 0 is the L1 loss)."""

    @staticmethod
    def forward(ctx, x, y, reduction, beta):
        xp = get_array_module(x)
        d = x - y
        a = xp.abs(d)
        if beta == 0:
            loss = a
        else:   # c = min(|d|, beta): c (|d| - c/2) / beta is d^2/(2 beta) inside, |d| - beta/2 outside
            c = xp.minimum(a, beta)
            loss = c * (a - 0.5 * c)
            loss /= beta
        ctx.save(d)
        ctx.reduction, ctx.beta = reduction, beta
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        beta, xp = ctx.beta, get_array_module(d)
        local = xp.sign(d) if beta == 0 else xp.clip(d * (1 / beta), -1, 1)
        return _both(ctx, _upstream(grad, ctx.reduction, d.size) * local)


class Huber(Function):
    """With d = x - y: l = d^2 / 2 for |d| < delta, delta (|d| - delta/2) otherwise;
    dl/dx = d clipped to [-delta, delta]."""

    @staticmethod
    def forward(ctx, x, y, reduction, delta):
        xp = get_array_module(x)
        d = x - y
        a = xp.abs(d)
        c = xp.minimum(a, delta)      # c (|d| - c/2): d^2/2 inside, delta (|d| - delta/2) outside
        loss = c * (a - 0.5 * c)
        ctx.save(d)
        ctx.reduction, ctx.delta = reduction, delta
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        local = get_array_module(d).clip(d, -ctx.delta, ctx.delta)
        return _both(ctx, _upstream(grad, ctx.reduction, d.size) * local)


class Quadratic(Function):
    """The lectures' quadratic cost per sample, C_x = 1/2 ||y(x) - a||^2 summed over all but the
    batch axis (C = 1/(2n) sum_x ||y(x) - a||^2 for 'mean');  dC_x/da = a - y(x)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        n = d.shape[0] if d.ndim else 1
        per_sample = 0.5 * get_array_module(d).square(d).reshape(n, -1).sum(axis=1)
        ctx.save(d)
        ctx.reduction, ctx.n = reduction, n
        return _reduce(per_sample if d.ndim else per_sample.reshape(()), reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved
        up = _upstream(grad, ctx.reduction, ctx.n)
        if ctx.reduction == "none" and d.ndim > 1:
            up = up.reshape(up.shape + (1,) * (d.ndim - 1))
        return _both(ctx, up * d)


# ----------------------------------------------------------------- probabilistic losses
class KLDiv(Function):
    """Pointwise KL divergence with input x = log q: l = y (log y - x), 0 where y = 0 (so zeros
    in the target give no NaN); with log_target, y = e^t and l = e^t (t - x).
    dl/dx = -y;  dl/dy = log y + 1 - x  (with log_target: dl/dt = e^t (t + 1 - x))."""

    @staticmethod
    def forward(ctx, x, y, reduction, log_target):
        xp = get_array_module(x)
        if log_target:
            loss = xp.exp(y) * (y - x)
        else:
            log_y = xp.log(xp.where(y > 0, y, 1))   # 0 where y <= 0: y log y -> 0 as y -> 0
            loss = y * (log_y - x)
        ctx.save(x, y)
        ctx.reduction, ctx.log_target = reduction, log_target
        if reduction == "batchmean":
            total = loss.sum()
            return total / x.shape[0] if x.ndim else total
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        if ctx.reduction == "batchmean":
            up = grad / x.shape[0] if x.ndim else grad
        else:
            up = _upstream(grad, ctx.reduction, x.size)
        xp = get_array_module(x)
        p = xp.exp(y) if ctx.log_target else y
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = -(up * p)
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                gy = up * p * (y + 1 - x)
            else:
                with np.errstate(divide="ignore"):   # host-side warning control
                    gy = up * (xp.log(y) + 1 - x)
        return gx, gy


# ----------------------------------------------------------------- public functions
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Mean squared error loss(x, y) = 1/n sum_i |x_i - y_i|^2 (shapes must be equal)."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    return MSE.apply(*_pair("mse_loss", input, target), reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean") -> Tensor:
    """Mean absolute error 1/n sum_i |x_i - y_i| (shapes must be equal)."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    return L1.apply(*_pair("l1_loss", input, target), reduction=reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic for |x - y| < beta, linear beyond: d^2 / (2 beta) or |d| - beta / 2."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise LaminaValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return SmoothL1.apply(*_pair("smooth_l1_loss", input, target), reduction=reduction, beta=beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: d^2 / 2 for |d| < delta, delta (|d| - delta / 2) beyond (d = x - y)."""
    reduction = _reduction("huber_loss", reduction)
    if not delta > 0:
        raise LaminaValueError(f"huber_loss: delta must be > 0, got {delta}")
    return Huber.apply(*_pair("huber_loss", input, target), reduction=reduction, delta=delta)


def quadratic_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """The lectures' quadratic cost C = 1/(2n) sum_x ||y(x) - a||^2: half the squared error of
    each sample (summed over all axes but the first), averaged over the batch ('mean'),
    summed ('sum') or one value per sample ('none')."""
    reduction = _reduction("quadratic_loss", reduction)
    return Quadratic.apply(*_pair("quadratic_loss", input, target), reduction=reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence sum y (log y - x) of log-probabilities ``input`` from ``target``.

    'batchmean' divides the sum by the batch size (the true KL divergence per sample);
    'mean' divides by the number of elements, as PyTorch. Zeros in the target contribute 0.
    """
    reduction = _reduction("kl_div", reduction, size_average, reduce, batchmean=True)
    return KLDiv.apply(*_pair("kl_div", input, target), reduction=reduction, log_target=log_target)

"""Binary cross-entropy with PyTorch's ``F`` signatures: binary_cross_entropy of probabilities
and binary_cross_entropy_with_logits, sigmoid and BCE fused.

For a probability o of the positive class and a target t in [0, 1] the loss is the
cross-entropy of the two-point distributions (t, 1 - t) and (o, 1 - o):
l = -w [t log o + (1 - t) log(1 - o)]. On logits x, o = sigma(x) and the two logs are
-softplus(-x) and -softplus(x), each evaluated with the log-sum-exp trick, so that the fused
loss never exponentiates a positive number and stays exact where 1 - sigma(x) has no digits.
They follow the conventions of :mod:`lamina.ops._loss_reduction` and use its reduction and validation
helpers: one Function per loss, reduced as 'none', 'sum' or 'mean', and a target is never
broadcast silently.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module, to_host
from ..errors import LaminaValueError
from ._special import _log1p_exp_neg_abs, _log1p_inplace, _sigmoid
from ._loss_reduction import _pair, _raw_weight, _reduce, _reduction, _upstream

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


class BCE(Function):
    """l = -w [y log x + (1 - y) log(1 - x)], each log clamped at -100 (as PyTorch) so x = 0 or
    1 gives a finite loss;  dl/dx = w (x - y) / max(x (1 - x), 1e-12),
    dl/dy = w [log(1 - x) - log x]."""

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):    # host-side warning control (no-op on devices)
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(_log1p_inplace(xp.negative(x, out=xp.empty_like(x))), -100)
        loss = (y - 1) * log_1mx - y * log_x
        if weight is not None:
            loss *= weight
        ctx.save(x, y)
        ctx.weight, ctx.reduction = weight, reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        xp = get_array_module(x)
        up = _upstream(grad, ctx.reduction, x.size)
        if ctx.weight is not None:
            up = up * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = up * (x - y) / xp.maximum(x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                log_1mx = _log1p_inplace(xp.negative(x, out=xp.empty_like(x)))
                gy = up * (xp.maximum(log_1mx, -100) - xp.maximum(xp.log(x), -100))
        return gx, gy


def _softplus_pair(x):
    """(softplus(x), softplus(-x)) = (max(x, 0) + c, max(-x, 0) + c), c = log1p(e^{-|x|})."""
    xp = get_array_module(x)
    c = _log1p_exp_neg_abs(x)
    return xp.maximum(x, 0) + c, xp.maximum(-x, 0) + c


class BCEWithLogits(Function):
    """Fused sigmoid + BCE on logits x, p the pos_weight (1 if none), s(x) = softplus(x):
    l = -w [p y log sigma(x) + (1 - y) log(1 - sigma(x))] = w [p y s(-x) + (1 - y) s(x)]
    (both terms >= 0: no cancellation, no overflow at any |x|);
    dl/dx = w ((1 + (p - 1) y) sigma(x) - p y),  dl/dy = w [p s(-x) - s(x)]."""

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        sp_pos, sp_neg = _softplus_pair(x)
        sp_neg *= y if pos_weight is None else pos_weight * y
        sp_pos *= 1 - y
        loss = get_array_module(x).add(sp_pos, sp_neg, out=sp_pos)
        if weight is not None:
            loss *= weight
        ctx.save(x, y)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        pw = ctx.pos_weight
        up = _upstream(grad, ctx.reduction, x.size)
        if ctx.weight is not None:
            up = up * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            s = _sigmoid(x)
            gx = up * (s - y if pw is None else (1 + (pw - 1) * y) * s - pw * y)
        if ctx.needs_input_grad[1]:
            sp_pos, sp_neg = _softplus_pair(x)
            gy = up * ((sp_neg if pw is None else pw * sp_neg) - sp_pos)
        return gx, gy


# ----------------------------------------------------------------- public functions
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """loss(o, t) = -1/n sum_i w_i (t_i log o_i + (1 - t_i) log(1 - o_i)) of probabilities o in
    [0, 1] (logs clamped at -100, so o = 0 or 1 stays finite)."""
    name = "binary_cross_entropy"
    reduction = _reduction(name, reduction, size_average, reduce)
    x, y = _pair(name, input, target)
    data = x._data
    if data.size and not ((data.min() >= 0) & (data.max() <= 1)):   # one sync on a device
        bad = to_host(data[~((data >= 0) & (data <= 1))].reshape(-1)[:1])[0]
        raise LaminaValueError(f"{name}: input must hold probabilities in [0, 1], found {bad} "
                               "(apply sigmoid first, or use binary_cross_entropy_with_logits)")
    return BCE.apply(x, y, weight=_raw_weight(name, weight, x), reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE of sigmoid(input) fused and stable at any logit: -w [p t log sigma(x) +
    (1 - t) log(1 - sigma(x))], ``pos_weight`` p weighting the positive term per class."""
    name = "binary_cross_entropy_with_logits"
    reduction = _reduction(name, reduction, size_average, reduce)
    x, y = _pair(name, input, target)
    return BCEWithLogits.apply(x, y, weight=_raw_weight(name, weight, x),
                               pos_weight=_raw_weight(name, pos_weight, x, "pos_weight"),
                               reduction=reduction)

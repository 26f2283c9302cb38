"""Classification losses with PyTorch's ``F`` signatures: cross_entropy, nll_loss and one_hot
(binary_cross_entropy and binary_cross_entropy_with_logits are in :mod:`lamina.ops.binary_loss`
and can be imported from here too).

They follow the conventions of :mod:`lamina.ops._loss_reduction` and use its reduction and validation
helpers: one Function per loss, reduced as 'none', 'sum' or 'mean', and a target is never
broadcast silently. Cross-entropy with class indices is fused (log-softmax, pick and reduce
in one pass; backward softmax - onehot), as is BCE with logits; both use the log-sum-exp
trick and never exponentiate a positive number.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, int64
from ..backend import as_array, get_array_module, on_device_of
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ._util import as_tensor
from ._loss_reduction import _param_array, _reduce, _reduction, _upstream

# binary_cross_entropy(_with_logits) are listed by their family, lamina.ops.binary_loss.
__all__ = ["cross_entropy", "nll_loss", "one_hot"]


# ----------------------------------------------------------------- classification losses
def _index_target(name: str, x: Tensor, target, ignore_index: int, weight, probs_ok: bool):
    """Check the shape and dtype of class-index targets for input (N, C, d1, ...) or (C,);
    return the class axis, the target as a Tensor and the class weights. (The values are
    checked by the operation itself: see _valid_targets.)"""
    if x.ndim == 0:
        raise ShapeError(f"{name}: input needs a class dimension, got a 0-d tensor")
    axis = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[axis]
    expected = tuple(x.shape[:axis] + x.shape[axis + 1:])
    t = target._data if isinstance(target, Tensor) else on_device_of(as_array(target), x._data)
    also = f", or class probabilities of the input's shape {tuple(x.shape)}" if probs_ok else ""
    if t.shape != expected:
        raise ShapeError(f"{name}: input of shape {tuple(x.shape)} ({n_classes} classes on dim "
                         f"{axis}) needs class indices of shape {expected}{also}; got target "
                         f"shape {t.shape}")
    if t.dtype.kind not in "iu":
        raise LaminaTypeError(
            f"{name}: target has the shape {t.shape} of class indices but dtype {t.dtype}; "
            f"class indices must be integers (target.long()){also}")
    w = None
    if weight is not None:
        w = _param_array(name, weight, x)
        if w.shape != (n_classes,):
            raise ShapeError(f"{name}: weight must have one entry per class, shape ({n_classes},), "
                             f"got {w.shape}")
    target = target if isinstance(target, Tensor) else Tensor._wrap(t)
    return axis, target, w


def _valid_targets(name: str, target, ignore_index: int, n_classes: int):
    """The mask of entries that are not ``ignore_index`` (None when none is ignored), after
    checking every other index lies in [0, n_classes). Runs inside the operations' forward,
    so every batch is checked, replayed ones included. (On a device each of the two checks
    is one synchronisation.)"""
    valid = target != ignore_index
    if valid.all():
        valid, kept = None, target              # the common case: nothing to mask later
    else:
        kept = target[valid]
    if kept.size and ((kept.min() < 0) | (kept.max() >= n_classes)):
        bad = kept[(kept < 0) | (kept >= n_classes)].reshape(-1)[0]
        raise LaminaValueError(f"{name}: target index {int(bad)} is out of range for "
                               f"{n_classes} classes (expected 0 <= index < {n_classes}, or "
                               f"ignore_index={ignore_index})")
    return valid


def _flat_index(shape: tuple, target, valid):
    """Indices into the flattened (C-order) input of the target entries x[n, t_n, s...]: one
    fancy index instead of take/put_along_axis (several times cheaper on small batches).
    Ignored entries point at class 0; the mask ``valid`` removes them later."""
    xp = get_array_module(target)
    t = target if valid is None else xp.where(valid, target, 0)
    if len(shape) == 1:
        return t
    inner = math.prod(shape[2:])
    rows = xp.arange(shape[0]).reshape((-1,) + (1,) * (t.ndim - 1)) * (shape[1] * inner)
    if inner > 1:
        rows = rows + xp.arange(inner).reshape(shape[2:])
    return rows + t * inner


def _mean_count(dtype, target, wt, valid):
    """PyTorch's 'mean' denominator: sum of the target weights over non-ignored entries
    (a scalar, or a 0-d array on the target's device)."""
    if wt is not None:
        return (wt if valid is None else wt * valid).sum().astype(dtype)
    if valid is None:
        return dtype.type(target.size)
    return valid.sum().astype(dtype)


def _is_zero(count) -> bool:
    """Whether the 'mean' denominator is 0 (one synchronisation when it is on a device)."""
    return count is not None and bool(count == 0)


def _class_axis(v, axis: int):
    """A per-entry array (target shape) given back its class axis, to broadcast over classes."""
    ndim = getattr(v, "ndim", 0)
    return v.reshape(v.shape[:axis] + (1,) + v.shape[axis:]) if ndim else v


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood for class indices t_n, p = softmax(x_n),
    eps = label_smoothing, w the class weights (1 if none), W = sum_c w_c:
      l_n = (1 - eps) w_{t_n} (-log p_{t_n}) + (eps / C) sum_c w_c (-log p_c),
      dl_n/dx_k = ((1 - eps) w_{t_n} + (eps / C) W) p_k - (1 - eps) w_{t_n} [k = t_n] - (eps / C) w_k
    (softmax minus one-hot when eps = 0 and unweighted). 'mean' divides by sum_n w_{t_n} over
    the entries that are not ignore_index, as PyTorch. ``valid`` is None when none is ignored."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing, axis):
        xp = get_array_module(x)
        n_classes, eps = x.shape[axis], label_smoothing
        valid = _valid_targets("cross_entropy", target, ignore_index, n_classes)
        flat = _flat_index(x.shape, target, valid)
        # C order (not empty_like's 'K'), so reshape(-1) below is a view
        e = xp.subtract(x, x.max(axis=axis, keepdims=True), out=xp.empty(x.shape, x.dtype))
        picked = e.reshape(-1)[flat]
        wt = wb = None
        if weight is not None:
            wb = weight.reshape((n_classes,) + (1,) * (x.ndim - axis - 1))
            wt = weight[target if valid is None else xp.where(valid, target, 0)]
        if eps:
            smooth = (e * wb if wb is not None else e).sum(axis=axis)
        xp.exp(e, out=e)
        s = e.sum(axis=axis, keepdims=True)
        e /= s
        lse = xp.log(s).squeeze(axis)
        loss = lse - picked
        if wt is not None:
            loss *= wt
        if eps:
            total_w = weight.sum() if weight is not None else n_classes
            loss = (1 - eps) * loss + (eps / n_classes) * (total_w * lse - smooth)
        if valid is not None:
            loss = xp.where(valid, loss, 0).astype(x.dtype, copy=False)
        ctx.save(e)
        ctx.flat, ctx.valid, ctx.weight, ctx.wt = flat, valid, weight, wt
        ctx.reduction, ctx.eps, ctx.axis = reduction, eps, axis
        ctx.count = _mean_count(x.dtype, target, wt, valid) if reduction == "mean" else None
        ctx.empty = _is_zero(ctx.count)
        if ctx.empty:        # everything ignored: NaN loss and zero gradient, as PyTorch
            return xp.full((), np.nan, x.dtype)
        return _reduce(loss, reduction, ctx.count)

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved
        axis, eps, w = ctx.axis, ctx.eps, ctx.weight
        if ctx.empty:
            return get_array_module(p).zeros_like(p), None
        up = _upstream(grad, ctx.reduction, ctx.count)      # 0-d, or per entry for 'none'
        if ctx.valid is not None:
            up = up * ctx.valid
        at_target = (1 - eps) * up if w is None else (1 - eps) * ctx.wt * up
        row = up if w is None else at_target + (eps / p.shape[axis]) * w.sum() * up
        g = p * _class_axis(row, axis)                      # C order, like p
        if eps:
            shift = (eps / p.shape[axis]) * _class_axis(up, axis)
            g -= shift if w is None else shift * w.reshape((-1,) + (1,) * (p.ndim - axis - 1))
        g.reshape(-1)[ctx.flat] -= at_target                # one entry per target: no repeats
        return g, None


class CrossEntropyProb(Function):
    """Cross-entropy with class probabilities y (smoothed: y' = (1 - eps) y + eps / C):
    l_n = -sum_c w_c y'_c log p_c, p = softmax(x_n);
    dl_n/dx_k = p_k sum_c w_c y'_c - w_k y'_k,  dl_n/dy_k = -(1 - eps) w_k log p_k.
    'mean' divides by the number of samples (all axes but the class axis), as PyTorch."""

    @staticmethod
    def forward(ctx, x, y, weight, reduction, label_smoothing, axis):
        xp = get_array_module(x)
        n_classes, eps = x.shape[axis], label_smoothing
        logp = xp.subtract(x, x.max(axis=axis, keepdims=True), out=xp.empty_like(x))
        logp -= xp.log(xp.exp(logp).sum(axis=axis, keepdims=True))
        yw = (1 - eps) * y + eps / n_classes if eps else y
        if weight is not None:
            weight = weight.reshape((n_classes,) + (1,) * (x.ndim - axis - 1))
            yw = yw * weight
        # a class with p = 0 (logit -inf) and no target mass contributes 0, not 0 * -inf
        if xp is not np:      # on a device: mask always (cheaper than a synchronisation)
            with np.errstate(invalid="ignore"):
                prod = xp.where(yw == 0, 0, yw * logp).astype(x.dtype, copy=False)
        elif np.isfinite(logp).all():
            prod = yw * logp
        else:
            with np.errstate(invalid="ignore"):
                prod = yw * logp
            prod[yw == 0] = 0
        loss = -prod.sum(axis=axis)
        ctx.save(logp, yw)
        ctx.weight, ctx.reduction, ctx.eps, ctx.axis = weight, reduction, eps, axis
        ctx.count = x.size // n_classes
        return _reduce(loss, reduction, ctx.count)

    @staticmethod
    def backward(ctx, grad):
        logp, yw = ctx.saved
        axis, xp = ctx.axis, get_array_module(logp)
        up = xp.expand_dims(xp.broadcast_to(_upstream(grad, ctx.reduction, ctx.count),
                                            logp.shape[:axis] + logp.shape[axis + 1:]), axis)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = up * (xp.exp(logp) * yw.sum(axis=axis, keepdims=True) - yw)
        if ctx.needs_input_grad[1]:
            w = 1 if ctx.weight is None else ctx.weight
            gy = up * ((ctx.eps - 1) * w) * logp
        return gx, gy


class NLL(Function):
    """Negative log-likelihood of log-probabilities x: l_n = -w_{t_n} x_{n, t_n};
    dl_n/dx_k = -w_{t_n} [k = t_n]. 'mean' divides by sum_n w_{t_n} over non-ignored entries."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, axis):
        xp = get_array_module(x)
        valid = _valid_targets("nll_loss", target, ignore_index, x.shape[axis])
        flat = _flat_index(x.shape, target, valid)
        loss = -x.reshape(-1)[flat]
        wt = None
        if weight is not None:
            wt = weight[target if valid is None else xp.where(valid, target, 0)]
            loss *= wt
        if valid is not None:
            loss = xp.where(valid, loss, 0).astype(x.dtype, copy=False)
        ctx.flat, ctx.valid, ctx.wt = flat, valid, wt
        ctx.reduction, ctx.shape, ctx.dtype = reduction, x.shape, x.dtype
        ctx.count = _mean_count(x.dtype, target, wt, valid) if reduction == "mean" else None
        ctx.empty = _is_zero(ctx.count)
        if ctx.empty:
            return xp.full((), np.nan, x.dtype)
        return _reduce(loss, reduction, ctx.count)

    @staticmethod
    def backward(ctx, grad):
        g = get_array_module(grad).zeros(ctx.shape, ctx.dtype)
        if ctx.empty:
            return g, None
        up = -_upstream(grad, ctx.reduction, ctx.count)
        if ctx.wt is not None:
            up = up * ctx.wt
        if ctx.valid is not None:
            up = up * ctx.valid
        g.reshape(-1)[ctx.flat] = up
        return g, None


# ----------------------------------------------------------------- public functions
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (N, C), (N, C, d1, ...) or (C,) against ``target``:
    class indices of shape (N,), (N, d1, ...) or (), or class probabilities of the input's shape.

    loss(x, class) = -log(exp(x[class]) / sum_j exp(x[j])) = -x[class] + log sum_j exp(x[j]),
    computed with the log-sum-exp trick in one fused operation.

    >>> lm.ops.cross_entropy(lm.tensor([[2.0, 0.0, -1.0]]), lm.tensor([0]))
    tensor(0.1698)
    """
    name = "cross_entropy"
    reduction = _reduction(name, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise LaminaValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = as_tensor(input)
    if isinstance(target, Tensor) and target.dtype.kind == "f" and target.shape == x.shape and x.ndim:
        axis = 1 if x.ndim >= 2 else 0
        w = None
        if weight is not None:
            w = _param_array(name, weight, x)
            if w.shape != (x.shape[axis],):
                raise ShapeError(f"{name}: weight must have one entry per class, shape "
                                 f"({x.shape[axis]},), got {w.shape}")
        y = target if target.dtype == x.dtype else Tensor._wrap(target._data.astype(x.dtype))
        return CrossEntropyProb.apply(x, y, weight=w, reduction=reduction,
                                      label_smoothing=label_smoothing, axis=axis)
    axis, t, w = _index_target(name, x, target, ignore_index, weight, probs_ok=True)
    return CrossEntropy.apply(x, t, weight=w, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=label_smoothing, axis=axis)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood loss(x, class) = -x[class] of log-probabilities ``input``
    (use it after ``log_softmax``; ``cross_entropy`` does both at once)."""
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    x = as_tensor(input)
    axis, t, w = _index_target("nll_loss", x, target, ignore_index, weight, probs_ok=False)
    return NLL.apply(x, t, weight=w, ignore_index=ignore_index, reduction=reduction, axis=axis)


class OneHot(Function):
    """e_t: the one-hot encoding of class indices t (piecewise constant: no gradient)."""

    @staticmethod
    def forward(ctx, t, num_classes):
        xp = get_array_module(t)
        if t.size and t.min() < 0:
            raise LaminaValueError(f"one_hot: class index {int(t.min())} is negative")
        if num_classes == -1:
            if not t.size:
                raise LaminaValueError("one_hot: cannot infer num_classes from an empty tensor")
            num_classes = int(t.max()) + 1
        elif t.size and t.max() >= num_classes:
            raise LaminaValueError(f"one_hot: class index {int(t.max())} is out of range for "
                                   f"num_classes={num_classes}")
        return (t[..., None] == xp.arange(num_classes)).astype(int64)

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - integer input never requires grad
        return None


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding: shape ``tensor.shape + (num_classes,)``, int64, 1 at each index
    (``num_classes=-1``: one more than the largest index). No gradient."""
    t = tensor if isinstance(tensor, Tensor) else Tensor._wrap(as_array(tensor))
    if t.dtype.kind not in "iu":
        raise LaminaTypeError(f"one_hot needs an integer tensor of class indices, got {t.dtype}")
    return OneHot.apply(t, num_classes=num_classes)

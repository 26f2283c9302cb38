"""Margin losses with PyTorch's ``F`` signatures (multi_margin_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_margin_loss, margin_ranking_loss); the epsilon-smoothed
structured hinge of Schwing & Telgarsky, "Deep Neural Networks", is in
:mod:`lamina.ops.structured_hinge` and can be imported from here too.

A margin loss charges a score only when it fails to beat a competitor by a margin:
[z]_+ = max(0, z) of a margin violation z. Each loss is one Function following the
conventions of :mod:`lamina.ops._loss_reduction` (reduction 'none' | 'mean' | 'sum', PyTorch's legacy
``size_average``/``reduce``, targets never broadcast silently). Where [z]_+ has a kink the
subgradient is PyTorch's: the multi-class losses count a violation only when z > 0, while
hinge_embedding_loss and margin_ranking_loss (clamp_min in PyTorch) count z >= 0.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError, ShapeError
from ._margin_checks import _check_range, _class_scores, _index_tensor, _reduced, _rowwise_up
from ._util import as_tensor, operands
from ._loss_reduction import _pair, _param_array, _reduction, _upstream
# The lecture's loss, importable from here as before (nn.losses and nn.functional do).
from .structured_hinge import smooth_structured_hinge_loss  # noqa: F401  (listed in this family)

__all__ = ["multi_margin_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_margin_loss", "margin_ranking_loss", "smooth_structured_hinge_loss"]


# ----------------------------------------------------------------- multi-class margins
class MultiMargin(Function):
    """Multi-class hinge of Weston & Watkins: with z_i = margin - x_y + x_i for i != y,
      l = sum_{i != y} w_y [z_i]_+^p / C,
      dl/dx_i = w_y p [z_i]_+^(p-1) 1[z_i > 0] / C (i != y),  dl/dx_y = -sum_{i != y} dl/dx_i.
    (PyTorch multiplies by the class weight after the power.)"""

    @staticmethod
    def forward(ctx, x, target, p, margin, weight, reduction):
        xp = get_array_module(x)
        n_classes = x.shape[-1] if x.ndim else 1
        x2 = x.reshape(-1, n_classes)
        t = target.reshape(-1)
        _check_range("multi_margin_loss", t, 0, n_classes)
        rows = xp.arange(x2.shape[0])
        z = x2 - x2[rows, t][:, None]
        z += x.dtype.type(margin)
        z[rows, t] = 0                              # i = y is not a competitor
        active = z > 0
        h = z * active
        per = (h * h if p == 2 else h).sum(axis=1)
        scale = x.dtype.type(1 / n_classes) if weight is None else weight[t] / n_classes
        per *= scale
        ctx.save(h if p == 2 else active)
        ctx.rows, ctx.t, ctx.p, ctx.scale, ctx.reduction = rows, t, p, scale, reduction
        ctx.shape = x.shape
        return _reduced(per.reshape(target.shape) if reduction == "none" else per, reduction)

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved
        up = _rowwise_up(grad, ctx.reduction, s.shape[0])
        scale = ctx.scale[:, None] if getattr(ctx.scale, "ndim", 0) else ctx.scale
        d = (2 * s if ctx.p == 2 else s.astype(grad.dtype)) * (scale * up)
        d[ctx.rows, ctx.t] = -d.sum(axis=1)
        return d.reshape(ctx.shape), None


class MultiLabelMargin(Function):
    """For each target class j (the entries of the target row before the first -1) and each
    non-target class i, z_ji = 1 - (x_j - x_i):  l = sum_j sum_i [z_ji]_+ / C;
    dl/dx_i = #{j : z_ji > 0} / C,  dl/dx_j = -#{i : z_ji > 0} / C (a repeated target counts
    once per repeat, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, target, reduction):
        xp = get_array_module(x)
        n_classes = x.shape[-1] if x.ndim else 1
        x2 = x.reshape(-1, n_classes)
        t2 = target.reshape(-1, n_classes)
        _check_range("multilabel_margin_loss", t2, -1, n_classes)
        valid = xp.cumprod(t2 != -1, axis=1).astype(bool)     # entries before the first -1
        classes = xp.arange(n_classes)
        onehot = (t2[:, :, None] == classes) & valid[:, :, None]   # (N, j, class)
        is_target = onehot.any(axis=1)
        picked = xp.take_along_axis(x2, xp.where(valid, t2, 0), axis=1)
        z = (1 - picked)[:, :, None] + x2[:, None, :]             # (N, j, i)
        active = (z > 0) & valid[:, :, None] & ~is_target[:, None, :]
        per = (z * active).sum(axis=(1, 2)) / x.dtype.type(n_classes)
        ctx.save(active, onehot)
        ctx.reduction, ctx.shape = reduction, x.shape
        return _reduced(per.reshape(x.shape[:-1]) if reduction == "none" else per, reduction)

    @staticmethod
    def backward(ctx, grad):
        active, onehot = ctx.saved
        xp = get_array_module(active)
        n, n_classes = active.shape[0], active.shape[2]
        up = _rowwise_up(grad, ctx.reduction, n) / n_classes
        counts = active.sum(axis=2).astype(grad.dtype)            # violations per target j
        d = active.sum(axis=1) - xp.einsum("nj,njc->nc", counts, onehot.astype(grad.dtype))
        return (d * up).astype(grad.dtype, copy=False).reshape(ctx.shape), None


# ----------------------------------------------------------------- elementwise margins
class HingeEmbedding(Function):
    """l = x where y = 1, [margin - x]_+ where y = -1 (both terms for any other y);
    dl/dx = 1[y != -1] - 1[y != 1] 1[margin - x >= 0]. The target gets no gradient."""

    @staticmethod
    def forward(ctx, x, y, margin, reduction):
        xp = get_array_module(x)
        gap = x.dtype.type(margin) - x
        hinge = (y != 1) & (gap >= 0)
        keep = y != -1
        ctx.save(hinge, keep)
        ctx.reduction = reduction
        return _reduced(xp.where(hinge, gap, 0) + xp.where(keep, x, 0), reduction)

    @staticmethod
    def backward(ctx, grad):
        hinge, keep = ctx.saved
        up = _upstream(grad, ctx.reduction, hinge.size)
        return (keep.astype(grad.dtype) - hinge) * up, None


class SoftMargin(Function):
    """Logistic loss of the margin y x:  l = ln(1 + e^(-y x)) (evaluated without overflow);
    dl/dx = -y sigma(-y x). The target gets no gradient."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        xp = get_array_module(x)
        m = y * x
        ctx.save(x, y)
        ctx.reduction = reduction
        return _reduced(xp.logaddexp(x.dtype.type(0), -m), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        xp = get_array_module(x)
        m = y * x
        e = xp.exp(-xp.abs(m))                       # sigma(-m) without overflow
        s = xp.where(m >= 0, e, 1) / (1 + e)
        return -(y * s) * _upstream(grad, ctx.reduction, x.size), None


class MarginRanking(Function):
    """l = [-y (x1 - x2) + margin]_+ (y = 1: x1 should rank higher);  with the violation
    active where -y (x1 - x2) + margin >= 0: dl/dx1 = -y, dl/dx2 = y, dl/dy = -(x1 - x2)."""

    @staticmethod
    def forward(ctx, x1, x2, y, margin, reduction):
        xp = get_array_module(x1)
        diff = x1 - x2
        v = x1.dtype.type(margin) - y * diff
        active = v >= 0
        ctx.save(diff, y, active)
        ctx.reduction = reduction
        return _reduced(xp.where(active, v, 0), reduction)

    @staticmethod
    def backward(ctx, grad):
        diff, y, active = ctx.saved
        up = active * _upstream(grad, ctx.reduction, diff.size)
        need1, need2, need_y = ctx.needs_input_grad
        g1 = -(y * up) if need1 or need2 else None
        return (g1 if need1 else None), (-g1 if need2 else None), (-(diff * up) if need_y else None)


# ----------------------------------------------------------------- public functions
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class margin (hinge) loss of scores x (N, C) or (C,) and class indices y:
    loss(x, y) = sum_{i != y} max(0, margin - x[y] + x[i])^p / C, times weight[y] if given.

    >>> F.multi_margin_loss(lm.tensor([[0.1, 0.2, 0.4, 0.8]]), lm.tensor([3]))
    tensor(0.3250)
    """
    name = "multi_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    if p not in (1, 2) or isinstance(p, bool):
        raise LaminaValueError(f"{name}: p must be 1 or 2, got {p!r}")
    x = as_tensor(input)
    t, n_classes = _class_scores(name, x, target, allow_0d=True)
    w = None
    if weight is not None:
        w = _param_array(name, weight, x)
        if w.shape != (n_classes,):
            raise ShapeError(f"{name}: weight must have one entry per class, shape "
                             f"({n_classes},), got {w.shape}")
    return MultiMargin.apply(x, t, p=int(p), margin=float(margin), weight=w, reduction=reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss of scores x (N, C) or (C,); ``target`` (same shape) lists the
    target classes of each sample, padded with -1 (the entries after the first -1 are ignored):
    loss(x, y) = sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[j] - x[i])) / C.

    >>> F.multilabel_margin_loss(lm.tensor([[0.1, 0.2, 0.4, 0.8]]), lm.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    name = "multilabel_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    x = as_tensor(input)
    t = _index_tensor(name, target, x)
    if x.ndim > 2:
        raise ShapeError(f"{name}: input must be (C,) or (N, C), got shape {tuple(x.shape)}")
    if tuple(t.shape) != tuple(x.shape):
        raise ShapeError(f"{name}: target must have the input's shape {tuple(x.shape)} (class "
                         f"indices padded with -1), got {tuple(t.shape)}")
    return MultiLabelMargin.apply(x, t, reduction=reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """l_n = x_n if y_n = 1, max(0, margin - x_n) if y_n = -1: for distances x_n between
    pairs that should be similar (y = 1) or at least ``margin`` apart (y = -1)."""
    name = "hinge_embedding_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    x, y = _pair(name, input, target)
    return HingeEmbedding.apply(x, y, margin=float(margin), reduction=reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss l_n = ln(1 + exp(-y_n x_n)) for labels y_n in {-1, 1}
    (computed without overflow; PyTorch's value overflows to inf for y x below about -88 in
    float32)."""
    name = "soft_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    x, y = _pair(name, input, target)
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        raise LaminaValueError(f"{name} is not differentiable with respect to its target; "
                               "pass target.detach()")
    return SoftMargin.apply(x, y, reduction=reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """l_n = max(0, -y_n (x1_n - x2_n) + margin): y = 1 says x1 should rank above x2 by
    ``margin``, y = -1 the reverse. The three tensors must have one shape."""
    name = "margin_ranking_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    x1 = as_tensor(input1)
    x1, x2 = operands(x1, as_tensor(input2, x1))
    target_shape = target.shape if hasattr(target, "shape") else np.shape(target)  # np: a list's
    shapes = [tuple(x1.shape), tuple(x2.shape), tuple(target_shape)]
    if len(set(shapes)) != 1:
        raise ShapeError(f"{name}: input1, input2 and target must have one shape (lamina does "
                         f"not broadcast them), got {shapes[0]}, {shapes[1]} and {shapes[2]}")
    _, y = _pair(name, x1, target)
    return MarginRanking.apply(x1, x2, y, margin=float(margin), reduction=reduction)

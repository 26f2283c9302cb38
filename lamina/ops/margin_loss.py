"""Margin losses with PyTorch's ``F`` signatures (multi_margin_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_margin_loss, margin_ranking_loss) and the epsilon-smoothed
structured hinge of Schwing & Telgarsky, "Deep Neural Networks".

A margin loss charges a score only when it fails to beat a competitor by a margin:
[z]_+ = max(0, z) of a margin violation z. Each loss is one Function following the
conventions of :mod:`lamina.ops.loss` (reduction 'none' | 'mean' | 'sum', PyTorch's legacy
``size_average``/``reduce``, targets never broadcast silently). Where [z]_+ has a kink the
subgradient is PyTorch's: the multi-class losses count a violation only when z > 0, while
hinge_embedding_loss and margin_ranking_loss (clamp_min in PyTorch) count z >= 0.

The lecture's framework (recap of "our earlier framework", with a deep net's score F):

    min_w  C/2 ||w||^2 + sum_i ( eps ln sum_yhat exp((L(y_i, yhat) + F(w, x_i, yhat)) / eps)
                                 - F(w, x_i, y_i) )

is :func:`smooth_structured_hinge_loss` (the data term; add the regulariser yourself).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import as_array, get_array_module, on_device_of
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ._util import as_tensor, operands
from .loss import _pair, _param_array, _reduce, _reduction, _upstream

__all__ = ["multi_margin_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_margin_loss", "margin_ranking_loss", "smooth_structured_hinge_loss"]


# ----------------------------------------------------------------- shared checks
def _index_tensor(name: str, target, like: Tensor, what: str = "target") -> Tensor:
    """``target`` as an integer Tensor (a list or array is put on the device of ``like``)."""
    if isinstance(target, Tensor):
        t = target
    else:
        t = Tensor._wrap(on_device_of(as_array(target), like._data))
    if t.dtype.kind not in "iu":
        raise LaminaTypeError(f"{name}: {what} must hold integer class indices (target.long()), "
                              f"got dtype {t.dtype}")
    return t


def _class_scores(name: str, x: Tensor, target, allow_0d: bool) -> tuple[Tensor, int]:
    """Check a (N, C) / (C,) input against a class-index target of shape (N,) / () or (1,);
    return the target tensor and C."""
    if x.ndim > 2 or (x.ndim == 0 and not allow_0d):
        raise ShapeError(f"{name}: input must be (C,) or (N, C), got shape {tuple(x.shape)}")
    t = _index_tensor(name, target, x)
    n = x.shape[0] if x.ndim == 2 else 1
    allowed = [(n,)] if x.ndim == 2 else [(), (1,)]
    if tuple(t.shape) not in allowed:
        raise ShapeError(f"{name}: input of shape {tuple(x.shape)} needs a target of shape "
                         f"{' or '.join(map(str, allowed))} (one class index per sample), got "
                         f"{tuple(t.shape)}")
    return t, (x.shape[-1] if x.ndim else 1)


def _check_range(name: str, t, lo: int, n_classes: int) -> None:
    """Runs inside forward, so every batch is checked (replayed ones included); one
    synchronisation on a device."""
    if t.size and ((t.min() < lo) | (t.max() >= n_classes)):
        bad = t[(t < lo) | (t >= n_classes)].reshape(-1)[0]
        raise LaminaValueError(f"{name}: target index {int(bad)} is out of range for {n_classes} "
                               f"classes (expected {lo} <= index < {n_classes})")


def _reduced(per, reduction: str):
    """_reduce without NumPy's warning for the mean of an empty batch (NaN, as 0/0)."""
    with np.errstate(invalid="ignore", divide="ignore"):    # host-side warning control
        return _reduce(per, reduction)


def _rowwise_up(grad, reduction: str, n: int):
    """The upstream gradient per sample as an (n, 1) column (or a 0-d scalar)."""
    up = _upstream(grad, reduction, n)
    return up.reshape(n, 1) if reduction == "none" else up


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


# ----------------------------------------------------------------- the lecture's loss
class SmoothStructuredHinge(Function):
    """With a_c = L(y, c) + F_c:  l = eps ln sum_c exp(a_c / eps) - F_y, evaluated as
    max_c a_c + eps ln sum_c exp((a_c - max a) / eps) - F_y (the log-sum-exp trick);
    dl/dF_c = softmax(a / eps)_c - 1[c = y]. At eps = 0, l = max_c a_c - F_y and the gradient
    is onehot(c*) - onehot(y) for the maximiser c*, taken to be y on a tie with y (so a margin
    met exactly costs nothing and gives no gradient, as in max(0, z) at z = 0)."""

    @staticmethod
    def forward(ctx, x, target, task, epsilon, reduction):
        xp = get_array_module(x)
        n_classes = x.shape[-1]
        x2 = x.reshape(-1, n_classes)
        t = target.reshape(-1)
        _check_range("smooth_structured_hinge_loss", t, 0, n_classes)
        rows = xp.arange(x2.shape[0])
        a = x2 + _task_matrix(task, target, t, x2.shape, x.dtype, xp)
        picked, top = x2[rows, t], a.max(axis=1, keepdims=True)
        if epsilon > 0:
            p = xp.exp((a - top) / x.dtype.type(epsilon))
            s = p.sum(axis=1, keepdims=True)
            p /= s
            per = top[:, 0] + x.dtype.type(epsilon) * xp.log(s[:, 0]) - picked
        else:
            best = xp.where(a[rows, t] >= top[:, 0], t, a.argmax(axis=1))
            p = (xp.arange(n_classes) == best[:, None]).astype(x.dtype)
            per = top[:, 0] - picked
        ctx.save(p)
        ctx.rows, ctx.t, ctx.reduction, ctx.shape = rows, t, reduction, x.shape
        return _reduced(per.reshape(target.shape) if reduction == "none" else per, reduction)

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved
        d = p.copy()
        d[ctx.rows, ctx.t] -= 1
        d *= _rowwise_up(grad, ctx.reduction, p.shape[0])
        return d.reshape(ctx.shape), None


def _task_matrix(task, target, t, shape, dtype, xp):
    """L(y_n, c) for every sample n and class c, as an (N, C) array (or 0 for "zero")."""
    kind, value = task
    if kind == "zero":
        return dtype.type(0)
    if kind == "zero_one":
        return (xp.arange(shape[1]) != t[:, None]).astype(dtype)
    if kind == "matrix":
        return value[t]
    out = value(Tensor._wrap(target))
    out = xp.asarray(out._data if isinstance(out, Tensor) else out, dtype=dtype)
    if out.shape != tuple(shape) and not (len(shape) == 2 and out.shape == shape[1:]):
        raise ShapeError(f"smooth_structured_hinge_loss: task_loss(target) must return an array "
                         f"of shape {tuple(shape)} (L(y_n, c) per sample and class), got "
                         f"{out.shape}")
    return out.reshape(shape)


def _task_spec(task_loss, x: Tensor, n_classes: int) -> tuple:
    name = "smooth_structured_hinge_loss"
    if isinstance(task_loss, str):
        if task_loss not in ("zero_one", "zero"):
            raise LaminaValueError(f"{name}: task_loss must be 'zero_one', 'zero', a (C, C) "
                                   f"array or a callable, got {task_loss!r}")
        return task_loss, None
    if callable(task_loss) and not isinstance(task_loss, (Tensor, np.ndarray)):
        return "callable", task_loss
    if not isinstance(task_loss, Tensor):
        try:
            task_loss = as_array(task_loss, dtype=x.dtype)
        except (TypeError, ValueError):
            raise LaminaTypeError(f"{name}: task_loss must be 'zero_one', 'zero', a (C, C) array "
                                  f"or a callable, got {type(task_loss).__name__}") from None
    m = _param_array(name, task_loss, x)      # a constant, on the input's device
    if m.shape != (n_classes, n_classes):
        raise ShapeError(f"{name}: a task-loss matrix L[y, yhat] must have shape "
                         f"({n_classes}, {n_classes}) for {n_classes} classes, got {m.shape}")
    return "matrix", m


def check_epsilon(name: str, epsilon) -> None:
    """Raise unless ``epsilon`` is a finite real number >= 0 (0 is the exact hinge)."""
    if (not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool)
            or not math.isfinite(epsilon) or epsilon < 0):
        raise LaminaValueError(f"{name}: epsilon must be a finite number >= 0 (the smoothing "
                               f"temperature; 0 is the exact hinge), got {epsilon!r}")


def smooth_structured_hinge_loss(input: Tensor, target: Tensor, task_loss="zero_one",
                                 epsilon: float = 1.0, reduction: str = "mean") -> Tensor:
    """The epsilon-smoothed structured hinge of Schwing & Telgarsky, "Deep Neural Networks":
    for scores F = input (N, C) or (C,) and class indices y = target (N,) or (),

        loss_i = eps ln sum_yhat exp((L(y_i, yhat) + F_i,yhat) / eps) - F_i,y_i,

    the data term of the lecture's framework min_w C/2 ||w||^2 + sum_i loss_i (the regulariser
    is added by the caller, e.g. as weight decay). ``task_loss`` is L: "zero_one" (1 for
    yhat != y, 0 on the diagonal), "zero" (L = 0), a (C, C) array or Tensor L[y, yhat]
    (treated as a constant), or a callable target -> (N, C) array of L(y_n, yhat).

    Limits: eps ln sum exp(a / eps) decreases to max a as eps -> 0, with
    0 <= loss(eps) - loss(0) <= eps ln C. So
      - eps = 1 with task_loss "zero" is the cross-entropy ln sum exp F - F_y, i.e. multiclass
        logistic regression when F is one linear layer;
      - eps = 0 (computed exactly, not as a limit) with "zero_one" is the structured /
        Crammer-Singer multiclass hinge max_yhat (1[yhat != y] + F_yhat) - F_y = max(0, 1 +
        max_{yhat != y} F_yhat - F_y), the multiclass SVM; for C = 2 it is the binary hinge
        max(0, 1 - y f) on the score difference f = F_1 - F_0 with y in {-1, 1}.
    The gradient is softmax((L + F) / eps) - onehot(y) (eps > 0), onehot(argmax(L + F)) -
    onehot(y) at eps = 0.

    >>> F.smooth_structured_hinge_loss(lm.tensor([[2.0, 0.0, -1.0]]), lm.tensor([0]), "zero")
    tensor(0.1698)
    """
    name = "smooth_structured_hinge_loss"
    reduction = _reduction(name, reduction)
    check_epsilon(name, epsilon)
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise LaminaTypeError(f"{name}: input scores must be floating point, got {x.dtype}")
    t, n_classes = _class_scores(name, x, target, allow_0d=False)
    task = _task_spec(task_loss, x, n_classes)
    return SmoothStructuredHinge.apply(x, t, task=task, epsilon=float(epsilon),
                                       reduction=reduction)

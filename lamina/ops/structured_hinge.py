"""The epsilon-smoothed structured hinge of Schwing & Telgarsky, "Deep Neural Networks", with
the conventions of the margin losses (:mod:`lamina.ops.margin_loss`; reduction 'none' | 'mean'
| 'sum', a target never broadcast silently).

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
from ..autograd.tensor import Tensor
from ..backend import as_array, get_array_module
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ._margin_checks import _check_range, _class_scores, _reduced, _rowwise_up
from ._util import as_tensor
from ._loss_reduction import _param_array, _reduction

__all__ = ["smooth_structured_hinge_loss"]


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

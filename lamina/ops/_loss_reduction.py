"""What every loss family shares: the reduction of per-element losses l_n ('none': l itself,
'sum': sum_n l_n, 'mean': sum_n l_n / n), the matching scale of the upstream gradient, the
legacy ``size_average``/``reduce`` arguments, and the checks of input, target and weights
(equal shapes: a target is never broadcast silently).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import as_array, get_array_module, on_device_of, same_device
from ..errors import LaminaValueError, ShapeError
from ._util import as_tensor


def _reduce(loss, reduction: str, count=None):
    """'none' -> loss, 'sum' -> sum, 'mean' -> sum / count (default: number of elements)."""
    if reduction == "none":
        return loss
    if get_array_module(loss) is np:
        total = np.add.reduce(loss, axis=None)  # np.sum without its Python-level dispatch
    else:
        total = loss.sum()                      # a device array: a 0-d array on its device
    if reduction == "sum":
        return total
    return total / (loss.size if count is None else count)


def _upstream(grad, reduction: str, count):
    """The upstream gradient as it reaches every element of the unreduced loss."""
    return grad / count if reduction == "mean" else grad


def _both(ctx, g):
    """(dL/dinput, dL/dtarget) for losses of the form l(input - target)."""
    need_x, need_y = ctx.needs_input_grad
    return (g if need_x else None), (-g if need_y else None)


def _reduction(name: str, reduction: str, size_average=None, reduce=None, batchmean=False) -> str:
    """Validate ``reduction``; PyTorch's deprecated ``size_average``/``reduce`` pair wins if given."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    allowed = ("none", "mean", "sum", "batchmean") if batchmean else ("none", "mean", "sum")
    if reduction not in allowed:
        raise LaminaValueError(f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, "
                               f"got {reduction!r}")
    return reduction


def _pair(name: str, input, target) -> tuple[Tensor, Tensor]:
    """Input and target as float tensors of the same shape (ShapeError names both shapes)."""
    x = as_tensor(input)
    y = as_tensor(target, x)
    if x.shape != y.shape:
        raise ShapeError(f"{name}: input shape {tuple(x.shape)} and target shape {tuple(y.shape)} "
                         "must be equal (lamina does not broadcast targets; reshape one of them, "
                         "e.g. output.squeeze(1) or target.unsqueeze(1))")
    if y.dtype != x.dtype and x.dtype.kind == "f":
        y = Tensor._wrap(y._data.astype(x.dtype))
    return x, y


def _param_array(name: str, value, x: Tensor):
    """A constant argument of a loss (class weights, pos_weight, a cost matrix) as an array of
    the input's dtype on the input's device. A Tensor must already be on that device (as in
    PyTorch); a list or NumPy array is copied there."""
    data = x._data
    if isinstance(value, Tensor):
        value = value._data
        same_device([data, value], name)
    else:
        value = on_device_of(as_array(value), data)
    return get_array_module(data).asarray(value, dtype=x.dtype)


def _raw_weight(name: str, weight, x: Tensor, what: str = "weight"):
    """A weight tensor as an array of the input's dtype that broadcasts to the input's shape."""
    if weight is None:
        return None
    w = _param_array(name, weight, x)
    try:
        fits = np.broadcast_shapes(w.shape, x.shape) == tuple(x.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: {what} of shape {w.shape} does not broadcast to the input "
                         f"shape {tuple(x.shape)}")
    return w



# ----------------------------------------------------------------- regression losses

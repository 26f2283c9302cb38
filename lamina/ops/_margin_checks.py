"""Checks and helpers shared by the margin losses (:mod:`lamina.ops.margin_loss`) and the
lecture's structured hinge (:mod:`lamina.ops.structured_hinge`): class-index targets (integer,
on the input's device, one per sample, each in range), per-sample losses reduced without
warnings, and the upstream gradient dL/dl_n given back per sample.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import as_array, on_device_of
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ._loss_reduction import _reduce, _upstream


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

"""Extremum reductions: amax/amin, max/min (with indices) and argmax/argmin.

They follow the conventions of :mod:`lamina.ops.reduction` (``dim`` None, an int, or a
tuple/list of ints; the backward restores the reduced axes of dL/dy, then spreads it) and use
its helpers. The gradient of an extremum reaches only the entries that attain it; argmax and
argmin return integer indices and have no gradient.
"""
from __future__ import annotations

import collections

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, int64
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError
from . import selection
from ._util import normalize_dim
from .reduction import _axes, _check_nonempty, _restore, _squeezed

__all__ = ["amax", "amin", "max", "min", "argmax", "argmin"]

# torch.return_types.max / .min: a tuple that also has .values and .indices.
max_return = collections.namedtuple("max", ["values", "indices"])
min_return = collections.namedtuple("min", ["values", "indices"])


# --------------------------------------------------------------------------- amax, amin, max, min
class Extremum(Function):
    """y = max (or min) over dim;  dy/dx_i = 1/k for the k entries equal to y, 0 elsewhere
    (the gradient is split evenly among ties, as PyTorch's amax/amin)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        xp = get_array_module(x)
        y = (xp.max if largest else xp.min)(x, axis=axes, keepdims=True)
        if ctx.needs_input_grad:
            mask = x == y
            ctx.save(mask, xp.sum(mask, axis=axes, keepdims=True, dtype=x.dtype))
            ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return y if keepdim else y.reshape(_squeezed(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        mask, ties = ctx.saved
        return mask * (_restore(grad, ctx.shape, ctx.axes, ctx.keepdim) / ties)


class SelectAlong(Function):
    """y = x at one chosen index along ``dim`` (the arg-max of max(dim));
    dy/dx = 1 at the chosen entry only, so ties do not share the gradient."""

    @staticmethod
    def forward(ctx, x, index, axis, keepdim):
        ctx.shape, ctx.index, ctx.axis, ctx.keepdim = x.shape, index, axis, keepdim
        xp = get_array_module(x)
        y = xp.take_along_axis(x, index, axis=axis)
        return y if keepdim else xp.squeeze(y, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        g = grad if ctx.keepdim else xp.expand_dims(grad, ctx.axis)
        gx = xp.zeros(ctx.shape, dtype=grad.dtype)
        xp.put_along_axis(gx, ctx.index, g, axis=ctx.axis)
        return gx


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Largest entry over ``dim``; ties share the gradient evenly."""
    axes = _axes(dim, x.ndim)
    _check_nonempty(x, axes, "amax")
    return Extremum.apply(x, axes=axes, keepdim=keepdim, largest=True)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest entry over ``dim``; ties share the gradient evenly."""
    axes = _axes(dim, x.ndim)
    _check_nonempty(x, axes, "amin")
    return Extremum.apply(x, axes=axes, keepdim=keepdim, largest=False)


def _extremum_with_index(x: Tensor, dim, keepdim: bool, largest: bool, result):
    name = "max" if largest else "min"
    if isinstance(dim, (tuple, list)):
        raise LaminaTypeError(f"{name}() takes one int dim, got {dim!r}; use a{name} to reduce "
                              "several")
    axis = normalize_dim(dim, x.ndim)
    xp = get_array_module(x._data)
    if x.ndim == 0:  # the only entry is the extremum, at index 0
        return result(amax(x) if largest else amin(x), Tensor._wrap(xp.zeros((), int64)))
    _check_nonempty(x, (axis,), name)
    index = (xp.argmax if largest else xp.argmin)(x._data, axis=axis, keepdims=True)
    index = index.astype(int64, copy=False)
    values = SelectAlong.apply(x, index=index, axis=axis, keepdim=keepdim)
    return result(values, Tensor._wrap(index if keepdim else xp.squeeze(index, axis=axis)))


def _is_array(value) -> bool:
    """Whether ``max``/``min``'s second argument is a tensor or an array (host or device),
    which asks for the elementwise extremum, rather than a dim."""
    return isinstance(value, (Tensor, np.ndarray)) or get_array_module(value) is not np


def max(x: Tensor, dim=None, keepdim: bool = False) -> Tensor | tuple:
    """The largest entry (0-d tensor; ties share the gradient), or with an int ``dim`` the
    pair ``(values, indices)`` whose gradient goes only to the returned index, or with a
    tensor as second argument the elementwise maximum (all as ``torch.max``)."""
    if _is_array(dim):
        return selection.maximum(x, dim)
    if dim is None:
        return amax(x)
    return _extremum_with_index(x, dim, keepdim, True, max_return)


def min(x: Tensor, dim=None, keepdim: bool = False) -> Tensor | tuple:
    """The smallest entry, ``(values, indices)`` along an int ``dim``, or the elementwise
    minimum with a tensor (see :func:`max`)."""
    if _is_array(dim):
        return selection.minimum(x, dim)
    if dim is None:
        return amin(x)
    return _extremum_with_index(x, dim, keepdim, False, min_return)


def _arg(x: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    xp = get_array_module(x._data)
    find = xp.argmax if largest else xp.argmin
    if dim is None:
        if x._data.size == 0:
            raise LaminaValueError(f"arg{'max' if largest else 'min'}() of an empty tensor")
        index = xp.asarray(find(x._data), dtype=int64)
        return Tensor._wrap(index.reshape((1,) * x.ndim) if keepdim else index)
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._wrap(xp.zeros((), int64))
    return Tensor._wrap(xp.asarray(find(x._data, axis=axis, keepdims=keepdim), dtype=int64))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest entry (flat index when ``dim`` is None; the first among ties)."""
    return _arg(x, dim, keepdim, True)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest entry (flat index when ``dim`` is None; the first among ties)."""
    return _arg(x, dim, keepdim, False)

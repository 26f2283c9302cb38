"""Padding (``F.pad``): a tensor surrounded by a constant, or by borders copied from itself
('reflect', 'replicate', 'circular').

Padding changes no value, it only places entries: y = P x with P a 0/1 matrix. A constant
border adds entries that depend on no input (negative widths crop instead); a copying mode
sends some entries of x to several places of y. So dL/dx = P^T dL/dy: the centre of dL/dy
(the entries that came from x as they are), plus, for the copying modes, each border's
gradient added back onto the entries it copies. Every array is made by the module that
holds the input (``xp = get_array_module(x)``: NumPy on the CPU, CuPy on a CUDA device).
"""
from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError, ShapeError
from ._views import _owned, _sizes, _slice_at

__all__ = ["pad"]

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class PadConstant(Function):
    """y = x surrounded by ``value`` (negative widths crop);
    dL/dx = dL/dy on x's surviving entries, 0 on cropped ones."""

    @staticmethod
    def forward(ctx, x, widths, value):
        src = tuple(slice(max(-l, 0), n - max(-r, 0)) for n, (l, r) in zip(x.shape, widths))
        dst = tuple(slice(max(l, 0), max(l, 0) + s.stop - s.start)
                    for s, (l, _) in zip(src, widths))
        out = get_array_module(x).full(tuple(n + l + r for n, (l, r) in zip(x.shape, widths)),
                                       value, dtype=x.dtype)
        out[dst] = x[src]
        ctx.shape, ctx.src, ctx.dst = x.shape, src, dst
        ctx.crops = any(l < 0 or r < 0 for l, r in widths)
        return out

    @staticmethod
    def backward(ctx, grad):
        if not ctx.crops:
            return _owned(ctx, 0, grad[ctx.dst])
        gx = get_array_module(grad).zeros(ctx.shape, dtype=grad.dtype)
        gx[ctx.src] = grad[ctx.dst]
        return gx


class PadCopy(Function):
    """y = x with borders copied from x itself: mirrored without the edge ('reflect'), the edge
    repeated ('replicate'), or wrapped around ('circular');  dL/dx = dL/dy on the centre
    plus each border's gradient added back onto the entries it copies."""

    @staticmethod
    def forward(ctx, x, widths, mode):
        ctx.widths, ctx.mode, ctx.shape = widths, mode, x.shape
        return get_array_module(x).pad(x, widths, mode=_NUMPY_MODE[mode])

    @staticmethod
    def backward(ctx, grad):
        # The padding is separable (one copy map per axis), so its adjoint folds one axis
        # at a time.
        for axis, (l, r) in enumerate(ctx.widths):
            if l or r:
                grad = _fold(grad, axis, l, r, ctx.shape[axis], ctx.mode)
        return grad


def _fold(g, axis: int, l: int, r: int, n: int, mode: str):
    """The adjoint of padding ``axis`` (length n) by (l, r) in ``mode``."""
    def at(a, b):
        return _slice_at(axis, slice(a, b))

    xp = get_array_module(g)
    out = g[at(l, l + n)].copy()
    left, right = g[at(0, l)], g[at(l + n, l + n + r)]
    if mode == "reflect":        # y[l - 1 - j] = x[1 + j],  y[l + n + k] = x[n - 2 - k]
        out[at(1, l + 1)] += xp.flip(left, axis)
        out[at(n - 1 - r, n - 1)] += xp.flip(right, axis)
    elif mode == "replicate":    # every left border entry copies x[0], every right one x[n-1]
        out[at(0, 1)] += left.sum(axis=axis, keepdims=True)
        out[at(n - 1, n)] += right.sum(axis=axis, keepdims=True)
    else:                        # circular: y[j] = x[n - l + j],  y[l + n + k] = x[k]
        out[at(n - l, n)] += left
        out[at(0, r)] += right
    return out


def pad(x: Tensor, pad, mode: str = "constant", value=0) -> Tensor:
    """Pad x as ``F.pad``: ``pad`` = (left, right) for the last dimension, then (top,
    bottom) for the one before, and so on. Modes: 'constant' (with ``value``; negative
    widths crop; value 0 is the lecture's zero-padding), 'reflect', 'replicate', 'circular'
    (the lecture's periodization).

    >>> lm.ops.pad(lm.tensor([[1., 2., 3.]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = _sizes((pad,), "pad")
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise LaminaValueError(f"pad: {pad} must have an even length of at most 2 * {x.ndim} "
                               f"(two widths per padded dimension of the tensor {x.shape})")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    widths = tuple(widths)
    if mode == "constant":
        if any(n + l + r < 0 for n, (l, r) in zip(x.shape, widths)):
            raise ShapeError(f"pad: widths {pad} crop more than the tensor {x.shape} holds")
        return PadConstant.apply(x, widths=widths, value=value)
    if mode not in _NUMPY_MODE:
        raise LaminaValueError(f"pad: unknown mode {mode!r} (expected 'constant', 'reflect', "
                               "'replicate' or 'circular')")
    for axis, (l, r) in enumerate(widths):
        n = x.shape[axis]
        limit = n - 1 if mode == "reflect" else (n if mode == "circular" else math.inf)
        if l < 0 or r < 0 or ((l or r) and (n == 0 or l > limit or r > limit)):
            raise LaminaValueError(
                f"pad: mode {mode!r} needs widths between 0 and {limit} for dimension {axis} of "
                f"size {n}, got ({l}, {r})")
    return PadCopy.apply(x, widths=widths, mode=mode)

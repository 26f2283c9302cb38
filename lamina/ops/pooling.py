"""Pooling over fixed windows: max_pool2d and avg_pool2d (PyTorch's ``torch.nn.functional``
signatures; NCHW or unbatched CHW input; the adaptive forms are in ``adaptive_pooling``).

In the lecture a pooling operator R acts layer-wise on X in R^{n1 x n2 x S} and returns
R(X) in R^{m1 x m2 x S} with m1 < n1, m2 < n2: each output pixel summarises one window.

* max:  R(X)[i, j] = max over the window of X;  dR/dX is 1 at the window's (first) maximum
  and 0 elsewhere, so the gradient of each window goes to exactly one input; windows that
  overlap (stride < kernel) add their gradients where they share an input.
* average:  R(X)[i, j] = (1/|window|) * sum over the window;  dR/dX = 1/|window| on it.

Windows are visited by kernel offset (i, j): for each offset one strided view selects the
element under that offset in every window of every image, so the loops run over KH*KW
offsets only and each step is a whole-batch NumPy operation. Max pooling remembers, per
output, which offset won (an unsigned 8-bit index for kernels up to 255 elements), not a
float mask. Array functions come from the input's array module (NumPy, or CuPy on a CUDA device); window
geometry is worked out in Python numbers.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from . import _workspace as workspace
from ._im2col import pad_input, positive_pair, window
from ._util import as_tensor

__all__ = ["max_pool2d", "avg_pool2d"]


def _pool_size(op: str, n: int, k: int, s: int, p: int, d: int, ceil_mode: bool, axis: str) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside the
    input or its left padding."""
    extent = d * (k - 1) + 1
    out = (n + 2 * p - extent + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out < 1:
        raise ShapeError(f"{op}: the kernel (effective size {extent} along {axis}) is larger than "
                         f"the padded input (size {n} + 2*{p} = {n + 2 * p} along {axis})")
    return out


def _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated (kernel, stride, dilation, pads, out_hw) of a pooling call on ``x``."""
    kernel = positive_pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else positive_pair(stride, "stride")
    pad = positive_pair(padding, "padding", minimum=0)
    dilation = positive_pair(dilation, "dilation")
    h, w = x.shape[-2:]
    out_hw = []
    pads = []
    for n, k, s, p, d, axis in zip((h, w), kernel, stride, pad, dilation, "HW"):
        extent = d * (k - 1) + 1
        if p > extent // 2:
            raise LaminaValueError(f"{op}: padding should be at most half of the (effective) kernel "
                                   f"size, got padding={p} for kernel size {extent} along {axis}")
        o = _pool_size(op, n, k, s, p, d, bool(ceil_mode), axis)
        out_hw.append(o)
        # ceil_mode windows may run past the right padding: pad as far as the last one reaches
        pads.append((p, max((o - 1) * s + extent - n - p, 0)))
    return kernel, stride, dilation, tuple(pads), tuple(out_hw)


def _offsets(kernel, out_hw, stride, dilation):
    return [window(i, j, out_hw[0], out_hw[1], stride, dilation)
            for i in range(kernel[0]) for j in range(kernel[1])]


def _disjoint(kernel, stride, dilation) -> bool:
    """True when no input element lies in two windows (each gradient can be stored, not added)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def _scatter(ctx, grad, idx=None):
    """dL/dX (unpadded) from dL/dY: kernel offset k sends ``grad`` (max pooling: only where
    offset k won, ``idx == k``) onto the input elements under offset k of every window."""
    # in the input's memory order; np.empty when every element will be written (windows tile)
    xp = get_array_module(grad)
    make = workspace.empty if ctx.covers else workspace.zeros
    order = ctx.memory_order
    inverse = sorted(range(4), key=order.__getitem__)
    gxp = make(tuple([ctx.padded_shape[a] for a in order]), grad.dtype, xp).transpose(inverse)
    if idx is not None:
        hit = workspace.empty_like(idx, np.bool_)
    tmp = None if ctx.disjoint else workspace.empty_like(grad)
    for k, (hs, ws) in enumerate(ctx.offsets):
        view = gxp[:, :, hs, ws]
        # A product with the 0/1 mask instead of a masked copy: several times faster in NumPy
        # (an infinite gradient would leave NaN beside the maximum, where PyTorch leaves 0).
        if idx is not None:
            xp.equal(idx, k, out=hit)
            xp.multiply(grad, hit, out=view if ctx.disjoint else tmp)
        elif ctx.disjoint:
            xp.copyto(view, grad)
        else:
            tmp = grad
        if not ctx.disjoint:
            xp.add(view, tmp, out=view)
    (pt, _), (pl, _) = ctx.pads
    n, c, h, w = ctx.input_shape
    return gxp[:, :, pt:pt + h, pl:pl + w]


def _remember(ctx, padded, x, kernel, stride, dilation, pads, out_hw, offsets, unbatched):
    """What backward needs to rebuild the (padded) input gradient: shapes, windows, layout."""
    ctx.input_shape = x.shape
    ctx.padded_shape = padded.shape
    # axes from the largest stride to the smallest (size-1 axes do not matter)
    ctx.memory_order = sorted(range(4),
                              key=lambda a: -padded.strides[a] if padded.shape[a] > 1 else 0)
    ctx.offsets, ctx.pads, ctx.unbatched = offsets, pads, unbatched
    ctx.disjoint = _disjoint(kernel, stride, dilation)
    ctx.covers = ctx.disjoint and all(d == 1 and s == k and o * k == n for k, s, d, o, n in
                                      zip(kernel, stride, dilation, out_hw, padded.shape[2:]))


class MaxPool2d(Function):
    """y = max over the window of x;  dy/dx = 1 at the first maximum of the window (row-major
    order), 0 elsewhere; overlapping windows accumulate."""

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, pads, out_hw, return_indices, unbatched):
        if unbatched:
            x = x[None]
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        padded = pad_input(x, pads, low)
        offsets = _offsets(kernel, out_hw, stride, dilation)
        views = [padded[:, :, hs, ws] for hs, ws in offsets]
        recording = bool(ctx.needs_input_grad)
        if recording or return_indices:
            out, idx = _max_and_argmax(views)
        else:
            xp = get_array_module(x)
            out = workspace.empty_like(views[0])
            if len(views) == 1:
                xp.copyto(out, views[0])
            else:
                xp.maximum(views[0], views[1], out=out)
            for v in views[2:]:
                xp.maximum(out, v, out=out)     # propagates NaN, as PyTorch
        if recording:
            _remember(ctx, padded, x, kernel, stride, dilation, pads, out_hw, offsets, unbatched)
            ctx.save(idx)
        if not return_indices:
            return out[0] if unbatched else out
        indices = _flat_indices(idx, x.shape, kernel, stride, dilation, pads, out_hw)
        return (out[0], indices[0]) if unbatched else (out, indices)

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (idx,) = ctx.saved
        if ctx.unbatched:
            grad = grad[None]
        gx = _scatter(ctx, grad, idx)
        return gx[0] if ctx.unbatched else gx


def _max_and_argmax(views):
    """Window maxima and, per window, the first kernel offset that holds the maximum.

    Running over the offsets in order, offset k wins where it is strictly greater than all
    before it (so ties keep the first, PyTorch's rule); as k exceeds every earlier index,
    idx = max(idx, k * won) records it with plain ufuncs (no masked assignment).
    """
    xp = get_array_module(views[0])
    if len(views) == 1:
        return xp.copy(views[0], order="K"), xp.zeros_like(views[0], dtype=np.uint8)
    out = xp.maximum(views[0], views[1], out=workspace.empty_like(views[0]))
    won = xp.greater(views[1], views[0], out=workspace.empty_like(views[0], np.bool_))
    idx = won.view(np.uint8) if len(views) <= 256 else won.astype(np.int32)
    won = workspace.empty_like(won)
    tmp = workspace.empty_like(idx)
    for k in range(2, len(views)):
        xp.greater(views[k], out, out=won)
        xp.maximum(out, views[k], out=out)      # propagates NaN, as PyTorch
        xp.multiply(won, idx.dtype.type(k), out=tmp)
        xp.maximum(idx, tmp, out=idx)
    return out, idx


def _flat_indices(idx, shape, kernel, stride, dilation, pads, out_hw):
    """PyTorch's return_indices: the flat position h*W + w of each maximum in its input plane."""
    xp = get_array_module(idx)
    kh_, kw_ = xp.divmod(idx.astype(np.int64), kernel[1])
    rows = (xp.arange(out_hw[0]) * stride[0] - pads[0][0])[:, None] + kh_ * dilation[0]
    cols = (xp.arange(out_hw[1]) * stride[1] - pads[1][0]) + kw_ * dilation[1]
    return rows * shape[3] + cols


class AvgPool2d(Function):
    """y = (1/D) * sum over the window of x (D the window count, see avg_pool2d);
    dy/dx = 1/D for every element of the window; overlapping windows accumulate."""

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, out_hw, scale, unbatched):
        if unbatched:
            x = x[None]
        padded = pad_input(x, pads, 0.0)
        offsets = _offsets(kernel, out_hw, stride, (1, 1))
        views = [padded[:, :, hs, ws] for hs, ws in offsets]
        xp = get_array_module(x)
        out = xp.copy(views[0], order="K") if len(views) == 1 else xp.add(views[0], views[1])
        for v in views[2:]:
            xp.add(out, v, out=out)
        if not isinstance(scale, float):   # per-window factors (OH, OW), made on x's device
            scale = xp.asarray(scale, dtype=x.dtype)
        out *= scale
        if ctx.needs_input_grad:
            _remember(ctx, padded, x, kernel, stride, (1, 1), pads, out_hw, offsets, unbatched)
            ctx.scale = scale
        return out[0] if unbatched else out

    @staticmethod
    def backward(ctx, grad):
        if ctx.unbatched:
            grad = grad[None]
        gx = _scatter(ctx, grad * ctx.scale)
        return gx[0] if ctx.unbatched else gx


def check_input(op: str, x: Tensor, floating: bool = True) -> None:
    if floating and x.dtype.kind != "f":
        raise LaminaTypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Max pooling over (dilated) kernel_size windows moved by ``stride`` (default: the kernel
    size) over the input padded with -inf. With ``return_indices`` also returns, per output,
    the flat index h*W + w of the maximum in its (unpadded) input plane.

    >>> max_pool2d(lm.tensor([[[[1., 2.], [3., 4.]]]]), 2)
    tensor([[[[4.]]]])
    """
    input = as_tensor(input)
    check_input("max_pool2d", input, floating=False)
    kernel, stride, dilation, pads, out_hw = _geometry(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    return MaxPool2d.apply(input, kernel=kernel, stride=stride, dilation=dilation, pads=pads,
                           out_hw=out_hw, return_indices=bool(return_indices),
                           unbatched=input.ndim == 3)


def _window_counts(n, k, s, p, o, include_pad):
    """Per-axis number of elements each window averages over (PyTorch's rule: windows are cut
    at the padded border; without ``count_include_pad`` also at the input border)."""
    counts = []
    for i in range(o):
        start = i * s - p
        end = min(start + k, n + p)
        if not include_pad:
            start, end = max(start, 0), min(end, n)
        counts.append(end - start)
    return counts


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Average pooling: each output is the window's sum divided by ``divisor_override``, or by
    the window size counting zero padding (``count_include_pad``) or only real inputs.

    >>> avg_pool2d(lm.tensor([[[[1., 2.], [3., 4.]]]]), 2)
    tensor([[[[2.5]]]])
    """
    input = as_tensor(input)
    check_input("avg_pool2d", input)
    kernel, stride, _, pads, out_hw = _geometry(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) \
                or divisor_override == 0:
            raise LaminaValueError(
                f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}")
        scale = 1.0 / int(divisor_override)
    else:
        h, w = input.shape[-2:]
        ch = _window_counts(h, kernel[0], stride[0], pads[0][0], out_hw[0], count_include_pad)
        cw = _window_counts(w, kernel[1], stride[1], pads[1][0], out_hw[1], count_include_pad)
        if all(a == kernel[0] for a in ch) and all(b == kernel[1] for b in cw):
            scale = 1.0 / (kernel[0] * kernel[1])
        else:
            scale = tuple(tuple(1.0 / (a * b) for b in cw) for a in ch)
    return AvgPool2d.apply(input, kernel=kernel, stride=stride, pads=pads, out_hw=out_hw,
                           scale=scale, unbatched=input.ndim == 3)

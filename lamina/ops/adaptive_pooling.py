"""Adaptive pooling: adaptive_avg_pool2d and adaptive_max_pool2d pool to a fixed output size
(PyTorch's ``torch.nn.functional`` signatures; NCHW or unbatched CHW input).

Output pixel i of an axis of length n pooled to o covers the window
[floor(i n / o), ceil((i+1) n / o)), PyTorch's adaptive windows, which may differ in length
by one and overlap by one element. Adaptive average pooling is then the separable linear map
A_h X A_w^T (two BLAS products, A[i, m] = 1/|window i| on window i); adaptive max pooling
gathers its windows with index arrays and sends each window's gradient to its first maximum,
accumulating where windows overlap.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError
from .pooling import check_input
from ._util import as_tensor

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d"]


def _adaptive_bounds(n: int, o: int, xp):
    """Window i covers [floor(i n / o), ceil((i+1) n / o)) (PyTorch's adaptive windows), as
    two arrays of module ``xp``."""
    i = xp.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _longest_window(n: int, o: int) -> int:
    """The largest adaptive window length, max over i of ceil((i+1) n / o) - floor(i n / o)."""
    return max(-((-(i + 1) * n) // o) - (i * n) // o for i in range(o))


def _adaptive_output(op: str, x: Tensor, output_size) -> tuple[int, int]:
    check_input(op, x)
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise LaminaValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(int(x.shape[-2 + a]) if s is None else s for a, s in enumerate(output_size))
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
        raise LaminaValueError(
            f"{op}: output_size entries must be positive ints or None, got {output_size!r}")
    return int(size[0]), int(size[1])


def _averaging_matrix(n: int, o: int, dtype, xp):
    """A (o, n) with A[i, m] = 1/|window i| for m in window i: one axis of adaptive averaging."""
    start, end = _adaptive_bounds(n, o, xp)
    m = xp.arange(n)
    inside = (m >= start[:, None]) & (m < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """Y = A_h X A_w^T per image and channel (A the averaging matrices);
    dL/dX = A_h^T dL/dY A_w."""

    @staticmethod
    def forward(ctx, x, out_hw):
        xp = get_array_module(x)
        a_h = _averaging_matrix(x.shape[-2], out_hw[0], x.dtype, xp)
        a_w = _averaging_matrix(x.shape[-1], out_hw[1], x.dtype, xp)
        ctx.mats = (a_h, a_w)
        y = xp.tensordot(x, a_w, axes=([-1], [1]))            # (..., H, OW)
        return xp.tensordot(y, a_h, axes=([-2], [1])).swapaxes(-1, -2)

    @staticmethod
    def backward(ctx, grad):
        a_h, a_w = ctx.mats
        xp = get_array_module(grad)
        t = xp.tensordot(grad, a_w, axes=([-1], [0]))          # (..., OH, W)
        return xp.tensordot(t, a_h, axes=([-2], [0])).swapaxes(-1, -2)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed ``output_size`` (int, pair, None entries keep the input
    size): output (i, j) averages rows [floor(iH/OH), ceil((i+1)H/OH)) and likewise columns."""
    input = as_tensor(input)
    out_hw = _adaptive_output("adaptive_avg_pool2d", input, output_size)
    return AdaptiveAvgPool2d.apply(input, out_hw=out_hw)


class AdaptiveMaxPool2d(Function):
    """y = max over the adaptive window of x;  dy/dx = 1 at the window's first maximum
    (windows may overlap by one element and then accumulate)."""

    @staticmethod
    def forward(ctx, x, out_hw, return_indices):
        h, w = x.shape[-2:]
        xp = get_array_module(x)
        rows, cols = (_window_index(n, o, xp) for n, o in zip((h, w), out_hw))
        # (..., OH*KH, OW*KW): each window's elements; short windows repeat their last element,
        # which changes neither the maximum nor which occurrence comes first.
        patches = x[..., rows.reshape(-1), :][..., cols.reshape(-1)]
        lead = x.shape[:-2]
        patches = patches.reshape(lead + (out_hw[0], rows.shape[1], out_hw[1], cols.shape[1]))
        patches = xp.moveaxis(patches, -3, -2).reshape(lead + out_hw + (-1,))
        best = patches.argmax(axis=-1)
        out = xp.take_along_axis(patches, best[..., None], axis=-1)[..., 0]
        a, b = xp.divmod(best, cols.shape[1])
        flat = rows[xp.arange(out_hw[0])[:, None], a] * w + cols[xp.arange(out_hw[1]), b]
        if ctx.needs_input_grad:
            ctx.flat, ctx.shape = flat, x.shape
        return (out, flat) if return_indices else out

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        h, w = ctx.shape[-2:]
        planes = math.prod(ctx.shape[:-2])
        xp = get_array_module(grad)
        gx = xp.zeros((planes, h * w), dtype=grad.dtype)
        # Overlapping windows may share a maximum: add.at accumulates repeated indices.
        xp.add.at(gx, (xp.arange(planes)[:, None], ctx.flat.reshape(planes, -1)),
                  grad.reshape(planes, -1))
        return gx.reshape(ctx.shape)


def _window_index(n: int, o: int, xp):
    """(o, kmax) input positions of each adaptive window, short windows padded with their last."""
    start, end = _adaptive_bounds(n, o, xp)
    return xp.minimum(start[:, None] + xp.arange(_longest_window(n, o)), (end - 1)[:, None])


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed ``output_size`` over PyTorch's adaptive windows; with
    ``return_indices`` also the flat index h*W + w of each maximum."""
    input = as_tensor(input)
    out_hw = _adaptive_output("adaptive_max_pool2d", input, output_size)
    return AdaptiveMaxPool2d.apply(input, out_hw=out_hw, return_indices=bool(return_indices))

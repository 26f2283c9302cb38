"""Window extraction shared by convolution and pooling (im2col, col2im, window geometry).

The lecture's remark that "a convolutional layer can be written as a conventional neural
network layer" is made concrete here: the receptive fields of all output pixels of all
images are copied, through one strided view (``as_strided``), into the rows of a column
matrix, so that the convolution becomes a single matrix product. Two column layouts exist,
chosen by which copy has the longer contiguous runs (NumPy copies strided data run by run,
so the run length, not the element count, decides the cost):

* ``nhwc``: rows are output pixels (n, oh, ow), columns (kh, kw, c), copied from the input in
  channels-last memory: each run is ``kw * C`` numbers (good when C is large);
* ``cnhw``: rows (c, kh, kw), columns (n, oh, ow), copied from channels-first memory: each
  run is one output row of ``OW`` numbers (good for few channels, e.g. the first layer).

Both give a matrix of shape (N*OH*OW, C*KH*KW) (the second as a transposed view), so the
product with the weight matrix produces the output directly in channels-last memory.
Geometry follows PyTorch: out = floor((n + pad_total - d(k-1) - 1) / s) + 1.
Every array function here comes from the input's array module (NumPy or CuPy, whose
``lib.stride_tricks.as_strided`` takes the same byte strides).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..errors import LaminaValueError, ShapeError
from . import _workspace as workspace
from ._util import pair

__all__ = ["positive_pair", "output_size", "window", "is_channels_last", "pad_input",
           "im2col_nhwc", "im2col_cnhw", "channels_last_runs"]


def positive_pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` (int or pair) as a pair of ints, each at least ``minimum``."""
    if isinstance(value, bool):
        raise LaminaValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    p = pair(value, name)
    if p[0] < minimum or p[1] < minimum:
        raise LaminaValueError(f"{name} must be at least {minimum}, got {value!r}")
    return p


def output_size(op: str, n: int, k: int, s: int, pad_total: int, d: int, axis: str) -> int:
    """Number of windows of extent d(k-1)+1, step s, along an axis of length n + pad_total.

    Raises ShapeError when the (dilated) kernel is larger than the padded input.
    """
    extent = d * (k - 1) + 1
    if n + pad_total < extent:
        raise ShapeError(
            f"{op}: the kernel (effective size {extent} along {axis}) is larger than the padded "
            f"input (size {n} + padding {pad_total} = {n + pad_total} along {axis})")
    return (n + pad_total - extent) // s + 1


def window(i: int, j: int, oh: int, ow: int, stride, dilation) -> tuple:
    """The index that selects, for kernel offset (i, j), the input element under that offset
    in every window: rows i*dh + sh*oh' for oh' < oh, columns likewise (basic slicing, a view)."""
    (sh, sw), (dh, dw) = stride, dilation
    return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def is_channels_last(x: np.ndarray) -> bool:
    """True when an (N, C, H, W) array lies in memory as a C-contiguous (N, H, W, C) array."""
    return x.ndim == 4 and x.transpose(0, 2, 3, 1).flags.c_contiguous


def channels_last_runs(channels: int, kw: int, dw: int, ow: int) -> bool:
    """Choose the ``nhwc`` column layout when its copy runs (kw*C, or C when dilated) are at
    least as long as the ``cnhw`` runs (one output row, OW numbers)."""
    run = channels * kw if dw == 1 else channels
    return run >= ow


def pad_input(x: np.ndarray, pads, value: float = 0.0, channels_last: bool | None = None) -> np.ndarray:
    """``x`` (N, C, H, W) surrounded by ``value``: pads = ((top, bottom), (left, right)).

    The result keeps ``x``'s memory order (channels-last stays channels-last) unless
    ``channels_last`` asks for one. Without padding ``x`` itself returns, copied only when
    channels-last memory is asked for and ``x`` is not in it.
    """
    (pt, pb), (pl, pr) = pads
    n, c, h, w = x.shape
    module = get_array_module(x)
    if not (pt or pb or pl or pr) and (not channels_last or c == 1 or is_channels_last(x)):
        return x
    if channels_last is None:
        channels_last = c > 1 and is_channels_last(x)
    shape = (n, h + pt + pb, w + pl + pr)
    if channels_last:
        out = workspace.empty(shape + (c,), x.dtype, module).transpose(0, 3, 1, 2)
    else:
        out = workspace.empty((n, c) + shape[1:], x.dtype, module)
    # the border strips only (filling everything would write the interior twice)
    out[:, :, :pt] = value
    out[:, :, pt + h:] = value
    out[:, :, pt:pt + h, :pl] = value
    out[:, :, pt:pt + h, pl + w:] = value
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def im2col_nhwc(xp: np.ndarray, kernel, out_hw, stride, dilation, ones: bool = False) -> np.ndarray:
    """Column matrix (N*OH*OW, KH*KW*C) of the padded input ``xp`` (any memory order, fastest
    channels-last): row (n, oh, ow), column (kh, kw, c) holds xp[n, c, oh*sh + kh*dh, ow*sw + kw*dw].
    With ``ones`` a last column of ones is appended (the bias then rides in the product)."""
    n, c = xp.shape[:2]
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    sn, sc, sy, sx = xp.strides
    module = get_array_module(xp)
    view = module.lib.stride_tricks.as_strided(
        xp, (n, oh, ow, kh, kw, c), (sn, sy * sh, sx * sw, sy * dh, sx * dw, sc))
    k = kh * kw * c
    col = workspace.empty((n * oh * ow, k + ones), xp.dtype, module)
    # splitting the row and column axes of col[:, :k] needs no copy: the reshape is a view
    module.copyto(col[:, :k].reshape(view.shape), view)
    if ones:
        col[:, k] = 1
    return col


def im2col_cnhw(xp: np.ndarray, kernel, out_hw, stride, dilation, ones: bool = False) -> np.ndarray:
    """Column matrix (C*KH*KW, N*OH*OW) (the transpose of the ``nhwc`` one, with columns in the
    order (c, kh, kw) of PyTorch's weight layout), copied in runs of one output row; with
    ``ones`` a last row of ones is appended."""
    n, c = xp.shape[:2]
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    sn, sc, sy, sx = xp.strides
    module = get_array_module(xp)
    view = module.lib.stride_tricks.as_strided(
        xp, (c, kh, kw, n, oh, ow), (sc, sy * dh, sx * dw, sn, sy * sh, sx * sw))
    k = c * kh * kw
    col = workspace.empty((k + ones, n * oh * ow), xp.dtype, module)
    module.copyto(col[:k].reshape(view.shape), view)
    if ones:
        col[k] = 1
    return col

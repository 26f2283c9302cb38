"""Two-dimensional convolution (PyTorch's ``conv2d``: NCHW input, weight (O, C/groups, KH, KW)).

In the lecture's notation a convolutional node with filter W in R^{F x F x S} and bias b maps
a stack of images X in R^{n1 x n2 x S} to  Z = W *_12 X = sum_i X[:, :, i] * W[:, :, i] + b,
and a layer of K such nodes stacks Z[:, :, k] = W_k *_12 X + b_k. (Like every deep-learning
library, "convolution" here is cross-correlation: the filter is not flipped.)

Written as a conventional layer (im2col): with the column matrix X_col whose row (n, oh, ow)
is the receptive field of that output pixel, and W_mat = W reshaped to (C*KH*KW, O),

    Z_mat = X_col W_mat + b,      dL/dW_mat = X_col^T dL/dZ_mat,      dL/db = 1^T dL/dZ_mat,
    dL/dX_col = dL/dZ_mat W_mat^T, and dL/dX = col2im(dL/dX_col),

where col2im adds every entry of a receptive field back onto the input pixel it was copied
from (overlapping fields accumulate). The forward pass is one BLAS product per group; col2im
loops only over the KH*KW kernel offsets, each step a strided whole-batch addition.

Memory order: the product yields the output either channels-last (N, OH, OW, O) or, for few
output channels, channels-first (O, N, OH, OW); it is returned as an (N, O, OH, OW) view
without copying (as PyTorch's ``channels_last`` format), so the next layer's im2col, pooling
and activation read long runs. Every operation in lamina accepts any strides.

The array functions come from the input's array module (``get_array_module``): on a CUDA
device the same im2col copies and products run in CuPy (the products in cuBLAS).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import DtypeMismatchError, LaminaValueError, ShapeError
from . import _workspace as workspace
from ._im2col import (channels_last_runs, im2col_cnhw, im2col_nhwc, output_size, pad_input,
                      positive_pair, window)
from ._util import as_tensor

__all__ = ["conv2d"]

# Above this many bytes of column matrices, backward rebuilds them from the (padded) input
# instead of keeping them alive between forward and backward (PyTorch keeps only the input).
_KEEP_COLUMNS_BYTES = 1 << 28
# Outputs with at least this many channels are produced in channels-last memory.
_CHANNELS_LAST_OUTPUT = 16
# From this many channels per group, dL/dX is built by one product per kernel offset.
_PER_OFFSET_CHANNELS = 8
# Without gradients, column matrices are built for blocks of images of about this size.
_INFERENCE_BLOCK_BYTES = 1 << 21


class Conv2d(Function):
    """Z = X_col W_mat + b (see the module docstring for im2col and the layouts);
    dL/dW = X_col^T dL/dZ,  dL/db = 1^T dL/dZ (sum over n, oh, ow),  dL/dX = col2im(dL/dZ W_mat^T)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), pads=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1, unbatched=False):
        if unbatched:
            x = x[None]
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        (pt, pb), (pl, pr) = pads
        oh = output_size("conv2d", h, kh, stride[0], pt + pb, dilation[0], "H")
        ow = output_size("conv2d", w, kw, stride[1], pl + pr, dilation[1], "W")
        geometry = ((kh, kw), (oh, ow), stride, dilation)
        nhwc_columns = channels_last_runs(cg, kw, dilation[1], ow)
        padded = pad_input(x, pads, 0.0, channels_last=nhwc_columns and c > 1)

        # Few output channels: channels-first memory (C, N, H, W), where the next pooling and
        # activation run along image rows; many: channels-last, read in long runs by the next
        # convolution. Either is one product, Z^T = W_mat^T X_col^T or Z = X_col W_mat.
        channels_first_out = o < _CHANNELS_LAST_OUTPUT
        npix = n * oh * ow
        xp = get_array_module(x)
        if channels_first_out:
            out = workspace.empty((o, n, oh, ow), x.dtype, xp)
            out2 = out.reshape(o, npix).T
        else:
            out = workspace.empty((n, oh, ow, o), x.dtype, xp)
            out2 = out.reshape(npix, o)
        has_bias = bias is not None
        needs = ctx.needs_input_grad
        # Inference keeps no columns, so it can build them a few images at a time: a block
        # that stays in cache instead of one matrix of the whole batch streamed through memory.
        per_image = oh * ow * (cg * kh * kw + has_bias) * x.dtype.itemsize * groups
        step = n if needs else max(1, min(n, _INFERENCE_BLOCK_BYTES // max(per_image, 1)))
        for start in range(0, n, step):
            stop = min(n, start + step)
            rows = slice(start * oh * ow, stop * oh * ow)
            cols = _forward_block(padded[start:stop] if step < n else padded, weight, bias,
                                  groups, geometry, nhwc_columns, channels_first_out,
                                  out2[rows] if step < n else out2)

        if needs:  # recording: keep what backward needs
            ctx.geometry = geometry
            ctx.groups = groups
            ctx.unbatched = unbatched
            ctx.nhwc_columns = nhwc_columns
            ctx.has_bias = has_bias
            ctx.channels_first_out = channels_first_out
            ctx.input_shape = (n, c, h, w)
            ctx.pads = pads
            # the weight gradient needs the columns: kept when small, else rebuilt from the
            # padded input (which is the input itself without padding: saved, so an in-place
            # change of it after this forward is caught)
            ctx.kept_columns = False
            if not (needs[1] or (has_bias and needs[2])):
                ctx.save(weight)
            elif sum(col.nbytes for col in cols) <= _KEEP_COLUMNS_BYTES:
                ctx.kept_columns = True
                ctx.save(weight, *cols)
            else:
                ctx.save(weight, padded)
        y = out.transpose(1, 0, 2, 3) if channels_first_out else out.transpose(0, 3, 1, 2)
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx, grad):
        weight, *kept = ctx.saved
        needs = ctx.needs_input_grad
        if ctx.unbatched:
            grad = grad[None]
        o = weight.shape[0]
        # dL/dZ as the (N*OH*OW, O) matrix; free when it arrives in the output's memory order.
        if ctx.channels_first_out:
            g2 = _contiguous(grad.transpose(1, 0, 2, 3)).reshape(o, -1).T
        else:
            g2 = _contiguous(grad.transpose(0, 2, 3, 1)).reshape(-1, o)
        gx = gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gw, gb = _weight_grad(ctx, g2, weight, kept)
        if needs[0]:
            gx = _input_grad(ctx, g2, weight)
            if ctx.unbatched:
                gx = gx[0]
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


# OpenBLAS runs products with two small dimensions and one very long one (the first
# convolution of LeNet-5: 6 filters of 25 weights over 64 * 28 * 28 pixels) three to four
# times below their memory speed; cut the long dimension into pieces whose panel stays in
# the core's cache, the products run 3-4x faster.
_SMALL = 32                  # the short dimensions at most this long
_PANEL_BYTES = 1 << 19       # bytes of the long operand per piece (about an L2 cache)


def _piece(rows: int, itemsize: int) -> int:
    return max(1024, 1 << max(0, (_PANEL_BYTES // max(rows * itemsize, 1)).bit_length() - 1))


def _wide_product(a, b, out) -> None:
    """out = a @ b for a (m, k), b (k, n) with m, k small and n long: pieces of columns."""
    m, k = a.shape
    n = b.shape[1]
    xp = get_array_module(b)
    step = _piece(k, b.itemsize)
    if m > _SMALL or k > 4 * _SMALL or n <= 2 * step:
        xp.matmul(a, b, out=out)
        return
    for start in range(0, n, step):
        xp.matmul(a, b[:, start:start + step], out=out[:, start:start + step])


def _long_product(a, b):
    """a @ b for a (m, L), b (L, n) with m, n small and L long: the sum of the products of
    pieces of L (the same sum, grouped by piece)."""
    m, length = a.shape
    n = b.shape[1]
    step = _piece(m + n, b.itemsize)
    if m > _SMALL or n > 4 * _SMALL or length <= 2 * step:
        return a @ b
    xp = get_array_module(b)
    total = a[:, :step] @ b[:step]
    part = xp.empty_like(total)
    for start in range(step, length, step):
        xp.matmul(a[:, start:start + step], b[start:start + step], out=part)
        total += part
    return total


def _contiguous(a):
    """``xp.ascontiguousarray(a)``, copying (when it must) into a reused block."""
    if a.flags.c_contiguous:
        return a
    xp = get_array_module(a)
    out = workspace.empty(a.shape, a.dtype, xp)
    xp.copyto(out, a)
    return out


def _forward_block(padded, weight, bias, groups: int, geometry, nhwc_columns: bool,
                   channels_first_out: bool, out2) -> list:
    """Z = X_col W_mat + b for the images of ``padded`` into ``out2`` (their rows of the output
    matrix); returns the column matrices (one per group)."""
    (kh, kw) = geometry[0]
    o, cg = weight.shape[:2]
    og = o // groups
    has_bias = bias is not None
    xp = get_array_module(padded)
    cols = []
    for g in range(groups):
        xg = padded[:, g * cg:(g + 1) * cg] if groups > 1 else padded
        wg = weight[g * og:(g + 1) * og]
        # With a bias, X_col gets a column of ones and W_mat the bias as its last row:
        # [X_col 1] [W_mat; b] = X_col W_mat + b, and backward's X_col^T dL/dZ then also
        # yields dL/db as its last column (no separate passes over Z).
        if nhwc_columns:
            col = im2col_nhwc(xg, *geometry, ones=has_bias)
            wmat = wg.transpose(2, 3, 1, 0).reshape(kh * kw * cg, og)
        else:
            col = im2col_cnhw(xg, *geometry, ones=has_bias).T
            wmat = wg.reshape(og, cg * kh * kw).T
        if has_bias:
            wmat = xp.concatenate([wmat, bias[None, g * og:(g + 1) * og]], axis=0)
        if groups > 1:
            out2[:, g * og:(g + 1) * og] = col @ wmat
        elif channels_first_out:
            _wide_product(wmat.T, col.T, out2.T)
        else:
            xp.matmul(col, wmat, out=out2)
        cols.append(col)
    return cols


def _columns(ctx, kept: list, g: int, cg: int):
    """The forward's column matrix of group ``g``: ``kept`` holds the column matrices, or the
    padded input to rebuild them from."""
    if ctx.kept_columns:
        return kept[g]
    padded = kept[0]
    xg = padded[:, g * cg:(g + 1) * cg] if ctx.groups > 1 else padded
    if ctx.nhwc_columns:
        return im2col_nhwc(xg, *ctx.geometry, ones=ctx.has_bias)
    return im2col_cnhw(xg, *ctx.geometry, ones=ctx.has_bias).T


def _weight_grad(ctx, g2, weight, kept: list):
    """[dL/dW_mat; dL/db] = [X_col 1]^T dL/dZ_mat per group: the weight gradient in PyTorch's
    layout (O, C/groups, KH, KW) and the bias gradient (None without a bias)."""
    o, cg, kh, kw = weight.shape
    og = o // ctx.groups
    k = cg * kh * kw
    xp = get_array_module(g2)
    gw = xp.empty(weight.shape, dtype=g2.dtype)
    gb = xp.empty(o, dtype=g2.dtype) if ctx.has_bias else None
    for g in range(ctx.groups):
        gs = slice(g * og, (g + 1) * og)
        gmat = _long_product(g2[:, gs].T, _columns(ctx, kept, g, cg))  # (og, C*KH*KW [+ 1]), column order
        if ctx.nhwc_columns:
            gw[gs] = gmat[:, :k].reshape(og, kh, kw, cg).transpose(0, 3, 1, 2)
        else:
            gw[gs] = gmat[:, :k].reshape(og, cg, kh, kw)
        if gb is not None:
            gb[gs] = gmat[:, k]
    return gw, gb


def _input_grad(ctx, g2, weight):
    """dL/dX = col2im(dL/dZ W_mat^T), looping only over the KH*KW kernel offsets.

    Many channels per group: for each offset (i, j) one product dL/dZ (N*OH*OW, O) @
    W[:, :, i, j] (O, C), added as a whole batch onto the strided input window of that offset
    in a channels-last buffer. Few channels (those products would be nearly matrix-vector):
    dL/dZ is spread on the zero grid of the padded input (output (oh, ow) at (oh*sh, ow*sw)),
    one product W_mat^T @ grid gives every offset's contribution on that grid, and offset
    (i, j) is then one contiguous addition shifted by i*dh rows and j*dw columns.
    """
    n, c, h, w = ctx.input_shape
    o, cg, kh, kw = weight.shape
    og = o // ctx.groups
    (_, (oh, ow), (sh, sw), (dh, dw)) = ctx.geometry
    (pt, pb), (pl, pr) = ctx.pads
    hp, wp = h + pt + pb, w + pl + pr
    xp = get_array_module(g2)
    if cg >= _PER_OFFSET_CHANNELS:
        gxp = workspace.zeros((n, hp, wp, c), g2.dtype, xp)
        tmp = workspace.empty((n * oh * ow, cg), g2.dtype, xp)
        tmp4 = tmp.reshape(n, oh, ow, cg)
        for g in range(ctx.groups):
            gs, cs = slice(g * og, (g + 1) * og), slice(g * cg, (g + 1) * cg)
            wk = xp.ascontiguousarray(weight[gs].transpose(2, 3, 0, 1))   # (KH, KW, og, cg)
            for i in range(kh):
                for j in range(kw):
                    xp.matmul(g2[:, gs], wk[i, j], out=tmp)
                    hs, ws = window(i, j, oh, ow, (sh, sw), (dh, dw))
                    gxp[:, hs, ws, cs] += tmp4
        return gxp[:, pt:pt + h, pl:pl + w, :].transpose(0, 3, 1, 2)

    size = n * hp * wp
    grid = workspace.zeros((o, n, hp, wp), g2.dtype, xp)
    grid[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw] = g2.reshape(n, oh, ow, o).transpose(3, 0, 1, 2)
    grid = grid.reshape(o, size)
    # room past the end for the shifted additions (what lands there is zero)
    gx = workspace.zeros((c, size + (kh - 1) * dh * wp + (kw - 1) * dw), g2.dtype, xp)
    products = workspace.empty((kh * kw * cg, size), g2.dtype, xp)
    contrib = products.reshape(kh, kw, cg, size)
    for g in range(ctx.groups):
        gs, cs = slice(g * og, (g + 1) * og), slice(g * cg, (g + 1) * cg)
        wmat = weight[gs].transpose(2, 3, 1, 0).reshape(kh * kw * cg, og)
        xp.matmul(wmat, grid[gs], out=products)
        for i in range(kh):
            for j in range(kw):
                shift = i * dh * wp + j * dw
                gx[cs, shift:shift + size] += contrib[i, j]
    gx = gx[:, :size].reshape(c, n, hp, wp)
    return gx[:, :, pt:pt + h, pl:pl + w].transpose(1, 0, 2, 3)


def _resolve_padding(padding, kernel, stride, dilation) -> tuple:
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same' (stride 1 only;
    an even total is split evenly, an odd one puts the extra row/column at the end, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            if stride != (1, 1):
                raise LaminaValueError(
                    f"conv2d: padding='same' needs stride 1, got stride={stride}")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise LaminaValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = positive_pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``input`` (N, C, H, W) or unbatched (C, H, W)
    with ``weight`` (O, C/groups, KH, KW), plus ``bias`` (O,), as ``torch.nn.functional.conv2d``.

    Output size per axis: floor((H + pad_total - dilation*(K-1) - 1) / stride) + 1.
    ``groups`` splits the channels into independent convolutions (C and O divisible by it).

    >>> x = lm.randn(8, 1, 28, 28)
    >>> w = lm.randn(6, 1, 5, 5, requires_grad=True)
    >>> conv2d(x, w, padding=2).shape
    (8, 6, 28, 28)
    """
    input = as_tensor(input)
    weight = as_tensor(weight)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: weight must have shape (out_channels, in_channels/groups, kH, kW), "
                         f"got {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise LaminaValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    o, cg, kh, kw = weight.shape
    expected_c = cg * groups
    if input.ndim not in (3, 4) or input.shape[-3] != expected_c:
        raise ShapeError(
            f"conv2d: expected input of shape (N, {expected_c}, H, W) (or unbatched ({expected_c}, H, W)) "
            f"for weight of shape {weight.shape} and groups={groups}, got input of shape {input.shape}")
    if o % groups:
        raise ShapeError(f"conv2d: out_channels {o} (weight shape {weight.shape}) is not divisible "
                         f"by groups={groups}")
    if input.dtype.kind != "f" or input.dtype != weight.dtype:
        raise DtypeMismatchError(f"conv2d: input and weight must have the same floating dtype, "
                              f"got {input.dtype} and {weight.dtype}")
    stride = positive_pair(stride, "stride")
    dilation = positive_pair(dilation, "dilation")
    pads = _resolve_padding(padding, (kh, kw), stride, dilation)
    h, w = input.shape[-2:]
    output_size("conv2d", h, kh, stride[0], sum(pads[0]), dilation[0], "H")
    output_size("conv2d", w, kw, stride[1], sum(pads[1]), dilation[1], "W")
    params = dict(stride=stride, pads=pads, dilation=dilation, groups=int(groups),
                  unbatched=input.ndim == 3)
    if bias is None:
        return Conv2d.apply(input, weight, **params)
    bias = as_tensor(bias)
    if bias.shape != (o,):
        raise ShapeError(f"conv2d: bias must have shape ({o},) for weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    if bias.dtype != weight.dtype:
        raise DtypeMismatchError(f"conv2d: bias dtype {bias.dtype} differs from weight dtype {weight.dtype}")
    return Conv2d.apply(input, weight, bias, **params)

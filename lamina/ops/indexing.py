"""Indexing: ``x[index]`` (getitem), ``x[index] = v`` (setitem), gather, index_select,
take_along_dim and masked_fill, and the embedding lookup ``weight[ids]`` (``F.embedding``).

Selecting entries is linear, y = S x with S a 0/1 selection matrix, so dL/dx = S^T dL/dy:
the gradient is scattered back to the positions it was read from. Where an integer index
reads one entry several times, S^T adds those gradients up (a scatter-add, ``np.add.at``);
basic indexing (ints, slices, None, ...) and boolean masks read each entry at most once, so
a plain assignment into zeros suffices.

Arrays come from the module that holds the indexed tensor (``xp = get_array_module(x)``:
NumPy on the CPU, CuPy on a CUDA device). How an index is read, placed on that device and
range-checked, and the scatter-adds of backward, are in :mod:`lamina.ops._indices`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..autograd.tensor import Tensor
from ..backend import get_array_module, on_device_of
from ..errors import InplaceError, LaminaTypeError, LaminaValueError, ShapeError
from . import arithmetic, selection
from ._indices import (_add_rows, _check_range, _convert, _host_or_tensor, _int_index,
                       _on_device_of, _range_error, _scatter_along, _target)
from ._util import normalize_dim
from .shape import expand, reshape

# ``embedding`` is not listed: its public place is ``nn.functional`` (torch.embedding, the
# top-level name, takes (weight, input) rather than F.embedding's (input, weight)).
__all__ = ["getitem", "setitem", "gather", "index_select", "take_along_dim", "masked_fill", "narrow",
           "select"]


class GetItem(Function):
    """y = x[index];  dL/dx = zeros of x's shape with dL/dy added at the indexed positions
    (accumulated where an integer index repeats an entry)."""

    @staticmethod
    def forward(ctx, x, index, accumulate):
        ctx.shape, ctx.index, ctx.accumulate = x.shape, index, accumulate
        x, index = _target(x, index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(ctx.shape, dtype=grad.dtype)
        target, index = _target(gx, ctx.index)
        if ctx.accumulate and isinstance(index, (np.ndarray, xp.ndarray)):
            _add_rows(target, index, grad)
        elif ctx.accumulate:
            xp.add.at(target, index, grad)
        else:
            target[index] = grad
        return gx


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with NumPy/PyTorch semantics: ints, slices, None, Ellipsis, integer
    arrays/lists/tensors, boolean masks, and mixtures of these.

    >>> x = lm.arange(6.).reshape(2, 3)
    >>> x[:, [0, 2]]
    tensor([[0., 2.],
            [3., 5.]])
    """
    index, repeats = _convert(index, x._data)
    return GetItem.apply(x, index=index, accumulate=repeats)


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place (``value`` broadcast to the selection).

    Allowed on tensors that do not require grad, or inside ``lm.no_grad()``; assignments
    are not recorded, so with grad mode on neither ``x`` nor ``value`` may require grad
    (build the tensor with :func:`lamina.cat`, :func:`lamina.where` or
    :func:`masked_fill` instead).
    """
    x._check_inplace("__setitem__")
    if isinstance(value, Tensor):
        if value.requires_grad and _state.enabled:
            raise InplaceError(
                "__setitem__: the assigned value requires grad, but assignments are not recorded "
                "and its gradient would be lost; build the tensor out of place (lm.cat, lm.where, "
                "masked_fill) or assign inside lm.no_grad()")
        value = value._data
    if hasattr(value, "shape") or isinstance(value, list):   # an array: onto x's device
        value = on_device_of(_host_or_tensor(value), x._data)
    target, index = _target(x._data, _convert(index, x._data)[0])
    try:
        target[index] = value
    except ValueError as exc:
        raise LaminaValueError(f"__setitem__ on a tensor of shape {x.shape}: {exc}") from None
    x._bump()


# --------------------------------------------------------------------------- along an axis
class Gather(Function):
    """y[..., j, ...] = x[..., index[..., j, ...], ...] along ``axis``;
    dL/dx = dL/dy scatter-added back to the gathered positions."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return get_array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        gx = get_array_module(grad).zeros(ctx.shape, dtype=grad.dtype)
        _scatter_along(gx, ctx.index, ctx.axis, grad)
        return gx


def gather(x: Tensor, dim: int, index) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for dim = 1 (and likewise for other dims):
    ``index`` has x's number of dimensions and no larger sizes except along ``dim``."""
    idx = _int_index(index, x, "gather")
    axis = normalize_dim(dim, x.ndim)
    if idx.ndim != x.ndim or x.ndim == 0 or any(
            idx.shape[d] > x.shape[d] for d in range(x.ndim) if d != axis):
        raise ShapeError(f"gather: index of shape {idx.shape} does not fit the input {x.shape} "
                         f"(same number of dimensions, sizes no larger except along dim {dim})")
    _check_range(idx, x.shape[axis], "gather")
    if any(idx.shape[d] < x.shape[d] for d in range(x.ndim) if d != axis):
        x = getitem(x, tuple(slice(0, m) if d != axis else slice(None)
                             for d, m in enumerate(idx.shape)))
    return Gather.apply(x, index=idx, axis=axis)


def take_along_dim(x: Tensor, indices, dim=None) -> Tensor:
    """Entries of x picked by ``indices`` along ``dim``, x and ``indices`` broadcasting in
    the other dimensions (``torch.take_along_dim``); with ``dim=None`` both are flattened."""
    idx = _int_index(indices, x, "take_along_dim")
    if dim is None:
        x, idx, axis = reshape(x, -1), idx.reshape(-1), 0
    else:
        axis = normalize_dim(dim, x.ndim)
        if idx.ndim != x.ndim:
            raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} need the "
                             "same number of dimensions")
        try:
            outside = [s[:axis] + s[axis + 1:] for s in (x.shape, idx.shape)]
            shape = list(np.broadcast_shapes(*outside))
        except ValueError:
            raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} do not "
                             f"broadcast outside dim {dim}") from None
        idx_shape = tuple(shape[:axis]) + (idx.shape[axis],) + tuple(shape[axis:])
        idx = get_array_module(idx).broadcast_to(idx, idx_shape)
        x_shape = tuple(shape[:axis]) + (x.shape[axis],) + tuple(shape[axis:])
        if x.shape != x_shape:
            x = expand(x, x_shape)
    _check_range(idx, x.shape[axis], "take_along_dim")
    return Gather.apply(x, index=idx, axis=axis)


class IndexSelect(Function):
    """y = the slices x[..., index[k], ...] along ``axis``;
    dL/dx = dL/dy's slices added back at rows index[k] (repeats accumulate)."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return get_array_module(x).take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(ctx.shape, dtype=grad.dtype)
        _add_rows(xp.moveaxis(gx, ctx.axis, 0), ctx.index, xp.moveaxis(grad, ctx.axis, 0))
        return gx


def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The slices of x along ``dim`` at the positions in the 1-D integer ``index``."""
    idx = _int_index(index, x, "index_select")
    if idx.ndim > 1:
        raise ShapeError(f"index_select: index must be 0-d or 1-d, got shape {idx.shape}")
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:
        x = reshape(x, 1)
    _check_range(idx, x.shape[axis], "index_select")
    return IndexSelect.apply(x, index=idx.reshape(-1), axis=axis)


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """x with ``value`` where the boolean ``mask`` (broadcast with x) is True; the gradient
    reaches x where the mask is False and a tensor ``value`` where it is True."""
    m = _host_or_tensor(mask)
    if m.dtype != np.bool_:
        raise LaminaTypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    m = _on_device_of(m, x._data, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError("masked_fill: value must be a number or a 0-d tensor, "
                             f"got shape {value.shape}")
        if value.dtype != x.dtype:
            value = arithmetic.cast(value, x.dtype)
    else:
        value = Tensor._wrap(get_array_module(x._data).asarray(value, dtype=x.dtype))
    return selection.where(Tensor._wrap(m), value, x)


# --------------------------------------------------------------------------- embedding
class EmbeddingLookup(Function):
    """y[p] = W[i_p];  dL/dW[j] = sum_{p: i_p = j} dL/dy[p] (0 for the padding row);
    no gradient for the integer indices."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.save(indices)
        ctx.num_embeddings = weight.shape[0]
        ctx.padding_idx = padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved
        xp = get_array_module(grad)
        d = grad.shape[-1]
        flat = indices.reshape(-1)
        g = grad.reshape(-1, d)
        gw = xp.zeros((ctx.num_embeddings, d), grad.dtype)
        if flat.size and xp is not np:
            xp.add.at(gw, flat, g)   # one scatter-add (atomic additions) on a device
        elif flat.size:
            # Sort the ids and sum each run of equal ids with one reduceat: repeated ids
            # accumulate (deterministically, in position order) without a Python loop.
            order = np.argsort(flat, kind="stable")
            ids = flat[order]
            starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
            gw[ids[starts]] = np.add.reduceat(g[order], starts, axis=0)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None


def _normalize_padding_idx(padding_idx, num_embeddings: int):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise LaminaValueError(f"padding_idx must be within num_embeddings "
                               f"(-{num_embeddings} <= padding_idx < {num_embeddings}), got {padding_idx}")
    return int(padding_idx) % num_embeddings


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer tensor
    ``input``: the output has shape ``input.shape + (embedding_dim,)`` (PyTorch's
    ``F.embedding``). The row ``padding_idx`` gets no gradient."""
    indices = _host_or_tensor(input)
    if indices.dtype.kind not in "iu":
        raise LaminaTypeError(f"embedding expects integer indices (int64 or int32), got {indices.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    indices = _on_device_of(indices, weight._data, "embedding")
    n = weight.shape[0]
    bad = _range_error(indices, n)
    if bad is not None:
        raise LaminaValueError(f"embedding index {bad} is out of range for {n} embeddings "
                               f"(expected 0 <= index < {n})")
    padding_idx = _normalize_padding_idx(padding_idx, n)
    return EmbeddingLookup.apply(weight, Tensor._wrap(indices), padding_idx=padding_idx)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x`` restricted to indices ``start .. start + length - 1`` along ``dim`` (a view)."""
    axis = normalize_dim(dim, x.ndim)
    size = x.shape[axis]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise LaminaValueError(f"narrow: start {start} and length {length} do not fit dimension "
                               f"{dim} of size {size}")
    return getitem(x, (slice(None),) * axis + (slice(start, start + length),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """``x[..., index, ...]`` with ``index`` taken along ``dim``, that dimension removed (a view)."""
    axis = normalize_dim(dim, x.ndim)
    size = x.shape[axis]
    if not -size <= index < size:
        raise LaminaValueError(f"select: index {index} is out of range for dimension {dim} "
                               f"of size {size}")
    return getitem(x, (slice(None),) * axis + (int(index),))

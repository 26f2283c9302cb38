"""Sorting along a dimension: sort, argsort and topk.

sort and topk return ``(values, indices)`` as a named tuple with ``.values`` and
``.indices``, like ``max(dim)`` in :mod:`lamina.ops.extremum` (PyTorch's
``torch.return_types``); the indices are int64 and carry no gradient. The gradient of the
values is routed back to the positions they came from.

Every sort here is stable, so ``stable=True`` holds whatever is asked: equal entries keep
their order, in descending sorts too (the first of equal entries comes first). NaN counts as
larger than every number, as in PyTorch: last in an ascending sort, first in a descending
one and in topk's largest.
"""
from __future__ import annotations

import collections

from ..autograd.function import Function
from ..autograd.tensor import Tensor, int64
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError
from ._util import as_tensor, normalize_dim
from .arithmetic import clone

__all__ = ["sort", "argsort", "topk"]

# torch.return_types.sort / .topk: tuples that also have .values and .indices.
sort_return = collections.namedtuple("sort", ["values", "indices"])
topk_return = collections.namedtuple("topk", ["values", "indices"])


class TakeAlong(Function):
    """y = x at ``index`` along ``axis``, the indices of each line distinct (a permutation
    or a selection); dy/dx = 1 at each taken entry, so dL/dx is dL/dy put back in place
    (and 0 at entries not taken)."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return get_array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(ctx.shape, dtype=grad.dtype)
        xp.put_along_axis(gx, ctx.index, grad, axis=ctx.axis)
        return gx


class Sort(TakeAlong):
    """sort's values: TakeAlong under PyTorch's node name (SortBackward0)."""


class Topk(TakeAlong):
    """topk's values: TakeAlong under PyTorch's node name (TopkBackward0)."""


def _stable_argsort(data, axis: int, descending: bool):
    """Indices that sort ``data`` along ``axis``, equal entries in their original order.

    Descending: sort the reversed line ascending (equal entries then come last-first),
    reverse that order and map the positions back, which leaves equal entries first-first
    and needs no negation (so it also holds for bools, unsigned integers and NaN)."""
    xp = get_array_module(data)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable").astype(int64, copy=False)
    order = xp.argsort(xp.flip(data, axis=axis), axis=axis, kind="stable")
    return ((data.shape[axis] - 1) - xp.flip(order, axis=axis)).astype(int64, copy=False)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *,
         stable: bool = False) -> tuple:
    """The entries sorted along ``dim``, as ``(values, indices)`` with
    ``values = input.gather(dim, indices)``; always stable (see the module docstring).

    >>> lm.sort(lm.tensor([3.0, 1.0, 2.0]), descending=True)
    sort(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    x = as_tensor(input)
    axis = normalize_dim(dim, x.ndim)
    xp = get_array_module(x._data)
    if x.ndim == 0:
        return sort_return(clone(x), Tensor._wrap(xp.zeros((), int64)))
    index = _stable_argsort(x._data, axis, descending)
    return sort_return(Sort.apply(x, index=index, axis=axis), Tensor._wrap(index))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    x = as_tensor(input)
    axis = normalize_dim(dim, x.ndim)
    xp = get_array_module(x._data)
    if x.ndim == 0:
        return Tensor._wrap(xp.zeros((), int64))
    return Tensor._wrap(_stable_argsort(x._data, axis, descending))


def _line(axis: int, start: int | None, stop: int | None, ndim: int) -> tuple:
    return tuple(slice(start, stop) if d == axis else slice(None) for d in range(ndim))


def _topk_index(data, k: int, axis: int, largest: bool):
    """Indices of the k largest (or smallest) entries of each line, best first, equal
    entries in index order. A partition picks the k (O(n)), a sort orders only them."""
    xp = get_array_module(data)
    n = data.shape[axis]
    if k == n:
        return _stable_argsort(data, axis, largest)
    if k == 0:
        shape = list(data.shape)
        shape[axis] = 0
        return xp.zeros(tuple(shape), int64)
    if largest:
        chosen = xp.argpartition(data, n - k, axis=axis)[_line(axis, n - k, None, data.ndim)]
    else:
        chosen = xp.argpartition(data, k - 1, axis=axis)[_line(axis, None, k, data.ndim)]
    chosen = xp.sort(chosen, axis=axis)  # index order, so the stable sort orders ties by index
    order = _stable_argsort(xp.take_along_axis(data, chosen, axis=axis), axis, largest)
    return xp.take_along_axis(chosen, order, axis=axis).astype(int64, copy=False)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple:
    """The ``k`` largest (``largest=False``: smallest) entries along ``dim`` as
    ``(values, indices)``, best first (also with ``sorted=False``, whose order PyTorch
    leaves open). Which of several equal entries is taken at the boundary is unspecified,
    as in PyTorch.

    >>> lm.topk(lm.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    x = as_tensor(input)
    if x._data.dtype.kind == "b":
        raise LaminaTypeError("topk: expected a numeric tensor, got dtype bool")
    if not isinstance(k, int) or isinstance(k, bool):
        raise LaminaTypeError(f"topk: k must be an int, got {k!r}")
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise LaminaValueError(f"topk: k={k} is out of range for dimension {dim} of size {n} "
                               f"(expected 0 <= k <= {n})")
    xp = get_array_module(x._data)
    if x.ndim == 0:
        if k == 1:
            return topk_return(clone(x), Tensor._wrap(xp.zeros((), int64)))
        return topk_return(Tensor._wrap(x._data.reshape(1)[:0]),
                           Tensor._wrap(xp.zeros((0,), int64)))
    index = _topk_index(x._data, k, axis, largest)
    return topk_return(Topk.apply(x, index=index, axis=axis), Tensor._wrap(index))

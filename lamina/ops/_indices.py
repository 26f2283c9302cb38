"""Index arrays for the indexing operations (:mod:`lamina.ops.indexing`): reading what a user
passes as an index, placing it on the indexed tensor's device, checking its range, and the
scatter-adds that send a gradient back through it.

An index is turned into what NumPy (or CuPy) applies: integer or boolean arrays, ints, slices,
None and Ellipsis. PyTorch applies integers before advanced indices where NumPy would not, so
such a mixture becomes two indices applied in turn (:class:`_Staged`).

Arrays come from the module that holds the indexed tensor (``xp = get_array_module(x)``:
NumPy on the CPU, CuPy on a CUDA device). Index arrays given as lists, NumPy arrays or CPU
tensors are copied to the indexed tensor's device, as PyTorch accepts CPU indices for a CUDA
tensor; indices on a CUDA device for a CPU tensor are refused, as PyTorch refuses them.

Reading through an index is y = S x with S a 0/1 selection matrix; its adjoint S^T adds dL/dy
back at the positions read, so an entry read several times collects the sum of its gradients:
out[index[k]] += g[k] (``_add_rows`` along the first axis, ``_scatter_along`` along any axis,
the adjoint of ``take_along_axis``).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import device_of, get_array_module, to_device
from ..errors import LaminaTypeError, LaminaValueError


def _on_device_of(arr, like, what: str):
    """The index array ``arr`` on the device of the indexed array ``like`` (a host index is
    copied to a CUDA device; an index on a CUDA device for a CPU array is refused)."""
    if type(arr) is type(like):
        return arr
    target, source = device_of(like), device_of(arr)
    if target == source:
        return arr
    if target.type == "cpu":
        raise LaminaValueError(f"{what}: indices should be either on cpu or on the same device "
                               f"as the indexed tensor (cpu), got indices on {source}")
    return to_device(arr, target)


def _host_or_tensor(value):
    """A Tensor's array, an array as it is given (on its device), or a list as a NumPy array."""
    if isinstance(value, Tensor):
        return value._data
    if type(value) is np.ndarray or get_array_module(value) is not np:
        return value
    return np.asarray(value)


def _index_array(value):
    """A Tensor, list or array used as an index, as an integer or boolean array (on the
    device it was given on)."""
    arr = _host_or_tensor(value)
    if arr.dtype.kind not in "biu":
        if arr.size == 0 and not isinstance(value, (Tensor, np.ndarray)):
            return arr.astype(np.int64)  # x[[]] selects nothing, as in PyTorch
        raise LaminaTypeError(f"tensors used as indices must be integer or bool, got {arr.dtype}")
    return arr


def _is_int(item) -> bool:
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _convert(index, like) -> tuple:
    """``index`` as an index of the array ``like`` (its index arrays on ``like``'s device), and
    whether it holds integer arrays (which may repeat an entry, so that backward has to
    accumulate).

    PyTorch applies integers before advanced indices (``x[0, :, [1, 2]]`` has shape (2, 3)
    for x of shape (3, 2, 5), NumPy's (3, 2)), so an index mixing both becomes two NumPy
    indices applied in turn: a basic one with the integers, then the rest.
    """
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    array_at = []   # positions of the index arrays among converted
    repeats = ints = False
    for item in items:
        if isinstance(item, (Tensor, list, np.ndarray)) or get_array_module(item) is not np:
            item = _index_array(item)
            if item.ndim == 0 and item.dtype.kind != "b":
                item = int(item)  # a 0-d integer index selects, as an int does
            else:
                item = _on_device_of(item, like, "indexing")
                array_at.append(len(converted))
                repeats = repeats or item.dtype.kind != "b"
        ints = ints or _is_int(item)
        converted.append(item)
    if array_at and ints:
        first = []
        for k, item in enumerate(converted):
            if _is_int(item) or item is Ellipsis:
                first.append(item)
            elif k in array_at:
                first.extend([slice(None)] * (item.ndim if item.dtype.kind == "b" else 1))
            elif isinstance(item, slice):
                first.append(slice(None))
            # None and bool scalars consume no dimension
        rest = tuple(item for item in converted if not _is_int(item))
        return _Staged(tuple(first), rest), repeats
    return (tuple(converted) if isinstance(index, tuple) else converted[0]), repeats


class _Staged(tuple):
    """An index applied in two steps: ``x[first][rest]`` (``first`` basic, so a view)."""

    def __new__(cls, first, rest):
        return super().__new__(cls, (first, rest))


def _target(array, index):
    """The array and index that ``array[index]`` finally applies to (a view of ``array``)."""
    if type(index) is _Staged:
        return array[index[0]], index[1]
    return array, index


def _add_rows(out, index, values) -> None:
    """out[index[k]] += values[k] along the first axis, repeats accumulating.

    On a device this is one scatter-add (``xp.add.at``, atomic additions). NumPy's
    ``np.add.at`` is fast for single entries but slow when each index moves a whole row;
    there, sorting the indices and summing each run of equal ones with ``np.add.reduceat``
    writes every row once (several times faster for embedding-like gradients).
    """
    xp = get_array_module(out)
    index = index.reshape(-1)
    values = values.reshape((index.size,) + out.shape[1:])
    if xp is not np or out.ndim == 1 or index.size < 2:
        xp.add.at(out, index, values)
        return
    index = np.where(index < 0, index + out.shape[0], index)  # -1 and n-1 are one row
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)


# ------------------------------------------------------------ integer indices along one axis
def _int_index(index, x: Tensor, what: str):
    """``index`` (a Tensor, list or array) as an integer array on ``x``'s device."""
    arr = _host_or_tensor(index)
    if arr.dtype.kind not in "iu":
        raise LaminaTypeError(f"{what}: index must be an integer tensor, got {arr.dtype}")
    return _on_device_of(arr, x._data, what)


def _range_error(index, n: int):
    """The error for indices outside [0, n), or None (NumPy would wrap negative ones around
    silently; CuPy wraps every index). One read of the extremes, so one device sync."""
    if not index.size:
        return None
    lo, hi = (int(v) for v in get_array_module(index).stack([index.min(), index.max()]).tolist())
    if lo < 0 or hi >= n:
        return lo if lo < 0 else hi
    return None


def _check_range(index, n: int, what: str) -> None:
    """Reject indices outside [0, n)."""
    bad = _range_error(index, n)
    if bad is not None:
        raise IndexError(f"{what}: index {bad} is out of range for a dimension of size {n}")


def _along_axis(index, axis: int) -> tuple:
    """The index tuple that picks ``out[..., index[..., j, ...], ...]`` along ``axis``: index
    itself there, and broadcastable ranges 0 .. n-1 for every other dimension."""
    xp = get_array_module(index)
    grid = []
    for d, n in enumerate(index.shape):
        if d == axis:
            grid.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            grid.append(xp.arange(n).reshape(shape))
    return tuple(grid)


def _scatter_along(out, index, axis: int, values) -> None:
    """out[..., index[..., j, ...], ...] += values[..., j, ...] along ``axis`` (the adjoint of
    ``take_along_axis``)."""
    grid = _along_axis(index, axis)
    if index.shape[axis] == 1:
        # One index per line along the axis: no entry is hit twice, so assign.
        out[grid] = values
        return
    get_array_module(out).add.at(out, grid, values)

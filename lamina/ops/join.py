"""Joining and splitting: cat and stack, split, chunk and unbind.

Like the other shape operations (:mod:`lamina.ops.shape`) these change no value, they only
move entries, so each backward moves dL/dy back the other way: the gradient of a join is cut
into the blocks that the inputs filled, and the gradients of the pieces of a split are joined
again. The pieces of a split are views of the input array, as PyTorch's are views. Arrays
are joined by the module that holds them (``get_array_module``: NumPy or CuPy); the inputs
of a join are on one device (``Function.apply`` sees to that).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ._util import as_tensor, normalize_dim
from ._views import _owned, _sizes, _slice_at

__all__ = ["cat", "stack", "split", "chunk", "unbind"]


# --------------------------------------------------------------------------- joining
class Cat(Function):
    """y = [x_1, x_2, ...] joined along ``axis``;  dL/dx_k = the block of dL/dy that x_k filled."""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.bounds = tuple(itertools.accumulate([x.shape[axis] for x in xs], initial=0))
        return get_array_module(*xs).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        b = ctx.bounds
        return tuple(_owned(ctx, k, grad[_slice_at(ctx.axis, slice(b[k], b[k + 1]))])
                     if need else None for k, need in enumerate(ctx.needs_input_grad))


class Stack(Function):
    """y = x_1, x_2, ... stacked along a new ``axis``;  dL/dx_k = dL/dy at position k."""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        return get_array_module(*xs).stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(_owned(ctx, k, grad[_slice_at(ctx.axis, k)]) if need else None
                     for k, need in enumerate(ctx.needs_input_grad))


def _tensors(tensors, what: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise LaminaTypeError(f"{what} expects a non-empty list or tuple of tensors, got "
                              f"{type(tensors).__name__}")
    return [as_tensor(t) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along the existing dimension ``dim``; the other sizes must agree."""
    ts = _tensors(tensors, "cat")
    first = ts[0]
    axis = normalize_dim(dim, first.ndim)
    for k, t in enumerate(ts):
        if t.ndim != first.ndim or first.ndim == 0 or any(
                t.shape[i] != first.shape[i] for i in range(first.ndim) if i != axis):
            raise ShapeError(f"cat along dim {dim}: tensor {k} has shape {t.shape}, which does not "
                             f"fit tensor 0's {first.shape} (all sizes but dim {dim} must agree)")
    return Cat.apply(*ts, axis=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim``."""
    ts = _tensors(tensors, "stack")
    axis = normalize_dim(dim, ts[0].ndim + 1)
    for k, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ShapeError(f"stack: tensor {k} has shape {t.shape}, expected tensor 0's "
                             f"{ts[0].shape} (stacked tensors must have one shape)")
    return Stack.apply(*ts, axis=axis)


# --------------------------------------------------------------------------- splitting
class Split(Function):
    """(y_1, y_2, ...) = consecutive blocks of x along ``axis``;
    dL/dx = the blocks dL/dy_k joined again (zeros for pieces that were not used)."""

    @staticmethod
    def forward(ctx, x, bounds, axis):
        ctx.axis = axis
        return tuple(x[_slice_at(axis, slice(a, b))] for a, b in zip(bounds[:-1], bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        return get_array_module(*grads).concatenate(grads, axis=ctx.axis)


class Unbind(Function):
    """(y_0, y_1, ...) = the slices of x along ``axis``;  dL/dx = the dL/dy_k stacked."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return tuple(x[_slice_at(axis, k)] for k in range(x.shape[axis]))

    @staticmethod
    def backward(ctx, *grads):
        return get_array_module(*grads).stack(grads, axis=ctx.axis)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut ``tensor`` along ``dim`` into pieces of ``split_size_or_sections`` entries (the last may
    be smaller) or into pieces of the listed sizes, which must add up to the size of ``dim``."""
    axis = normalize_dim(dim, tensor.ndim)
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(_sizes((split_size_or_sections,), "split"))
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {sizes} add up to {sum(sizes)}, but dim {dim} of "
                             f"the tensor {tensor.shape} has size {n}")
    else:
        size = _sizes((split_size_or_sections,), "split")[0]
        if size <= 0 and n > 0:
            raise LaminaValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    return Split.apply(tensor, bounds=tuple(itertools.accumulate(sizes, initial=0)), axis=axis)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Cut x along ``dim`` into at most ``chunks`` pieces of ceil(n / chunks) entries."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise LaminaValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    n = x.shape[normalize_dim(dim, x.ndim)]
    if n == 0:
        return split(x, [0] * int(chunks), dim)
    return split(x, -(-n // int(chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices of x along ``dim``, as a tuple of tensors with that dimension removed."""
    axis = normalize_dim(dim, x.ndim)
    if x.ndim == 0:
        raise ShapeError("unbind: a 0-d tensor has no dimension to unbind")
    if x.shape[axis] == 0:
        return ()
    return Unbind.apply(x, axis=axis)

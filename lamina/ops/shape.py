"""Shape operations: reshape/view, flatten, squeeze/unsqueeze, transpose/permute, diagonal,
expand, repeat and flip (joining and splitting, cat/stack and split/chunk/unbind, are in
:mod:`lamina.ops.join`; padding, ``pad``, is in :mod:`lamina.ops.padding`).

None of these changes a value; each only moves entries. So each backward moves dL/dy back
the other way: a reshape is undone by the inverse reshape, a permutation by the inverse
permutation, a copy (expand, repeat) by summing the copies. Forwards return views of the
input array where PyTorch returns views. Every array is made by the module that holds the
input (``xp = get_array_module(x)``: NumPy on the CPU, CuPy on a CUDA device).
"""
from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError, ShapeError
from ._util import normalize_dim, normalize_dims
from ._views import _owned, _sizes

# ``pad`` is listed by its family, lamina.ops.padding.
__all__ = ["reshape", "view", "view_as", "reshape_as", "flatten", "transpose", "permute",
           "squeeze", "unsqueeze", "expand", "expand_as", "repeat", "flip", "diagonal"]


# --------------------------------------------------------------------------- reshape family
class Reshape(Function):
    """y = x with a new shape (same entries in row-major order);  dL/dx = dL/dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return _owned(ctx, 0, grad.reshape(ctx.shape))


def _resolve(shape: tuple, x: Tensor, what: str) -> tuple:
    """``shape`` with its -1 (at most one) filled in so that it holds exactly x's entries."""
    numel = x._data.size
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ShapeError(f"{what}: invalid shape {shape} (sizes must be >= 0, with at most one -1)")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or numel % known:
            raise ShapeError(f"{what}: shape {shape} is invalid for a tensor of shape "
                             f"{x.shape} ({numel} elements)")
        shape = shape[:unknown[0]] + (numel // known,) + shape[unknown[0] + 1:]
    elif known != numel:
        raise ShapeError(f"{what}: shape {shape} holds {known} elements, but the tensor of shape "
                         f"{x.shape} has {numel}")
    return shape


def reshape(x: Tensor, *shape) -> Tensor:
    """x with shape ``shape`` (varargs or one tuple; one size may be -1 to be inferred).

    >>> lm.arange(6).reshape(2, -1).shape
    (2, 3)
    """
    return Reshape.apply(x, shape=_resolve(_sizes(shape, "reshape"), x, "reshape"))


def view(x: Tensor, *shape) -> Tensor:
    """x seen with shape ``shape``, as :func:`reshape`; a shape that does not hold exactly
    x's entries raises :class:`ShapeError`."""
    return Reshape.apply(x, shape=_resolve(_sizes(shape, "view"), x, "view"))


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x viewed with ``other``'s shape."""
    return view(x, other.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to ``other``'s shape."""
    return reshape(x, other.shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` to ``end_dim`` (inclusive) into one."""
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    start, end = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    if start > end:
        raise LaminaValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                               f"for a tensor with {x.ndim} dimensions")
    if start == end:  # nothing to merge: the input itself, as PyTorch returns it
        return x
    s = x.shape
    return Reshape.apply(x, shape=s[:start] + (math.prod(s[start:end + 1]),) + s[end + 1:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those among ``dim``, an int or tuple;
    named dimensions whose size is not 1 are kept, as in PyTorch)."""
    axes = range(x.ndim) if dim is None else (normalize_dims(dim, x.ndim) if x.ndim else ())
    drop = {a for a in axes if x.shape[a] == 1}
    return Reshape.apply(x, shape=tuple(n for i, n in enumerate(x.shape) if i not in drop))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (-ndim-1 <= dim <= ndim)."""
    axis = normalize_dim(dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:axis] + (1,) + x.shape[axis:])


# --------------------------------------------------------------------------- permutations
class Permute(Function):
    """y = x with its axes reordered by ``perm``;  dL/dx = dL/dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return get_array_module(x).transpose(x, perm)

    @staticmethod
    def backward(ctx, grad):
        inverse = sorted(range(len(ctx.perm)), key=ctx.perm.__getitem__)
        return _owned(ctx, 0, get_array_module(grad).transpose(grad, tuple(inverse)))


def permute(x: Tensor, *dims) -> Tensor:
    """x with its dimensions in the order ``dims`` (varargs or one tuple)."""
    dims = _sizes(dims, "permute")
    perm = tuple(normalize_dim(d, x.ndim) for d in dims) if x.ndim else ()
    if sorted(perm) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise LaminaValueError(f"permute: dims {dims} are not a permutation of the "
                               f"{x.ndim} dimensions of a tensor of shape {x.shape}")
    return Permute.apply(x, perm=perm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with dimensions ``dim0`` and ``dim1`` swapped."""
    a, b = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    perm = list(range(x.ndim))
    if x.ndim:
        perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(x, perm=tuple(perm))


class Diagonal(Function):
    """y_k = x[..., i + k, j + k, ...] along the two axes ``dim1``, ``dim2`` shifted by
    ``offset`` (a view, writable as PyTorch's is);  dL/dx is zero except on that diagonal,
    where it is dL/dy."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        ctx.x_shape = x.shape
        y = get_array_module(x).diagonal(x, offset, dim1, dim2)
        # NumPy's diagonal views are read-only by default (CuPy's flags have no such bit)
        if getattr(x.flags, "writeable", False) and hasattr(y.flags, "writeable"):
            y.flags.writeable = True
        return y

    @staticmethod
    def backward(ctx, grad):
        xp = get_array_module(grad)
        offset, dim1, dim2 = ctx.args
        g = xp.zeros(ctx.x_shape, grad.dtype)
        # the diagonal's k-th entry is g[..., k + max(-offset, 0), ..., k + max(offset, 0), ...]
        k = xp.arange(grad.shape[-1])
        plane = xp.moveaxis(g, (dim1, dim2), (-2, -1))  # a view of g
        plane[..., k + max(-offset, 0), k + max(offset, 0)] = grad
        return g


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of ``x`` in the plane of ``dim1`` and ``dim2`` (``offset`` > 0 above the
    main diagonal, < 0 below), as a new last dimension; a view of ``x``."""
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs a tensor with at least 2 dimensions, got shape {x.shape}")
    a, b = normalize_dim(dim1, x.ndim), normalize_dim(dim2, x.ndim)
    if a == b:
        raise LaminaValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
    return Diagonal.apply(x, offset=int(offset), dim1=a, dim2=b)


class Flip(Function):
    """y = x reversed along ``axes`` (a copy, as PyTorch's flip);  dL/dx = dL/dy reversed
    along the same axes."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return get_array_module(x).flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return _owned(ctx, 0, get_array_module(grad).flip(grad, ctx.axes))


def flip(x: Tensor, dims) -> Tensor:
    """x reversed along ``dims`` (an int or a tuple/list of ints)."""
    return Flip.apply(x, axes=normalize_dims(dims, x.ndim) if x.ndim else ())


# --------------------------------------------------------------------------- copies
class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view, as PyTorch's expand);
    dL/dx = dL/dy summed over the copies, which the engine's ``sum_to`` does."""

    @staticmethod
    def forward(ctx, x, shape):
        return get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


def expand(x: Tensor, *sizes) -> Tensor:
    """x broadcast to ``sizes`` (-1 keeps a size; new leading dimensions may be added)."""
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} given for a tensor with "
                         f"{x.ndim} dimensions {x.shape}; give at least {x.ndim}")
    target = []
    for i, n in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else None
        if n == -1 and have is not None:
            n = have
        if n < 0 or (have is not None and have != 1 and have != n):
            raise ShapeError(f"expand: cannot expand shape {x.shape} to {sizes} (dimension {i}: "
                             f"size {have} can only become itself, or a size-1 dimension any size)")
        target.append(n)
    return Expand.apply(x, shape=tuple(target))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x expanded to ``other``'s shape."""
    return expand(x, other.shape)


class Repeat(Function):
    """y = x tiled ``reps`` times along each dimension;  dL/dx = sum of dL/dy over the tiles."""

    @staticmethod
    def forward(ctx, x, reps):
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.shape, ctx.reps = x.shape, reps
        return get_array_module(x).tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        # y[r0*n0 + i0, r1*n1 + i1, ...] = x[i0, i1, ...]: split each axis into (tile, index).
        split = [n for pair in zip(ctx.reps, ctx.shape) for n in pair]
        return grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))


def repeat(x: Tensor, *sizes) -> Tensor:
    """x tiled: ``sizes[i]`` copies along dimension i (at least ``x.ndim`` sizes; extra
    leading sizes add dimensions), as ``Tensor.repeat``."""
    reps = _sizes(sizes, "repeat")
    if len(reps) < x.ndim or any(r < 0 for r in reps):
        raise ShapeError(f"repeat: sizes {reps} must be non-negative and at least as many as the "
                         f"{x.ndim} dimensions of the tensor {x.shape}")
    return Repeat.apply(x, reps=reps)

"""Reductions: sum, mean, var, std, logsumexp, prod and norm (the extremum reductions,
amax/amin, max/min with indices and argmax/argmin, are in :mod:`lamina.ops.extremum`).

A reduction maps x to y by combining the entries of x along the reduced axes. Its backward
first restores the reduced axes of dL/dy (size 1, as with ``keepdim=True``) and then spreads
that gradient over x: evenly for sums and means, by the local derivative dy/dx_i otherwise.
``dim`` may be None (all axes), an int, or a tuple/list of ints, negative ones counting
from the end, as in PyTorch.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, float32, int64
from ..backend import get_array_module
from ..errors import LaminaTypeError, LaminaValueError
from ._util import normalize_dims
from ._views import _owned

__all__ = ["sum", "mean", "var", "std", "logsumexp", "prod", "norm"]


def _axes(dim, ndim: int):
    """``dim`` as a sorted tuple of axes, or None for all axes (also for ``()`` and 0-d x)."""
    if dim is None and ndim:
        return None
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, without the checks
        return (dim % ndim,)
    if ndim == 0:
        if dim is not None:
            normalize_dims(dim, 0)  # still reject dims other than 0 and -1
        return None
    axes = normalize_dims(dim, ndim)
    return axes if axes else None


def _kept(shape: tuple, axes) -> tuple:
    """The shape of the result with ``keepdim=True``."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _squeezed(shape: tuple, axes) -> tuple:
    """The shape of the result with ``keepdim=False``."""
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


def _count(shape: tuple, axes) -> int:
    """How many entries of x go into each entry of the result."""
    if axes is None:
        return math.prod(shape)
    return math.prod(shape[i] for i in axes)


def _restore(g, shape: tuple, axes, keepdim: bool):
    """dL/dy reshaped to the keepdim shape, so that it broadcasts against x."""
    return g if keepdim else g.reshape(_kept(shape, axes))


# Up to this many elements a spread gradient is written out (one fresh array, much cheaper
# than NumPy's broadcast_to for small arrays); above it a read-only broadcast view is kept.
_MATERIALISE = 1 << 16


def _spread(ctx, g, shape: tuple):
    """``g`` (keepdim shape) broadcast to ``shape``: for interior nodes a read-only view (or,
    when small, a fresh array with the same values), a real array where it becomes a leaf's
    ``.grad``."""
    xp = get_array_module(g)
    if math.prod(shape) <= _MATERIALISE:
        out = xp.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return _owned(ctx, 0, xp.broadcast_to(g, shape))


def _sum(x, axes, keepdim: bool, dtype=None):
    """``np.sum`` without its Python dispatch on the CPU: the same reduction
    (``np.add.reduce``); ``xp.sum`` on a device."""
    if type(x) is _ndarray:
        return _add_reduce(x, axes, dtype, None, keepdim)
    return get_array_module(x).sum(x, axis=axes, dtype=dtype, keepdims=keepdim)


def _mean(x, axes, keepdim: bool):
    """``np.mean`` of a float32/float64 array without its Python dispatch, computed exactly as
    NumPy computes it (the sum, then a true division by the count as a NumPy ``intp``) so the
    result is bitwise the same; empty slices go to ``np.mean`` itself (its warning). On a
    device, ``xp.mean``."""
    if type(x) is not _ndarray:
        return get_array_module(x).mean(x, axis=axes, keepdims=keepdim)
    count = _count(x.shape, axes)
    if not count:
        return np.mean(x, axis=axes, keepdims=keepdim)
    rcount = _intp(count)
    total = _add_reduce(x, axes, None, None, keepdim)
    if type(total) is np.ndarray:
        return np.true_divide(total, rcount, out=total, casting="unsafe", subok=False)
    return total.dtype.type(total / rcount)


_add_reduce = np.add.reduce
_intp = np.intp
_ndarray = np.ndarray


def _require_float(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise LaminaTypeError(f"{name}() needs a floating-point tensor, got {x.dtype}; "
                              "convert it first with .float()")


def _check_nonempty(x: Tensor, axes, name: str) -> None:
    if x._data.size == 0 and _count(x.shape, axes) == 0:
        raise LaminaValueError(f"{name}(): cannot reduce over a dimension of size 0 "
                               f"(tensor of shape {x.shape}); the result has no identity value")


# --------------------------------------------------------------------------- sum, mean
class Sum(Function):
    """y = sum_{i in dim} x_i;  dy/dx_i = 1: dL/dy is copied to every summed entry."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return _sum(x, axes, keepdim, dtype)

    @staticmethod
    def backward(ctx, grad):
        return _spread(ctx, _restore(grad, ctx.shape, ctx.axes, ctx.keepdim), ctx.shape)


class Mean(Function):
    """y = (1/N) sum_{i in dim} x_i;  dy/dx_i = 1/N."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.dtype.char == "e":  # float16 accumulates in float32, as in PyTorch
            xp = get_array_module(x)
            return xp.asarray(xp.mean(x, axis=axes, keepdims=keepdim, dtype=np.float32)).astype(x.dtype)
        if x.dtype.kind != "f":
            return get_array_module(x).mean(x, axis=axes, keepdims=keepdim)
        return _mean(x, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = _restore(grad, ctx.shape, ctx.axes, ctx.keepdim) / _count(ctx.shape, ctx.axes)
        return _spread(ctx, g, ctx.shape)


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum over ``dim`` (all axes by default). Integer and bool tensors sum to int64, as in
    PyTorch; ``dtype`` converts before summing.

    >>> lm.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
    tensor([4., 6.])
    """
    axes = _axes(dim, x.ndim)
    if dtype is None and x._data.dtype.kind in "biu":
        dtype = int64
    dtype = None if dtype is None else np.dtype(dtype)
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=dtype)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Arithmetic mean over ``dim`` (all axes by default)."""
    _require_float(x, "mean")
    return Mean.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim)


# --------------------------------------------------------------------------- var, std
def _centred_sum_squares(x, axes, keepdim):
    """(x - mean, sum (x - mean)^2), accumulated in float64 as PyTorch's CPU kernels do, so
    float16 data and float32 values near 1e19 whose squares overflow their own type still
    give a finite variance; the centred values come back in ``x``'s dtype for backward."""
    xp = get_array_module(x)
    wide = x.astype(np.float64) if x.dtype.kind == "f" and x.dtype.itemsize < 8 else x
    centred = wide - xp.mean(wide, axis=axes, keepdims=True)
    ss = xp.sum(centred * centred, axis=axes, keepdims=keepdim)
    return centred.astype(x.dtype, copy=False), ss


class Var(Function):
    """v = (1/(N - c)) sum_i (x_i - mean)^2  (c the correction, 1 for the unbiased estimate);
    dv/dx_i = 2 (x_i - mean) / (N - c)  (the terms through the mean sum to zero)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        centred, ss = _centred_sum_squares(x, axes, keepdim)
        denom = builtins.max(_count(x.shape, axes) - correction, 0)
        if ctx.needs_input_grad:
            ctx.save(centred)
            ctx.shape, ctx.axes, ctx.keepdim, ctx.denom = x.shape, axes, keepdim, denom
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # host warnings only
            return get_array_module(x).asarray(ss / denom).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved
        scale = 2 / ctx.denom if ctx.denom else math.inf
        return (_restore(grad, ctx.shape, ctx.axes, ctx.keepdim) * scale) * centred


class Std(Function):
    """s = sqrt(v) with v the variance above;  ds/dx_i = (x_i - mean) / ((N - c) s),
    taken as 0 where s = 0 (a constant slice), as PyTorch does."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        centred, ss = _centred_sum_squares(x, axes, keepdim)
        denom = builtins.max(_count(x.shape, axes) - correction, 0)
        xp = get_array_module(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s = xp.asarray(xp.sqrt(ss / denom)).astype(x.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.save(centred, s)
            ctx.shape, ctx.axes, ctx.keepdim, ctx.denom = x.shape, axes, keepdim, denom
        return s

    @staticmethod
    def backward(ctx, grad):
        centred, s = ctx.saved
        g = _restore(grad, ctx.shape, ctx.axes, ctx.keepdim)
        s = _restore(s, ctx.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = get_array_module(s).where(s == 0, 0, g / (s * ctx.denom))
        return scale.astype(g.dtype, copy=False) * centred


def _correction(unbiased: bool, correction) -> float:
    return (1 if unbiased else 0) if correction is None else correction


def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False,
        correction=None) -> Tensor:
    """Variance over ``dim``: sum (x_i - mean)^2 / (N - correction); ``correction``
    (default 1, or 0 with ``unbiased=False``) is Bessel's correction."""
    _require_float(x, "var")
    return Var.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False,
        correction=None) -> Tensor:
    """Standard deviation over ``dim``: the square root of :func:`var`."""
    _require_float(x, "std")
    return Std.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


# --------------------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    """The lecture's log-sum-exp trick: log sum_j exp x_j = c + log sum_j exp(x_j - c) with
    c = max_j x_j (0 where that is infinite), so no exponential overflows;
    dy/dx_i = exp(x_i - y), the softmax of x.  A slice that is all -inf gives y = -inf and a
    zero gradient (PyTorch gives NaN there)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = get_array_module(x)
        m = xp.max(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):  # ln 0 = -inf for an all -inf slice
            y = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        if ctx.needs_input_grad:
            ctx.save(x, y)
            ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.reshape(_squeezed(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        xp = get_array_module(x)
        y = xp.where(y == -math.inf, 0, y).astype(x.dtype, copy=False)  # e^{-inf - 0} = 0
        g = grad if ctx.keepdim else grad.reshape(y.shape)
        return g * xp.exp(x - y)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """ln sum exp(x) over ``dim``, computed stably (finite for logits of +-1e4, -inf
    entries contribute nothing). Integer tensors are promoted to float32."""
    if x._data.dtype.kind != "f":
        x = Tensor._wrap(x._data.astype(float32))
    axes = _axes(dim, x.ndim)
    _check_nonempty(x, axes, "logsumexp")
    return LogSumExp.apply(x, axes=axes, keepdim=keepdim)


# --------------------------------------------------------------------------- prod
class Prod(Function):
    """y = prod_i x_i;  dy/dx_i = prod_{j != i} x_j, which is y / x_i when no x_j is zero and
    otherwise is computed from exclusive prefix and suffix products (exact with zeros)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        y = get_array_module(x).prod(x, axis=axes, keepdims=True, dtype=dtype)
        if ctx.needs_input_grad:
            ctx.save(x, y)
            ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.reshape(_squeezed(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        g = grad if ctx.keepdim else grad.reshape(y.shape)
        if not (x == 0).any():  # one device sync: the division is exact only without zeros
            return (g * y) / x
        return g * _others_product(x, ctx.axes)


def _others_product(x, axes):
    """prod_{j != i} x_j over the reduced axes, for every i, without dividing."""
    xp = get_array_module(x)
    axes = tuple(range(x.ndim)) if axes is None else axes
    k = len(axes)
    last = tuple(range(x.ndim - k, x.ndim))
    moved = xp.moveaxis(x, axes, last)
    lines = moved.reshape(moved.shape[:x.ndim - k] + (-1,))
    ones = xp.ones(lines.shape[:-1] + (1,), dtype=x.dtype)
    before = xp.cumprod(xp.concatenate([ones, lines[..., :-1]], axis=-1), axis=-1)
    after = xp.cumprod(xp.concatenate([ones, lines[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return xp.moveaxis((before * after).reshape(moved.shape), last, axes)


def prod(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (all axes by default); integer tensors give int64."""
    axes = _axes(dim, x.ndim)
    dtype = int64 if x._data.dtype.kind in "biu" else None
    return Prod.apply(x, axes=axes, keepdim=keepdim, dtype=dtype)


# --------------------------------------------------------------------------- norm
class Norm(Function):
    """||x||_p = (sum_i |x_i|^p)^(1/p) over dim;
    d||x||_p/dx_i = sign(x_i) |x_i|^(p-1) / ||x||_p^(p-1)   (x_i / ||x||_2 for p = 2),
    taken as 0 where the norm is 0.  p = 1 gives sign(x_i); p = +-inf gives sign(x_i)/k at
    the k entries of largest (smallest) |x_i|; p = 0 (the count of non-zeros) gives 0."""

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = get_array_module(x)
        if p == 2:
            y = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=True))
        elif p == 1:
            y = xp.sum(xp.abs(x), axis=axes, keepdims=True)
        elif p == 0:
            y = xp.sum(x != 0, axis=axes, keepdims=True, dtype=x.dtype)
        elif math.isinf(p):
            y = (xp.max if p > 0 else xp.min)(xp.abs(x), axis=axes, keepdims=True)
        else:
            y = xp.sum(xp.abs(x) ** p, axis=axes, keepdims=True) ** (1 / p)
        if ctx.needs_input_grad:
            ctx.save(x, y)
            ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y if keepdim else y.reshape(_squeezed(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        p = ctx.p
        xp = get_array_module(x)
        g = grad if ctx.keepdim else grad.reshape(y.shape)
        if p == 0:
            return xp.zeros_like(x)
        if p == 1:
            return g * xp.sign(x)
        if math.isinf(p):
            mask = xp.abs(x) == y
            ties = xp.sum(mask, axis=ctx.axes, keepdims=True, dtype=x.dtype)
            return xp.sign(x) * mask * (g / ties)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(y == 0, 0, g / (y if p == 2 else y ** (p - 1)))
        scale = scale.astype(x.dtype, copy=False)
        if p == 2:
            return x * scale
        return xp.sign(x) * xp.abs(x) ** (p - 1) * scale


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (all entries by default): p a number, +-inf, or
    'fro' (= 2), as ``torch.norm`` with a numeric p."""
    _require_float(input, "norm")
    if p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float, np.number)) or isinstance(p, bool):
        raise LaminaValueError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r} "
                               "(matrix norms such as 'nuc' are not provided)")
    axes = _axes(dim, input.ndim)
    if math.isinf(p):
        _check_nonempty(input, axes, "norm")
    return Norm.apply(input, p=float(p), axes=axes, keepdim=keepdim)

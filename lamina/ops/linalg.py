"""Matrix products: matmul (batched, broadcasting) and the fused affine map ``linear``.

For C = A B the chain rule gives dL/dA = dL/dC B^T and dL/dB = A^T dL/dC; with batch
dimensions these hold per matrix and broadcast batch axes are summed by the engine.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import DtypeMismatchError, ShapeError
from . import _workspace as workspace
from ._util import as_tensor, write_out

__all__ = ["matmul", "mm", "bmm", "linear", "dot"]


def _swap(x):
    return x.swapaxes(-1, -2)


class MatMul(Function):
    """C = A @ B;  dL/dA = dL/dC @ B^T,  dL/dB = A^T @ dL/dC (1-D operands as in NumPy)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return get_array_module(a, b).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        xp = get_array_module(a, b)
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # inner product: a scalar output
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a          # (1, k)
        b2 = b[:, None] if b.ndim == 1 else b          # (k, 1)
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            ga = xp.matmul(g, _swap(b2))
            if a.ndim == 1:
                ga = ga.reshape(-1, a.shape[0]).sum(axis=0) if ga.ndim > 2 else ga[0]
        if need_b:
            gb = xp.matmul(_swap(a2), g)
            if b.ndim == 1:
                gb = gb.reshape(-1, b.shape[0]).sum(axis=0) if gb.ndim > 2 else gb[:, 0]
        return ga, gb


class Linear(Function):
    """y = x W^T + b (PyTorch's layout: W is (out, in));
    dL/dx = dL/dy W,  dL/dW = dL/dy^T x (summed over batch axes),  dL/db = sum of dL/dy."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save(x, weight)
        y = _product(x, weight.T, x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        gx = _product(grad, weight, grad.shape[:-1] + (weight.shape[1],)) if needs[0] else None
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        gw = _product(g2.T, x if x.ndim == 2 else x.reshape(-1, x.shape[-1]),
                      weight.shape) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        if not needs[2]:
            return gx, gw, None
        if type(g2) is not np.ndarray:
            return gx, gw, g2.sum(axis=0)
        # np.add.reduce is np.sum without its Python-level dispatch (this runs every step)
        return gx, gw, np.add.reduce(g2, axis=0)


def _product(a, b, shape: tuple):
    """``a @ b`` (of the given result shape), a large result in a reused block (see
    :mod:`._workspace`); the same BLAS call either way."""
    if a.dtype is not b.dtype or type(a) is not np.ndarray or type(b) is not np.ndarray:
        return a @ b
    return np.matmul(a, b, out=workspace.empty(shape, a.dtype))


def matmul(a, b, out=None) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (1-D operands, broadcast batch dims)."""
    a = as_tensor(a)
    b = as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul needs operands with at least one dimension, got {a.shape} and {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                         f"(inner sizes {ka} and {kb} must be equal)")
    return write_out(out, MatMul.apply(a, b), "matmul")


def mm(a: Tensor, b: Tensor, out=None) -> Tensor:
    """Product of two matrices."""
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm expects two 2-D tensors, got {a.shape} and {b.shape}")
    return matmul(a, b, out=out)


def bmm(a: Tensor, b: Tensor, out=None) -> Tensor:
    """Batched product of (B, n, k) and (B, k, m)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm expects (B, n, k) and (B, k, m), got {a.shape} and {b.shape}")
    return matmul(a, b, out=out)


def dot(a: Tensor, b: Tensor, out=None) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot expects two 1-D tensors, got {a.shape} and {b.shape}")
    return matmul(a, b, out=out)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input W^T + b in one operation (PyTorch's ``F.linear``)."""
    x, w = input._data, weight._data  # (array facts: no Size objects on the hot path)
    in_features = w.shape[-1]
    if x.ndim == 0 or x.shape[-1] != in_features:
        raise ShapeError(f"linear: input has shape {input.shape}, expected (..., {in_features}) "
                         f"for a weight of shape {weight.shape}")
    if x.dtype is not w.dtype and x.dtype != w.dtype or (
            bias is not None and bias._data.dtype is not w.dtype and bias._data.dtype != w.dtype):
        raise DtypeMismatchError(
            f"linear: input ({input.dtype}), weight ({weight.dtype})"
            + ("" if bias is None else f" and bias ({bias.dtype})")
            + " must have the same dtype; convert the input, e.g. x.float() for a float32 model")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)

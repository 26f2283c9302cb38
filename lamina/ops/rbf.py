"""The Gaussian radial-basis kernel Phi_ij = exp(-beta ||x_i - c_j||^2) of inputs x_i and
centres c_j, the operation behind ``nn.RBF`` (Dehaqani's RBF units).

For a batch X (N, D) and centres C (M, D) all the squared distances come from one matrix
product, Z = ||x||^2 1^T - 2 X C^T + 1 ||c||^2^T, clamped at 0 against rounding. With
G = dL/dZ = -beta Phi * dL/dPhi (0 where the clamp was active):

    dL/dX = 2 (rowsum(G) * X - G C),   dL/dC = 2 (colsum(G) * C - G^T X),
    dL/dbeta = -sum(dL/dPhi * Phi * Z).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import ShapeError

__all__ = ["rbf"]


class GaussianRBF(Function):
    """Phi = exp(-beta Z), Z_ij = max(||x_i||^2 - 2 x_i.c_j + ||c_j||^2, 0); gradients in the
    module docstring (G = -beta Phi dL/dPhi, zero where Z was clamped)."""

    @staticmethod
    def forward(ctx, x, centers, beta):
        xp = get_array_module(x)
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        z = x2 @ centers.T
        z *= -2
        z += xp.einsum("nd,nd->n", x2, x2)[:, None]
        z += xp.einsum("md,md->m", centers, centers)[None, :]
        clamped = z < 0
        xp.maximum(z, 0, out=z)
        phi = xp.exp(-beta * z)
        ctx.save(x, centers, beta, z, phi, clamped if clamped.any() else None)
        return phi.reshape(lead + (centers.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, centers, beta, z, phi, clamped = ctx.saved
        x2 = x.reshape(-1, x.shape[-1])
        need_x, need_c, need_beta = ctx.needs_input_grad
        grad = grad.reshape(phi.shape)
        gphi = grad * phi
        gx = gc = gb = None
        if need_beta:
            gb = get_array_module(phi).asarray(-(gphi * z).sum(), dtype=phi.dtype)
        if need_x or need_c:
            g = gphi
            g *= -beta                    # dL/dZ; gphi is not needed any more
            if clamped is not None:
                g[clamped] = 0
            if need_x:
                gx = 2 * (g.sum(axis=1, keepdims=True) * x2 - g @ centers)
                gx = gx.reshape(x.shape)
            if need_c:
                gc = 2 * (g.sum(axis=0)[:, None] * centers - g.T @ x2)
        return gx, gc, gb


def rbf(input: Tensor, centers: Tensor, beta) -> Tensor:
    """Gaussian radial-basis responses exp(-beta ||x - c_j||^2) of every input row x
    (shape (..., D)) to every centre c_j (``centers`` of shape (M, D)): shape (..., M).
    ``beta`` is a number or a 0-d tensor (differentiable)."""
    if centers.ndim != 2:
        raise ShapeError(f"rbf: centers must be (out_features, in_features), got shape {tuple(centers.shape)}")
    if input.ndim == 0 or input.shape[-1] != centers.shape[1]:
        raise ShapeError(f"rbf: input has shape {tuple(input.shape)}, expected (..., {centers.shape[1]}) "
                         f"for centers of shape {tuple(centers.shape)}")
    if not isinstance(beta, Tensor):
        beta = Tensor._wrap(get_array_module(input._data).asarray(beta, dtype=input.dtype))
    if beta.numel() != 1:
        raise ShapeError(f"rbf: beta must be a single number, got shape {tuple(beta.shape)}")
    return GaussianRBF.apply(input, centers, beta)

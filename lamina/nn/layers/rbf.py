"""``RBF``: a layer of Gaussian radial-basis-function units with trainable centres.

Lecture 003's "Brief segue: RBF networks": instead of a perceptron's linear response
w^T x + b, an RBF unit responds to the distance of the input from its "center",

    phi_j(x) = f(z_j) = exp(-beta z_j),   z_j = ||x - c_j||^2,

"the center is the parameter specifying the unit", beta is a bandwidth parameter, and "the
key aspect is radial symmetry, instead of linear symmetry". One such unit makes the
"cylinder" that a perceptron network needs many units for, which is why RBF networks are
effective approximators of continuous functions. A linear layer on top of ``RBF`` gives the
classical RBF network f(x) = sum_j w_j phi_j(x) + b.

For a batch X (N, D) and centres C (M, D) all the squared distances come from one matrix
product, Z = ||x||^2 1^T - 2 X C^T + 1 ||c||^2^T, clamped at 0 against rounding. With
G = dL/dZ = -beta Phi * dL/dPhi (0 where the clamp was active):

    dL/dX = 2 (rowsum(G) * X - G C),   dL/dC = 2 (colsum(G) * C - G^T X),
    dL/dbeta = -sum(dL/dPhi * Phi * Z).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...errors import LaminaValueError, ShapeError
from ...random import generator
from ..module import Module, Parameter

__all__ = ["RBF", "rbf"]


class GaussianRBF(Function):
    """Phi = exp(-beta Z), Z_ij = max(||x_i||^2 - 2 x_i.c_j + ||c_j||^2, 0); gradients in the
    module docstring (G = -beta Phi dL/dPhi, zero where Z was clamped)."""

    @staticmethod
    def forward(ctx, x, centers, beta):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        z = x2 @ centers.T
        z *= -2
        z += np.einsum("nd,nd->n", x2, x2)[:, None]
        z += np.einsum("md,md->m", centers, centers)[None, :]
        clamped = z < 0
        np.maximum(z, 0, out=z)
        phi = np.exp(-beta * z)
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
            gb = np.asarray(-np.sum(gphi * z), dtype=phi.dtype)
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
        beta = Tensor._wrap(np.asarray(beta, dtype=input.dtype))
    if beta.numel() != 1:
        raise ShapeError(f"rbf: beta must be a single number, got shape {tuple(beta.shape)}")
    return GaussianRBF.apply(input, centers, beta)


class RBF(Module):
    """A layer of ``out_features`` Gaussian RBF units on ``in_features`` inputs:
    ``forward(x)[..., j] = exp(-beta ||x - c_j||^2)`` (lecture 003, "RBF networks").

    Parameters: ``centers`` (out_features, in_features), initialised N(0, 1); ``beta`` is a
    0-d Parameter when ``trainable_beta`` (the bandwidth is then learned too), otherwise a
    fixed number. Follow it with ``nn.Linear(out_features, k)`` for a classical RBF network.

    >>> layer = nn.RBF(2, 10, beta=0.5)
    >>> layer(lm.randn(4, 2)).shape
    (4, 10)
    """

    def __init__(self, in_features: int, out_features: int, beta: float = 1.0,
                 trainable_beta: bool = False, dtype=np.float32) -> None:
        super().__init__()
        for value, name in ((in_features, "in_features"), (out_features, "out_features")):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise LaminaValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(beta, (int, float, np.number)) and math.isfinite(beta) and beta > 0):
            raise LaminaValueError(f"beta (the bandwidth) must be a positive number, got {beta!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.trainable_beta = bool(trainable_beta)
        self.centers = Parameter(generator().standard_normal(
            (self.out_features, self.in_features)).astype(dtype))
        if self.trainable_beta:
            self.beta = Parameter(np.array(beta, dtype))
        else:
            self.beta = float(beta)

    def reset_parameters(self) -> None:
        """Draw the centres again from N(0, 1)."""
        self.centers._data[...] = generator().standard_normal(self.centers.shape)
        self.centers._version += 1

    def forward(self, input: Tensor) -> Tensor:
        return rbf(input, self.centers, self.beta)

    def extra_repr(self) -> str:
        beta = float(self.beta._data) if self.trainable_beta else self.beta
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"beta={beta}, trainable_beta={self.trainable_beta}")

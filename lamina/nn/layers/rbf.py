"""``RBF``: a layer of Gaussian radial-basis-function units with trainable centres.

Dehaqani's "Brief segue: RBF networks": instead of a perceptron's linear response
w^T x + b, an RBF unit responds to the distance of the input from its "center",

    phi_j(x) = f(z_j) = exp(-beta z_j),   z_j = ||x - c_j||^2,

"the center is the parameter specifying the unit", beta is a bandwidth parameter, and "the
key aspect is radial symmetry, instead of linear symmetry". One such unit makes the
"cylinder" that a perceptron network needs many units for, which is why RBF networks are
effective approximators of continuous functions. A linear layer on top of ``RBF`` gives the
classical RBF network f(x) = sum_j w_j phi_j(x) + b.

The responses and their gradients are computed by :func:`lamina.ops.rbf.rbf`.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError
from ...ops.rbf import rbf
from ...backend import on_device_of
from ...random import generator
from ..module import Module, Parameter
from ..parameter import parameter_dtype

__all__ = ["RBF", "rbf"]


class RBF(Module):
    """A layer of ``out_features`` Gaussian RBF units on ``in_features`` inputs:
    ``forward(x)[..., j] = exp(-beta ||x - c_j||^2)`` (Dehaqani, Introduction to Neural Networks, "RBF networks").

    Parameters: ``centers`` (out_features, in_features), initialised N(0, 1); ``beta`` is a
    0-d Parameter when ``trainable_beta`` (the bandwidth is then learned too), otherwise a
    fixed number. Follow it with ``nn.Linear(out_features, k)`` for a classical RBF network.

    >>> layer = nn.RBF(2, 10, beta=0.5)
    >>> layer(lm.randn(4, 2)).shape
    (4, 10)
    """

    def __init__(self, in_features: int, out_features: int, beta: float = 1.0,
                 trainable_beta: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        dtype = parameter_dtype(device, dtype)
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
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw the centres again from N(0, 1)."""
        c = self.centers._data
        c[...] = on_device_of(generator().standard_normal(c.shape).astype(c.dtype), c)
        self.centers._version += 1

    def forward(self, input: Tensor) -> Tensor:
        return rbf(input, self.centers, self.beta)

    def extra_repr(self) -> str:
        beta = float(self.beta._data) if self.trainable_beta else self.beta
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"beta={beta}, trainable_beta={self.trainable_beta}")

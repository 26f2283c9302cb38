"""Activation modules: the non-linearities ``f`` of Grohs's neurons ``y = f(w^T x + b)``.

Each module wraps the function of the same name in :mod:`lamina.ops.activation` and has
PyTorch's constructor arguments and repr. ``inplace=True`` is accepted for source
compatibility; the result is computed out of place (an in-place overwrite would destroy
the values backward needs), so use the returned tensor, as PyTorch code does.
``Heaviside`` (the McCulloch-Pitts step unit) is a lamina extra: PyTorch has only the
function ``torch.heaviside``.
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import activation as A
from ...ops.softmax import log_softmax, softmax
from ..module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "Softplus", "LeakyReLU", "ELU", "GELU", "SiLU",
           "Heaviside", "Softmax", "LogSoftmax", "LogSigmoid", "Hardtanh"]


def _inplace(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class ReLU(Module):
    """``ReLU(x) = max(0, x)`` elementwise; derivative 1 for x > 0 and 0 otherwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.relu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace, first=True)


class Sigmoid(Module):
    """``sigma(x) = 1 / (1 + e^{-x})``; derivative ``sigma(x) (1 - sigma(x))``."""

    def forward(self, input: Tensor) -> Tensor:
        return A.sigmoid(input)


class Tanh(Module):
    """``tanh(x)``; derivative ``1 - tanh(x)^2``."""

    def forward(self, input: Tensor) -> Tensor:
        return A.tanh(input)


class LogSigmoid(Module):
    """``log sigma(x) = -softplus(-x)``, computed without overflow."""

    def forward(self, input: Tensor) -> Tensor:
        return A.logsigmoid(input)


class Softplus(Module):
    """``(1 / beta) log(1 + e^{beta x})``, a smooth ReLU; linear where ``beta x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LeakyReLU(Module):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (a non-zero gradient everywhere)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace)


class ELU(Module):
    """``x`` for x > 0, ``alpha (e^x - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace)


class GELU(Module):
    """``x Phi(x)`` with Phi the standard normal CDF (``approximate='tanh'``: its tanh form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return A.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU (swish): ``x sigma(x)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.silu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace, first=True)


class Hardtanh(Module):
    """``min(max(x, min_val), max_val)``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace)


class Heaviside(Module):
    """The step unit of the McCulloch-Pitts neuron and the perceptron: 1 for x >= 0, else 0
    (with ``values``: ``values`` at x == 0, as ``torch.heaviside``). Its gradient is zero
    everywhere, which is why networks trained by backpropagation use smooth units instead."""

    def __init__(self, values: float | None = None) -> None:
        super().__init__()
        self.values = values

    def forward(self, input: Tensor) -> Tensor:
        return A.heaviside(input, self.values)

    def extra_repr(self) -> str:
        return "" if self.values is None else f"values={self.values}"


class Softmax(Module):
    """``y_i = e^{x_i} / sum_j e^{x_j}`` along ``dim`` (lamina requires ``dim``; it does not
    guess it as old PyTorch did)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``y_i = x_i - log sum_j e^{x_j}`` along ``dim``, by the log-sum-exp trick (Schwing & Telgarsky, Deep Neural Networks:
    "Don't try without, it will fail!"); pair it with ``NLLLoss``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

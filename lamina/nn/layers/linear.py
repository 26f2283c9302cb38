"""The fully connected layer ``Linear``: the affine map ``y = x W^T + b`` of Schwing & Telgarsky, Deep Neural Networks.

The weight has PyTorch's layout (out_features, in_features), so a state dict moves between
lamina and PyTorch unchanged; the default initialisation is PyTorch's,
``Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for both the weight and the bias (the lecture's
"random uniform" rule).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError
from ...ops.linalg import linear
from .. import init
from ..module import Module, Parameter
from ..parameter import parameter_dtype

__all__ = ["Linear"]


def _check_size(value, name: str, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        raise LaminaValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                               f"integer, got {value!r}")
    return int(value)


class Linear(Module):
    """``y = x W^T + b`` over the last axis of ``x``: (*, in_features) -> (*, out_features).

    Attributes ``weight`` (out_features, in_features) and ``bias`` (out_features,) or None,
    both drawn from ``Uniform(-1/sqrt(in_features), 1/sqrt(in_features))``.

    >>> fc = nn.Linear(784, 100)
    >>> fc(lm.randn(32, 784)).shape
    (32, 100)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = _check_size(in_features, "in_features")
        self.out_features = _check_size(out_features, "out_features")
        dtype = parameter_dtype(device, dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, i.e. a bound of
        1/sqrt(fan_in), and the same bound for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

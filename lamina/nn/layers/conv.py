"""The 2-D convolution layer ``Conv2d`` (PyTorch's constructor, attributes and layout).

Each output map is a learned filter slid over the input (Dehaqani's convolutional layer):
``y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] x[n, c, s i + d u - p, s j + d v - p]``
with stride ``s``, dilation ``d`` and padding ``p``. The weight has shape
(out_channels, in_channels / groups, kh, kw) as in PyTorch, and the default initialisation
is PyTorch's: ``Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with
``fan_in = in_channels / groups * kh * kw``, for the weight and the bias.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError, ShapeError
from ...ops.conv import conv2d
from ...ops.padding import pad
from .. import init
from ..module import Module, Parameter
from ..parameter import parameter_dtype
from .linear import _check_size

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                             or v < minimum for v in pair):
        raise LaminaValueError(f"{name} must be an integer >= {minimum} or a pair of them, "
                               f"got {value!r}")
    return int(pair[0]), int(pair[1])


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W) inputs giving (N, C_out, H_out, W_out), with
    ``H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1`` (and the same for W).

    Args follow PyTorch: ``kernel_size``, ``stride``, ``padding`` (ints or pairs, or the
    strings 'valid' and 'same'), ``dilation``, ``groups``, ``bias``, ``padding_mode``
    ('zeros', 'reflect', 'replicate' or 'circular').

    >>> conv = nn.Conv2d(1, 6, 5)          # LeNet's first layer
    >>> conv(lm.randn(8, 1, 32, 32)).shape
    (8, 6, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in_channels = _check_size(in_channels, "in_channels", allow_zero=False)
        self.out_channels = _check_size(out_channels, "out_channels", allow_zero=False)
        self.groups = _check_size(groups, "groups", allow_zero=False)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise LaminaValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                                   f"must both be divisible by groups ({groups})")
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.dilation = _pair(dilation, "dilation", 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise LaminaValueError(f"padding {padding!r} is not supported (expected 'valid', "
                                       "'same', an integer or a pair)")
            if padding == "same" and self.stride != (1, 1):
                raise LaminaValueError("padding='same' is not supported for strided convolutions "
                                       f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", 0)
        if padding_mode not in _PADDING_MODES:
            raise LaminaValueError(f"padding_mode {padding_mode!r} is not supported (expected one "
                                   f"of {', '.join(_PADDING_MODES)})")
        self.padding_mode = padding_mode
        self.output_padding = (0, 0)
        self.transposed = False
        # Per side (left, right, top, bottom) as F.pad takes it, for the non-zero padding
        # modes ('same' may be asymmetric); PyTorch keeps the same attribute.
        if self.padding == "same":
            sides = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                sides += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = tuple(sides)
        elif self.padding == "valid":
            self._reversed_padding_repeated_twice = (0, 0, 0, 0)
        else:
            ph, pw = self.padding
            self._reversed_padding_repeated_twice = (pw, pw, ph, ph)
        dtype = parameter_dtype(device, dtype)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias from ``Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input: Tensor) -> None:
        if not isinstance(input, Tensor) or input.ndim != 4 or input.shape[1] != self.in_channels:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ShapeError(f"{self._get_name()}: expected input of shape (N, C, H, W) with "
                             f"C={self.in_channels}, got {got}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        return conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

"""Pooling layers: ``MaxPool2d``, ``AvgPool2d`` and ``AdaptiveAvgPool2d`` (PyTorch's API).

Pooling summarises each window of a feature map by its maximum or mean (Dehaqani, Introduction to Neural Networks), which
shrinks the map and makes the features tolerant to small shifts. The layers hold no
parameters; they store their arguments as given (``kernel_size=2`` stays 2, as in PyTorch's
repr) and call :mod:`lamina.ops.pooling` and :mod:`lamina.ops.adaptive_pooling`.
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops.adaptive_pooling import adaptive_avg_pool2d, adaptive_max_pool2d
from ...ops.pooling import avg_pool2d, max_pool2d
from ..module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]


class MaxPool2d(Module):
    """``y[n, c, i, j] = max over the window (i, j) of x[n, c, ...]``; the gradient flows to
    the arg-max of each window. ``stride`` defaults to ``kernel_size``.

    >>> nn.MaxPool2d(2)(lm.randn(1, 6, 28, 28)).shape
    (1, 6, 14, 14)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """``y[n, c, i, j] = mean over the window (i, j) of x[n, c, ...]``; each input of a
    window receives ``1 / (window size)`` of its output's gradient."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, a pair, or None in a position to
    keep that size), whatever the input size: window ``i`` covers rows
    ``floor(i H / H_out)`` to ``ceil((i + 1) H / H_out)``."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size`` over the same windows as
    :class:`AdaptiveAvgPool2d`; ``return_indices`` also returns the positions of the maxima."""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

"""Moving a tensor between devices: ``x.to("cuda")``, ``x.cuda()``, ``x.cpu()``.

y = x copied to another device; dy/dx = 1, so the gradient is copied back to the device x
came from (PyTorch's ``ToCopyBackward0``). A tensor already on the target device is returned
itself, as in PyTorch.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import check_device, device_of, to_device

__all__ = ["to_device_tensor"]


class ToDevice(Function):
    """y = x on device ``target``;  dL/dx = dL/dy copied back to x's device."""

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = device_of(x)
        return to_device(x, target)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.source)


def to_device_tensor(x: Tensor, target) -> Tensor:
    """``x`` on device ``target`` (itself when already there)."""
    d = check_device(target)
    if x.device == d:
        return x
    return ToDevice.apply(x, target=d)

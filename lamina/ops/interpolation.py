"""Linear interpolation between two tensors: ``lerp(input, end, weight)``."""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaTypeError
from ._promotion import require_floating
from ._util import as_tensor

__all__ = ["lerp"]


class Lerp(Function):
    """z = a + w (b - a);  dz/da = 1 - w, dz/db = w, dz/dw = b - a.

    Evaluated as b - (b - a)(1 - w) where |w| >= 1/2 (as PyTorch), so that z is exactly b
    at w = 1 and the rounding error stays small at both ends."""

    @staticmethod
    def forward(ctx, a, b, w):
        xp = get_array_module(a, b, w)
        d = b - a
        z = xp.where(xp.abs(w) < 0.5, a + w * d, b - d * (1 - w))
        ctx.save(a, b, w)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, w = ctx.saved
        need_a, need_b, need_w = ctx.needs_input_grad
        return (grad * (1 - w) if need_a else None,
                grad * w if need_b else None,
                grad * (b - a) if need_w else None)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input), broadcasting all three; ``weight`` is a number or a
    tensor. ``input``, ``end`` and a tensor ``weight`` share one floating dtype, as in
    PyTorch.

    >>> lm.lerp(lm.tensor([0.0, 10.0]), lm.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise LaminaTypeError(f"lerp: input and end must be tensors, got "
                              f"{type(input).__name__} and {type(end).__name__}")
    require_floating("lerp", input)
    w = as_tensor(weight, input)       # a number takes input's dtype
    for name, t in (("end", end), ("weight", w)):
        if t._data.dtype != input._data.dtype:
            raise LaminaTypeError(f"lerp: expected dtype {input._data.dtype} for {name}, got "
                                  f"{t._data.dtype}")
    return Lerp.apply(input, end, w)

"""Shape modules: ``Identity``, ``Flatten`` and ``Unflatten`` (PyTorch's API).

``Flatten`` is the hinge between the convolutional and the fully connected part of a
network such as LeNet: (N, C, H, W) -> (N, C H W).
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...errors import LaminaTypeError, ShapeError
from ...ops.shape import flatten, reshape
from ...ops._util import normalize_dim
from ..module import Module

__all__ = ["Identity", "Flatten", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored (a placeholder
    when a layer is switched off, e.g. replacing a classifier head)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merge the axes ``start_dim .. end_dim`` into one: (N, C, H, W) -> (N, C H W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: ``Unflatten(1, (16, 5, 5))`` turns
    (N, 400) into (N, 16, 5, 5). One entry of the size may be -1."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise LaminaTypeError(f"unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        dim = normalize_dim(self.dim, input.ndim)
        sizes = tuple(self.unflattened_size)
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        n = input.shape[dim]
        if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
            raise ShapeError(f"Unflatten: axis {self.dim} of size {n} cannot be split into "
                             f"{sizes} (input shape {tuple(input.shape)})")
        return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

"""``lamina.Size``: the shape of a tensor, a tuple that prints as PyTorch's ``torch.Size``."""
from __future__ import annotations

__all__ = ["Size"]


class Size(tuple):
    """A tensor's shape: a tuple of ints (``x.size() == (4, 4)`` holds) printed as
    ``lamina.Size([4, 4])``; ``numel()`` is the product of the extents."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"lamina.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for extent in self:
            n *= extent
        return n

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

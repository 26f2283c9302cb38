"""PyTorch's second names for arithmetic defined in :mod:`lamina.ops.arithmetic`
(``torch.negative`` is ``torch.neg``, ``torch.true_divide`` is ``torch.div``). The
trigonometric ``arc*`` names and ``fix`` live beside their operations."""
from __future__ import annotations

from .arithmetic import div, neg

__all__ = ["negative", "true_divide"]

negative = neg
true_divide = div

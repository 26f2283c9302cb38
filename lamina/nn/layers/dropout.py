"""Dropout layers: ``Dropout`` (element-wise) and ``Dropout1d``/``Dropout2d`` (whole channels).

The lecture's dropout (Grohs, Introduction to (Convolutional) Neural Networks): "During each feedforward/backprop step drop nodes with
probability p. After training, multiply all weights with p. Final output is 'average' over
many sparse network models." lamina, like PyTorch, uses *inverted* dropout: the kept units
are scaled by ``1 / (1 - p)`` during training and nothing is done at test time. Both give
the same expected activation, E[y] = x; the scaling just moves from test time to training
time, so a trained model needs no rescaling of its weights before it is used. (In the
lecture's wording the factor applied after training is the probability of *keeping* a node,
``1 - p`` in PyTorch's convention where ``p`` is the probability of dropping it.)
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops.dropout import _check_p, dropout, dropout1d, dropout2d
from ..module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: in training mode every element is zeroed with probability ``p`` and
    the kept ones are multiplied by ``1 / (1 - p)``; in evaluation mode (``model.eval()``) the
    layer is the identity and returns its input unchanged.

    This is the lecture's "drop nodes with probability p, after training multiply all weights
    with p" model, with the rescaling done at training time instead of test time (see the
    module docstring). It has no trainable parameters. Masks come from lamina's global
    generator, so ``lm.manual_seed`` makes them reproducible.

    >>> drop = nn.Dropout(p=0.2)
    >>> y = drop(x)          # training: about 20% zeros, the rest x / 0.8
    >>> drop.eval(); drop(x) is x
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Channel dropout for (N, C, L) or (C, L) inputs: each channel of each sample is zeroed
    with probability ``p`` (kept channels scaled by ``1 / (1 - p)``); identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Channel (spatial) dropout for (N, C, H, W) or (C, H, W) inputs: each feature map is
    zeroed with probability ``p`` (kept maps scaled by ``1 / (1 - p)``); identity in eval.
    Useful after convolutions, where neighbouring pixels are correlated and element-wise
    dropout removes little information."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)

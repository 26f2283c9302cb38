"""``Embedding``: a lookup table of learned vectors, one row per token id.

An embedding is a linear layer applied to one-hot inputs: with e_i the one-hot vector of id
i, ``embedding(i) = W^T e_i = W[i]``. Looking the row up directly costs nothing per unused
id. The gradient of row j is the sum of the output gradients of every position holding j:

    dL/dW[j] = sum over positions p with input[p] = j of dL/dy[p],

and the row ``padding_idx`` (if any) receives no gradient, so it stays at its value (zero
after initialisation). The lookup is the operation :func:`lamina.ops.indexing.embedding`.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError, ShapeError
from ...ops.indexing import _normalize_padding_idx, embedding
from ...backend import on_device_of
from ...random import generator
from ..module import Module, Parameter
from ..parameter import parameter_dtype

__all__ = ["Embedding", "embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim`` (parameter
    ``weight``, initialised N(0, 1) as in PyTorch); ``forward(ids)`` returns ``weight[ids]``.

    With ``padding_idx`` that row is initialised to zeros and receives no gradient, so a
    padding token maps to a fixed zero vector.

    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(lm.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight: Tensor | None = None, _freeze: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        dtype = parameter_dtype(device, dtype)
        for value, name in ((num_embeddings, "num_embeddings"), (embedding_dim, "embedding_dim")):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise LaminaValueError(f"{name} must be a positive integer, got {value!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = _normalize_padding_idx(padding_idx, self.num_embeddings)
        if _weight is None:
            self.weight = Parameter(generator().standard_normal(
                (self.num_embeddings, self.embedding_dim)).astype(dtype), requires_grad=not _freeze)
            self._fill_padding_idx_with_zero()
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"_weight has shape {tuple(_weight.shape)}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw the weight again from N(0, 1), the padding row zero."""
        w = self.weight._data
        w[...] = on_device_of(generator().standard_normal(w.shape).astype(w.dtype), w)
        self.weight._version += 1
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (shared, 2-D), frozen by default."""
        if embeddings.ndim != 2:
            raise ShapeError(f"embeddings must be 2-D, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"

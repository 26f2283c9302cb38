"""PyTorch's ``torch.nn.functional`` for lamina: ``import lamina.nn.functional as F``.

The functions are the operations of :mod:`lamina.ops` under PyTorch's names and argument
orders, so lecture code such as ``F.max_pool2d(F.relu(self.conv1(x)), (2, 2))`` runs
unchanged. ``inplace=True`` is accepted where PyTorch has it and the result is computed out
of place (use the returned tensor, as PyTorch code does). Lamina extras: ``heaviside``
(the McCulloch-Pitts step unit), ``quadratic_loss`` (the lectures' quadratic cost) and
``smooth_structured_hinge_loss`` (Schwing & Telgarsky's epsilon-smoothed structured hinge).
"""
from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import activation as _activation
from ..ops.activation import gelu, heaviside, logsigmoid, sigmoid, softplus, tanh
from ..ops.adaptive_pooling import adaptive_avg_pool2d, adaptive_max_pool2d
from ..ops.arithmetic import neg as _neg
from ..ops.binary_loss import binary_cross_entropy, binary_cross_entropy_with_logits
from ..ops.classification_loss import cross_entropy, nll_loss, one_hot
from ..ops.conv import conv2d
from ..ops.dropout import dropout, dropout1d, dropout2d
from ..ops.indexing import embedding
from ..ops.linalg import linear
from ..ops.margin_loss import (hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                               multilabel_margin_loss, smooth_structured_hinge_loss,
                               soft_margin_loss)
from ..ops.normalization import batch_norm, layer_norm
from ..ops.padding import pad
from ..ops.pooling import avg_pool2d, max_pool2d
from ..ops.regression_loss import huber_loss, kl_div, l1_loss, mse_loss, quadratic_loss, smooth_l1_loss
from ..ops.softmax import log_softmax, softmax

__all__ = ["sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "softplus", "gelu", "silu",
           "hardtanh", "heaviside", "softmax", "softmin", "log_softmax", "logsigmoid", "linear",
           "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "dropout", "dropout1d", "dropout2d", "batch_norm", "layer_norm", "pad", "embedding",
           "one_hot", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "quadratic_loss", "multi_margin_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_margin_loss", "margin_ranking_loss", "smooth_structured_hinge_loss"]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(0, x) elementwise."""
    return _activation.relu(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6) elementwise."""
    return _activation.hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return _activation.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha (e^x - 1)`` otherwise."""
    return _activation.elu(input, alpha)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish): x sigma(x)."""
    return _activation.silu(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val)."""
    return _activation.hardtanh(input, min_val, max_val)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``: y_i = e^{-x_i} / sum_j e^{-x_j}."""
    return softmax(_neg(input), dim, dtype=dtype)

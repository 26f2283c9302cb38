"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``.

The lecture lists "Batch-Normalization during training: normalizes data when training really
deep nets; normalize by subtracting mean and dividing by standard deviation" among the
algorithmic advances behind deep learning. During training a batch-norm layer normalises
every channel with the mean and variance of the current minibatch and keeps exponential
running averages of them; in evaluation it uses those running averages, so a single sample
gives a deterministic output. The mathematics and the gradient are in
:mod:`lamina.ops.normalization`.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError, ShapeError
from ...ops.normalization import batch_norm, layer_norm
from ..module import Module, Parameter
from ..parameter import parameter_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    """Shared machinery of the batch-norm layers (PyTorch's ``_BatchNorm``)."""

    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        dtype = parameter_dtype(device, dtype)
        if not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise LaminaValueError(f"num_features must be a positive integer, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise LaminaValueError(f"momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            for buf, value in ((self.running_mean, 0), (self.running_var, 1),
                               (self.num_batches_tracked, 0)):
                buf._data[...] = value
                buf._version += 1

    def reset_parameters(self) -> None:
        """Reset the running statistics and set gamma = 1, beta = 0."""
        self.reset_running_stats()
        if self.affine:
            for p, value in ((self.weight, 1), (self.bias, 0)):
                p._data[...] = value
                p._version += 1

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ShapeError(f"{type(self).__name__} expected {want} input (got {input.ndim}D input "
                             f"of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) got an input with "
                             f"{input.shape[1]} channels (shape {tuple(input.shape)}); expected "
                             f"{self.num_features} in dimension 1")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            if input.numel() // input.shape[1] > 1:   # a failing batch leaves the count as it was
                self.num_batches_tracked._data += 1
                self.num_batches_tracked._version += 1
            if self.momentum is None:
                # Cumulative moving average: after k batches the running value is their mean.
                factor = 1.0 / max(int(self.num_batches_tracked._data), 1)
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per feature C:
    y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta (PyTorch's ``nn.BatchNorm1d``).

    Parameters ``weight`` (gamma, init 1) and ``bias`` (beta, init 0) when ``affine``;
    buffers ``running_mean`` (init 0), ``running_var`` (init 1) and ``num_batches_tracked``
    (int64) when ``track_running_stats``. In training the running statistics are updated as
    ``running = (1 - momentum) running + momentum batch_stat`` (unbiased batch variance);
    ``momentum=None`` gives the cumulative average over all batches seen.
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over N, H and W, per channel C (PyTorch's
    ``nn.BatchNorm2d``); parameters, buffers and momentum as in :class:`BatchNorm1d`."""

    _dims = (4,)


class LayerNorm(Module):
    """Normalise every sample over its trailing ``normalized_shape`` axes and apply an
    element-wise affine map: y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias (PyTorch's
    ``nn.LayerNorm``; statistics per sample, so training and evaluation agree)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        dtype = parameter_dtype(device, dtype)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")

"""Dropout: randomly zero units during training (inverted scaling).

During training each unit is kept with probability ``1 - p`` and dropped (set to 0) with
probability ``p``; kept units are scaled by ``1 / (1 - p)`` so that the expected value of
every unit is unchanged, E[y] = x. At evaluation time dropout is the identity. With the
Bernoulli mask m (m_i = 1 / (1 - p) if kept, 0 if dropped), y = m * x and dL/dx = m * dL/dy.

``dropout2d`` (PyTorch's channel dropout) draws one mask value per (sample, channel) and
zeroes whole feature maps; the mask broadcasts over the spatial axes.

Masks are drawn through :func:`lamina.backend.uniform` from :func:`lamina.random.generator`,
on the input's device (a CUDA input gets a mask drawn on its device), so ``lm.manual_seed``
makes them reproducible on either.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..autograd.tensor import Tensor
from ..backend import get_array_module, uniform
from ..errors import InplaceError, LaminaTypeError, LaminaValueError, ShapeError
from ..random import generator

__all__ = ["dropout", "dropout1d", "dropout2d"]


class Dropout(Function):
    """y = m * x with m_i = Bernoulli(1 - p) / (1 - p), broadcast from ``mask_shape``;
    dL/dx = m * dL/dy (the scaled mask is stored once, in the input's dtype)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape, inplace=False):
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        if p == 1.0:
            # Every unit dropped: zeros, never 0 * inf = NaN.
            mask = xp.zeros(mask_shape, dtype)
        else:
            draws = uniform(mask_shape, np.float32, like=x, generator=generator())
            mask = (draws >= np.float32(p)).astype(dtype)
            mask *= dtype.type(1.0 / (1.0 - p))
        ctx.save(mask)
        if inplace:
            xp.multiply(x, mask, out=x)
            return x
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return grad * mask


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise LaminaTypeError(f"dropout probability p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise LaminaValueError(f"dropout probability has to be between 0 and 1, but got p={p}")
    return float(p)


def _apply(input: Tensor, p: float, mask_shape: tuple, inplace: bool) -> Tensor:
    if not inplace:
        return Dropout.apply(input, p=p, mask_shape=mask_shape)
    recording = _state.enabled and input.requires_grad
    if recording and input.is_leaf:
        raise InplaceError("dropout(inplace=True): a leaf tensor that requires grad cannot be "
                           "modified in place; use inplace=False")
    out = Dropout.apply(input, p=p, mask_shape=mask_shape, inplace=True)
    # The input's array now holds the output: as PyTorch does, the input tensor becomes the
    # output (its graph edge is rebased) and its version moves on, so any node that saved
    # the old values raises instead of using the overwritten ones.
    input._version += 1
    if recording:
        input._node = out._node
        input._out_index = 0
    return input


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout (PyTorch's ``F.dropout``): zero each element with probability ``p``
    and scale the kept ones by ``1 / (1 - p)``; the identity (the input itself) when not
    ``training``. ``p = 1`` gives zeros.

    >>> y = lm.dropout(lm.ones(1000), p=0.2)        # ~800 values of 1.25, the rest 0
    """
    p = _check_p(p)
    if not training:
        return input
    return _apply(input, p, input.shape, inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, ndims: tuple,
                     name: str) -> Tensor:
    p = _check_p(p)
    if input.ndim not in ndims:
        raise ShapeError(f"{name} expects a {' or '.join(f'{n}-D' for n in ndims)} input, "
                         f"got shape {input.shape}")
    if not training:
        return input
    # Unbatched input (C, *spatial): one mask value per channel; batched: per (N, C).
    batched = input.ndim == max(ndims)
    lead = 2 if batched else 1
    mask_shape = input.shape[:lead] + (1,) * (input.ndim - lead)
    return _apply(input, p, mask_shape, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout for (N, C, L) or (C, L) inputs: zero whole channels with probability
    ``p``, scale the kept channels by ``1 / (1 - p)`` (PyTorch's ``F.dropout1d``)."""
    return _feature_dropout(input, p, training, inplace, (2, 3), "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout for (N, C, H, W) or (C, H, W) inputs: zero whole feature maps with
    probability ``p`` (one draw per sample and channel), scale the kept ones by
    ``1 / (1 - p)`` (PyTorch's ``F.dropout2d``, Tompson et al.'s spatial dropout)."""
    if input.ndim not in (3, 4):
        # PyTorch accepts other ranks with a deprecation warning: a 2-D (or 1-D) input is
        # dropped element-wise, a higher-rank one per (sample, channel).
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated; use dropout for element-wise dropout. dropout2d is channel-"
                      "wise dropout for (N, C, H, W) or (C, H, W) inputs.", UserWarning, stacklevel=2)
        p = _check_p(p)
        if not training:
            return input
        mask_shape = input.shape if input.ndim <= 2 else input.shape[:2] + (1,) * (input.ndim - 2)
        return _apply(input, p, mask_shape, inplace)
    return _feature_dropout(input, p, training, inplace, (3, 4), "dropout2d")

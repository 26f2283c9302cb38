"""Normalisation layers' operations: batch_norm and layer_norm (one fused Function each).

Batch normalisation (Ioffe & Szegedy; the lecture's "Batch-Normalization during training:
normalize by subtracting mean and dividing by standard deviation") normalises every channel
c over the M = N * (spatial size) values it has in a minibatch:

    mu_c = (1/M) sum x,   sigma_c^2 = (1/M) sum (x - mu_c)^2   (biased),
    xhat = (x - mu_c) / sqrt(sigma_c^2 + eps),   y = gamma_c xhat + beta_c.

Its gradient, with all sums over the M values of channel c, is

    dL/dx = (gamma_c / (M sqrt(sigma_c^2 + eps))) (M dL/dy - sum dL/dy - xhat sum(dL/dy xhat)),
    dL/dgamma_c = sum dL/dy xhat,   dL/dbeta_c = sum dL/dy.

In evaluation the running estimates replace the batch statistics, so y is a fixed affine
map of x per channel. Layer normalisation applies the same formulas over the trailing
``normalized_shape`` axes of every sample instead of over the batch. The array functions
come from the input's array module (NumPy, or CuPy on a CUDA device).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module, same_device
from ..errors import LaminaTypeError, LaminaValueError, ShapeError

__all__ = ["batch_norm", "layer_norm"]


def _channel_shape(ndim: int, c: int) -> tuple:
    """(1, C, 1, ..., 1): a per-channel vector broadcast against (N, C, *spatial)."""
    return (1, c) + (1,) * (ndim - 2)


class BatchNormTrain(Function):
    """Batch normalisation with the batch's statistics (see the module docstring):
    dL/dx = (gamma / (M sigma)) (M dy - sum dy - xhat sum(dy xhat)) per channel,
    dL/dgamma = sum dy xhat, dL/dbeta = sum dy. Updates the running statistics in place."""

    @staticmethod
    def forward(ctx, x, *affine, has_weight, has_bias, running_mean, running_var, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x.ndim, x.shape[1])
        m = x.size // x.shape[1]
        xp = get_array_module(x)
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = xp.mean(xp.square(xc), axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat = xc
        xhat *= inv_std                       # reuse xc's buffer: x - mu is not needed again
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        if weight is not None:
            y = xhat * weight.reshape(shape)
            if bias is not None:
                y += bias.reshape(shape)
        elif bias is not None:
            y = xhat + bias.reshape(shape)
        else:
            y = xhat.copy()
        if running_mean is not None:
            f = momentum
            running_mean *= 1.0 - f
            running_mean += f * mean.reshape(-1).astype(running_mean.dtype, copy=False)
        if running_var is not None:
            unbiased = var.reshape(-1) * (m / (m - 1))
            running_var *= 1.0 - momentum
            running_var += momentum * unbiased.astype(running_var.dtype, copy=False)
        ctx.save(xhat, inv_std, weight)
        ctx.has_weight, ctx.has_bias = has_weight, has_bias
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, inv_std, weight = ctx.saved
        needs = ctx.needs_input_grad
        axes = (0,) + tuple(range(2, grad.ndim))
        shape = inv_std.shape
        m = grad.size // grad.shape[1]
        sum_dy = grad.sum(axis=axes, keepdims=True)
        sum_dy_xhat = (grad * xhat).sum(axis=axes, keepdims=True)
        grads = []
        if needs[0]:
            scale = inv_std / m if weight is None else weight.reshape(shape) * inv_std / m
            gx = grad * m
            gx -= sum_dy
            gx -= xhat * sum_dy_xhat
            gx *= scale
            grads.append(gx)
        else:
            grads.append(None)
        k = 1
        if ctx.has_weight:
            grads.append(sum_dy_xhat.reshape(-1) if needs[k] else None)
            k += 1
        if ctx.has_bias:
            grads.append(sum_dy.reshape(-1) if needs[k] else None)
        return tuple(grads)


class BatchNormEval(Function):
    """Batch normalisation with fixed statistics: y = gamma (x - mu) / sqrt(var + eps) + beta,
    an affine map per channel; dL/dx = dy gamma / sqrt(var + eps),
    dL/dgamma = sum dy xhat, dL/dbeta = sum dy."""

    @staticmethod
    def forward(ctx, x, *affine, has_weight, has_bias, mean, var, eps):
        shape = _channel_shape(x.ndim, x.shape[1])
        xp = get_array_module(x)
        inv_std = (1.0 / xp.sqrt(var + var.dtype.type(eps))).astype(x.dtype, copy=False)
        mean = mean.astype(x.dtype, copy=False)
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        scale = inv_std if weight is None else weight * inv_std
        shift = -mean * scale if bias is None else bias - mean * scale
        y = x * scale.reshape(shape)
        y += shift.reshape(shape)
        ctx.save(x if has_weight else None, mean, inv_std, scale)
        ctx.has_weight, ctx.has_bias = has_weight, has_bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, mean, inv_std, scale = ctx.saved
        needs = ctx.needs_input_grad
        shape = _channel_shape(grad.ndim, grad.shape[1])
        axes = (0,) + tuple(range(2, grad.ndim))
        grads = [grad * scale.reshape(shape) if needs[0] else None]
        k = 1
        if ctx.has_weight:
            gw = None
            if needs[k]:
                xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
                gw = (grad * xhat).sum(axis=axes)
            grads.append(gw)
            k += 1
        if ctx.has_bias:
            grads.append(grad.sum(axis=axes) if needs[k] else None)
        return tuple(grads)


def _affine_args(weight, bias):
    tensors = tuple(t for t in (weight, bias) if t is not None)
    return tensors, {"has_weight": weight is not None, "has_bias": bias is not None}


def _check_channel_vector(t, c: int, what: str) -> None:
    if t is not None and tuple(t.shape) != (c,):
        raise ShapeError(f"batch_norm: {what} has shape {tuple(t.shape)}, expected ({c},) "
                         f"for an input with {c} channels")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation of an (N, C), (N, C, L) or (N, C, H, W) input over all axes but C
    (PyTorch's ``F.batch_norm``).

    ``training=True`` normalises with the batch mean and biased variance and, when given,
    updates ``running_mean`` and ``running_var`` in place:
    ``running = (1 - momentum) running + momentum batch_statistic`` (the variance entering
    the running estimate is the unbiased one, M/(M-1) times the biased). ``training=False``
    normalises with ``running_mean`` and ``running_var``.
    """
    if not isinstance(input, Tensor):
        raise LaminaTypeError(f"batch_norm expects a Tensor input, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm expects an input of shape (N, C, ...), got shape {input.shape}")
    c = input.shape[1]
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_channel_vector(t, c, what)
    # the running statistics are updated in place, so they cannot move to the input's device
    same_device([t._data for t in (input, running_mean, running_var) if t is not None],
                "batch_norm")
    tensors, flags = _affine_args(weight, bias)
    if training:
        m = input.numel() // c if c else 0
        if m <= 1:
            raise LaminaValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        return BatchNormTrain.apply(
            input, *tensors, **flags, eps=eps, momentum=float(momentum),
            running_mean=None if running_mean is None else running_mean._data,
            running_var=None if running_var is None else running_var._data)
    if running_mean is None or running_var is None:
        raise LaminaValueError("batch_norm with training=False needs running_mean and running_var "
                               "(got None); pass training=True to use the batch statistics")
    return BatchNormEval.apply(input, *tensors, **flags, mean=running_mean._data,
                               var=running_var._data, eps=eps)


class LayerNorm(Function):
    """Layer normalisation over the last k axes (the same formulas as batch norm, with the
    sums over the M normalised values of one sample): dL/dx = (1/(M sigma))
    (M g - sum g - xhat sum(g xhat)) with g = gamma dL/dy; dL/dgamma = sum over samples of
    dy xhat, dL/dbeta = sum over samples of dy."""

    @staticmethod
    def forward(ctx, x, *affine, k, has_weight, has_bias, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        xp = get_array_module(x)
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = xp.mean(xp.square(xhat), axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat *= inv_std
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        y = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            y += bias
        ctx.save(xhat, inv_std, weight)
        ctx.k, ctx.has_weight, ctx.has_bias = k, has_weight, has_bias
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, inv_std, weight = ctx.saved
        needs = ctx.needs_input_grad
        k = ctx.k
        axes = tuple(range(grad.ndim - k, grad.ndim))
        lead = tuple(range(grad.ndim - k))
        m = math.prod(grad.shape[grad.ndim - k:])
        grads = [None]
        if needs[0]:
            g = grad * weight if weight is not None else grad
            gx = g * m
            gx -= g.sum(axis=axes, keepdims=True)
            gx -= xhat * (g * xhat).sum(axis=axes, keepdims=True)
            gx *= inv_std / m
            grads[0] = gx
        j = 1
        if ctx.has_weight:
            grads.append((grad * xhat).sum(axis=lead) if needs[j] else None)
            j += 1
        if ctx.has_bias:
            grads.append(grad.sum(axis=lead) if needs[j] else None)
        return tuple(grads)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise every sample over its trailing ``normalized_shape`` axes (biased variance),
    then scale by ``weight`` and shift by ``bias`` of that shape (PyTorch's ``F.layer_norm``)."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ShapeError(f"layer_norm: input of shape {tuple(input.shape)} does not end with "
                         f"normalized_shape {normalized_shape}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise ShapeError(f"layer_norm: {what} has shape {tuple(t.shape)}, expected {normalized_shape}")
    tensors, flags = _affine_args(weight, bias)
    return LayerNorm.apply(input, *tensors, k=k, **flags, eps=eps)

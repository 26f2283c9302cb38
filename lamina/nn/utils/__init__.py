"""Training utilities on parameters: regularisation penalties, gradient clipping, flattening
and weight noise.

Grohs, Introduction to (Convolutional) Neural Networks ("Dealing with overfitting"): minimise ``sum_i L(f, x_i, y_i) + lambda Omega(W)``
with ``Omega(W) = sum_{l,i,j} |(W_l)_{ij}|^p`` (:func:`lp_penalty`); "regularization with
p <= 1 promotes sparse connectivity", since the sum tends to the number of non-zero weights
as p -> 0. "Sometimes also noise is added to the weights to favour 'robust' stationary
points" (:func:`add_weight_noise_`).

The sub-module :mod:`lamina.nn.utils.rnn` (PyTorch's ``torch.nn.utils.rnn``) batches
sequences of different lengths for the recurrent layers (:func:`~.rnn.pad_sequence`).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...autograd.observers import replayed
from ...autograd.tensor import Tensor
from ...backend import get_array_module, on_device_of
from ...errors import LaminaTypeError, LaminaValueError, ShapeError
from ...ops.arithmetic import add
from ...ops.join import cat
from ...ops.shape import reshape
from ...random import generator
from ..module import Module
from . import rnn

__all__ = ["lp_penalty", "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "add_weight_noise_"]


def _as_list(parameters) -> list:
    """Parameters given as a Tensor, a Module, or an iterable of Tensors, as a list."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, Module):
        return list(parameters.parameters())
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise LaminaTypeError(f"expected Tensors (parameters), got {type(p).__name__}")
    return params


class LpPenalty(Function):
    """Omega = sum_j |w_j|^p;  dOmega/dw_j = p |w_j|^{p-1} sgn(w_j) (Grohs, Introduction to (Convolutional) Neural Networks), taken as 0
    at w_j = 0 (the subgradient that leaves zero weights at zero; for p < 1 the derivative
    is unbounded there)."""

    @staticmethod
    def forward(ctx, w, p):
        xp = get_array_module(w)
        ctx.save(w)
        ctx.p = p
        a = xp.abs(w)
        if p == 1:
            return a.sum()
        if p == 2:
            return xp.vdot(w, w).astype(w.dtype) if w.size else xp.zeros((), w.dtype)
        return (a ** w.dtype.type(p)).sum()

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved
        xp = get_array_module(w)
        p = ctx.p
        if p == 1:
            return grad * xp.sign(w)
        if p == 2:
            return grad * 2 * w
        a = xp.abs(w)
        with np.errstate(divide="ignore", invalid="ignore"):  # host warnings only; a GPU has none
            d = w.dtype.type(p) * a ** w.dtype.type(p - 1) * xp.sign(w)
        d[w == 0] = 0
        return grad * d


def lp_penalty(parameters, p: float = 2.0) -> Tensor:
    """The regulariser ``Omega = sum over parameters W of sum_{ij} |W_ij|^p`` as a
    differentiable scalar Tensor; add ``lambda * lp_penalty(model.parameters(), p)`` to the
    loss. p = 2 is weight decay, p = 1 the lasso; p <= 1 promotes sparse weights.

    >>> loss = criterion(model(x), y) + 1e-4 * nn.utils.lp_penalty(model.parameters(), p=1)
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 0:
        raise LaminaValueError(f"lp_penalty needs a power p > 0, got {p!r}")
    params = _as_list(parameters)
    if not params:
        raise LaminaValueError("lp_penalty got no parameters")
    total = None
    for w in params:
        term = LpPenalty.apply(w, p=float(p))
        total = term if total is None else add(total, term)
    return total


def _total_norm(grads: list, norm_type: float):
    """The joint norm of ``grads`` as a 0-d float64 array on the first one's device: each
    gradient's part is computed where it lives (``max |g|``, ``<g, g>`` or ``sum |g|^p``),
    the parts are combined there, without reading a value back to the host."""
    xp = get_array_module(grads[0])
    total = None
    for g in grads:
        gp = get_array_module(g)
        if norm_type == math.inf:
            part = gp.abs(g).max() if g.size else gp.zeros((), g.dtype)
        elif norm_type == 2:
            part = gp.vdot(g, g)
        else:
            part = (gp.abs(g) ** norm_type).sum()
        part = on_device_of(gp.asarray(part, dtype=np.float64), grads[0])
        if total is None:
            total = part
        else:
            total = xp.maximum(total, part) if norm_type == math.inf else total + part
    if norm_type == 2:
        return xp.sqrt(total)
    return total if norm_type == math.inf else total ** (1.0 / norm_type)


@replayed
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients so that their joint ``norm_type``-norm (all gradients seen as
    one vector) is at most ``max_norm``: each is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm before clipping.
    The gradient arrays are replaced, not scaled in place (they may be shared).

    The norm is a tensor on the gradients' device (the first one's, if they are spread) and
    nothing is read back to the host unless ``error_if_nonfinite`` asks for the check: on a
    GPU every gradient is multiplied by ``min(1, coefficient)`` (by exactly 1 when no
    clipping is needed), on the CPU only the clipped ones are touched."""
    params = [p for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return Tensor._wrap(np.zeros((), np.float32))
    grads = [p.grad._data for p in params]
    xp = get_array_module(grads[0])
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise LaminaValueError(f"the total norm of order {norm_type} of the gradients is "
                               f"{float(total)}, so they cannot be clipped (error_if_nonfinite=True)")
    coef = float(max_norm) / (total + 1e-6)
    if xp is np:
        if coef < 1.0:
            for p in params:
                p.grad._data = p.grad._data * p.grad._data.dtype.type(coef)
    else:
        coef = xp.minimum(coef, 1.0)
        for p in params:
            g = p.grad._data
            p.grad._data = g * on_device_of(coef, g).astype(g.dtype)
    dtype = np.result_type(*[g.dtype for g in grads])
    return Tensor._wrap(xp.asarray(total, dtype=dtype))


@replayed
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` (out of place)."""
    if clip_value < 0:
        raise LaminaValueError(f"clip_value must be non-negative, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            g = p.grad._data
            p.grad._data = get_array_module(g).clip(g, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise LaminaValueError("parameters_to_vector got no parameters")
    return cat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, outside the graph):
    the inverse of :func:`parameters_to_vector`."""
    if not isinstance(vec, Tensor):
        raise LaminaTypeError(f"expected vec to be a Tensor, got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ShapeError(f"vec has shape {tuple(vec.shape)}, expected ({total},) for the "
                         "parameters' total size")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = on_device_of(vec._data[offset:offset + n].reshape(p.shape), p._data)
            p._version += 1
            offset += n


def add_weight_noise_(module, std: float) -> Module:
    """Add N(0, std^2) noise to every parameter in place (Grohs, Introduction to (Convolutional) Neural Networks: noise on the weights
    favours 'robust' stationary points). ``module`` may also be an iterable of parameters."""
    if std < 0:
        raise LaminaValueError(f"std must be non-negative, got {std}")
    gen = generator()
    with no_grad():
        for p in _as_list(module):
            # drawn on the host (the same noise on every device), then copied to p's
            p._data += on_device_of(gen.normal(0.0, std, p.shape).astype(p.dtype, copy=False), p._data)
            p._version += 1
    return module

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
        ctx.save(w)
        ctx.p = p
        a = np.abs(w)
        if p == 1:
            return a.sum()
        if p == 2:
            return np.vdot(w, w).astype(w.dtype) if w.size else np.zeros((), w.dtype)
        return (a ** w.dtype.type(p)).sum()

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved
        p = ctx.p
        if p == 1:
            return grad * np.sign(w)
        if p == 2:
            return grad * 2 * w
        a = np.abs(w)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = w.dtype.type(p) * a ** w.dtype.type(p - 1) * np.sign(w)
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


def _total_norm(grads: list, norm_type: float) -> float:
    if norm_type == math.inf:
        return max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    if norm_type == 2:
        return math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    return sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)


@replayed
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients so that their joint ``norm_type``-norm (all gradients seen as
    one vector) is at most ``max_norm``: each is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm before clipping.
    The gradient arrays are replaced, not scaled in place (they may be shared)."""
    params = [p for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return Tensor._wrap(np.zeros((), np.float32))
    grads = [p.grad._data for p in params]
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise LaminaValueError(f"the total norm of order {norm_type} of the gradients is "
                               f"{total}, so they cannot be clipped (error_if_nonfinite=True)")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad._data = p.grad._data * p.grad._data.dtype.type(coef)
    return Tensor._wrap(np.asarray(total, dtype=np.result_type(*grads)))


@replayed
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` (out of place)."""
    if clip_value < 0:
        raise LaminaValueError(f"clip_value must be non-negative, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad._data = np.clip(p.grad._data, -clip_value, clip_value)


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
            p._data[...] = vec._data[offset:offset + n].reshape(p.shape)
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
            p._data += gen.normal(0.0, std, p.shape).astype(p.dtype, copy=False)
            p._version += 1
    return module

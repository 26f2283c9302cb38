"""Backpropagation written out: the delta recursion of the lectures, without autodiff.

Grohs, "Introduction to (Convolutional) Neural Networks" ("The Backprop Algorithm"), for
f(x) = z_L with z_l = W_l a_{l-1} + b_l, a_l = sigma(z_l), a_0 = x, and the quadratic loss
L = ||f(x) - y||^2:

    1. forward pass: keep every z_l and a_l
    2. delta_L = 2 (f(x) - y);  dL/db_L = delta_L,  dL/dW_L = delta_L a_{L-1}^T
    3. for l = L-1, ..., 1:  delta_l = diag(sigma'(z_l)) W_{l+1}^T delta_{l+1}
                             dL/db_l = delta_l,  dL/dW_l = delta_l a_{l-1}^T

so delta_l = dL/dz_l. Grohs's network has no activation on the output layer; with
``output_activation=True`` the output is a_L = sigma(z_L) and, as in Ghauch & Ghadikolaei,
"Fundamentals of Deep Neural Networks" ("Backprop in Action"), delta_L = 2 (f(x) - y) o sigma'(z_L).

The backpropagation lecture ("Backpropagation", "An Example for Backpropagation") uses the loss
L = 1/2 sum_k (t_k - y_k)^2 with a sigmoid output and the *sensitivities*
delta_i^l = -dL/dnet_i^l (note the sign):

    delta_i^L = (t_i - y_i) sigma'(net_i^L)
    delta_i^l = sigma'(net_i^l) sum_k W_ki^{l+1} delta_k^{l+1}
    dL/dW_ij^l = -delta_i^l x_j^{l-1}

:func:`sensitivity_backprop` implements that convention and :func:`backprop_example`
reproduces the slides' 2-2-1 example twice, by this recursion and by lamina's autograd.

Weights use PyTorch's layout (and the lectures'): ``W_l`` has shape (N_l, N_{l-1}), row i
holding unit i's incoming weights. ``x`` is one sample (N_0,) or a batch (B, N_0); for a
batch the loss is summed over the samples and each delta has one row per sample.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

import lamina as lm

from ..errors import LaminaValueError, ShapeError
from ..nn import functional as F

__all__ = ["ACTIVATIONS", "BackpropResult", "explicit_backprop", "sensitivity_backprop",
           "sgd_update", "backprop_example", "BACKPROP_EXAMPLE", "BACKPROP_EXAMPLE_PRINTED"]


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z) without overflow warnings


# name -> (f, f') with f' written in terms of z; the derivatives are Dehaqani's lecture's table
# ("Some popular activations and their derivatives").
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z >= 0).astype(np.asarray(z).dtype)),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def _activation(name: str) -> tuple[Callable, Callable]:
    if name not in ACTIVATIONS:
        raise LaminaValueError(f"unknown activation {name!r}; accepted: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


@dataclasses.dataclass
class BackpropResult:
    """Everything one forward and backward pass produced.

    ``z[l-1]`` and ``a[l]`` are z_l and a_l (``a[0]`` is x); ``delta[l-1]`` is delta_l in
    the convention of the function that produced it; ``grad_weights[l-1]`` and
    ``grad_biases[l-1]`` are dL/dW_l and dL/db_l (None for a layer without bias).
    """

    loss: float
    output: np.ndarray
    z: list
    a: list
    delta: list
    grad_weights: list
    grad_biases: list


def _check_network(weights, biases, x) -> tuple[list, list, np.ndarray, bool]:
    weights = [np.asarray(W, dtype=np.float64) for W in weights]
    if not weights:
        raise LaminaValueError("need at least one layer (one weight matrix)")
    if biases is None:
        biases = [None] * len(weights)
    biases = [None if b is None else np.asarray(b, dtype=np.float64).reshape(-1) for b in biases]
    if len(biases) != len(weights):
        raise LaminaValueError(f"got {len(weights)} weight matrices but {len(biases)} biases")
    x = np.asarray(x, dtype=np.float64)
    single = x.ndim == 1
    x = x[None] if single else x
    if x.ndim != 2:
        raise ShapeError(f"x must be one sample (N_0,) or a batch (B, N_0), got shape {x.shape}")
    width = x.shape[1]
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        if W.ndim != 2 or W.shape[1] != width:
            raise ShapeError(f"W_{l} must have shape (N_{l}, {width}) to follow a layer of "
                             f"width {width}, got {W.shape}")
        if b is not None and b.shape != (W.shape[0],):
            raise ShapeError(f"b_{l} must have shape ({W.shape[0]},), got {b.shape}")
        width = W.shape[0]
    return weights, biases, x, single


def _check_target(y, x: np.ndarray, weights: list, name: str) -> np.ndarray:
    """The target as (B, N_L): one row per sample of x, one column per output unit."""
    y = np.asarray(y, dtype=np.float64)
    want = (x.shape[0], weights[-1].shape[0])
    if y.size != want[0] * want[1] or (y.ndim == 2 and y.shape != want) or y.ndim > 2:
        raise ShapeError(f"{name} must have shape {want if y.ndim == 2 else want[1:]} to match "
                         f"x and the {want[1]} output units, got {y.shape}")
    return y.reshape(want)


def _forward(weights, biases, x, f, output_activation: bool) -> tuple[list, list]:
    """z_l = W_l a_{l-1} + b_l and a_l = f(z_l) (a_L = z_L without output activation)."""
    zs, acts = [], [x]
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        z = acts[-1] @ W.T
        if b is not None:
            z = z + b
        zs.append(z)
        acts.append(f(z) if (l < len(weights) or output_activation) else z)
    return zs, acts


def _recursion(weights, zs, delta_L, fprime) -> list:
    """delta_l = diag(f'(z_l)) W_{l+1}^T delta_{l+1} for l = L-1 .. 1 (rows = samples)."""
    deltas = [delta_L]
    for l in range(len(weights) - 1, 0, -1):  # layer numbers: zs[l - 1] = z_l, weights[l] = W_{l+1}
        deltas.append(fprime(zs[l - 1]) * (deltas[-1] @ weights[l]))
    return deltas[::-1]


def _result(loss, acts, zs, deltas, biases, single, grad_sign: float) -> BackpropResult:
    grads_W = [grad_sign * (d.T @ a) for d, a in zip(deltas, acts[:-1])]
    grads_b = [None if b is None else grad_sign * d.sum(axis=0) for d, b in zip(deltas, biases)]
    squeeze = (lambda v: v[0]) if single else (lambda v: v)
    return BackpropResult(loss=float(loss), output=squeeze(acts[-1]), z=[squeeze(z) for z in zs],
                          a=[squeeze(a) for a in acts], delta=[squeeze(d) for d in deltas],
                          grad_weights=grads_W, grad_biases=grads_b)


def explicit_backprop(weights: Sequence, biases: Sequence | None, x, y,
                      activation: str = "sigmoid",
                      output_activation: bool = False) -> BackpropResult:
    """Grohs's backprop for L = ||f(x) - y||^2; ``delta[l-1]`` is delta_l = dL/dz_l.

    ``output_activation=False`` (Grohs, "Introduction to (Convolutional) Neural Networks"):
    f(x) = z_L and delta_L = 2 (f(x) - y).
    ``output_activation=True`` (Ghauch & Ghadikolaei's lecture): f(x) = sigma(z_L) and
    delta_L = 2 (f(x) - y) o sigma'(z_L). Hidden layers: delta_l = diag(sigma'(z_l))
    W_{l+1}^T delta_{l+1}; gradients dL/dW_l = delta_l a_{l-1}^T, dL/db_l = delta_l
    (summed over the samples of a batch).
    """
    f, fprime = _activation(activation)
    weights, biases, x, single = _check_network(weights, biases, x)
    y = _check_target(y, x, weights, "y")
    zs, acts = _forward(weights, biases, x, f, output_activation)
    residual = acts[-1] - y
    delta_L = 2.0 * residual
    if output_activation:
        delta_L = delta_L * fprime(zs[-1])
    deltas = _recursion(weights, zs, delta_L, fprime)
    return _result(np.sum(residual ** 2), acts, zs, deltas, biases, single, grad_sign=1.0)


def sensitivity_backprop(weights: Sequence, biases: Sequence | None, x, t,
                         activation: str = "sigmoid") -> BackpropResult:
    """The backpropagation lecture's backprop for L = 1/2 sum_k (t_k - y_k)^2 with the
    activation on every layer; ``delta[l-1]`` is the sensitivity delta^l = -dL/dnet^l.

    delta^L = (t - y) o sigma'(net^L), delta^l = sigma'(net^l) o (W^{l+1})^T delta^{l+1},
    and the returned gradients are dL/dW^l = -delta^l (x^{l-1})^T, dL/db^l = -delta^l.
    """
    f, fprime = _activation(activation)
    weights, biases, x, single = _check_network(weights, biases, x)
    t = _check_target(t, x, weights, "t")
    zs, acts = _forward(weights, biases, x, f, output_activation=True)
    residual = t - acts[-1]
    deltas = _recursion(weights, zs, residual * fprime(zs[-1]), fprime)
    return _result(0.5 * np.sum(residual ** 2), acts, zs, deltas, biases, single, grad_sign=-1.0)


def sgd_update(weights: Sequence, biases: Sequence | None, result: BackpropResult,
               lr: float) -> tuple[list, list]:
    """One gradient-descent step W_l <- W_l - eta dL/dW_l, b_l <- b_l - eta dL/db_l."""
    biases = [None] * len(weights) if biases is None else biases
    new_W = [np.asarray(W, dtype=np.float64) - lr * g for W, g in zip(weights, result.grad_weights)]
    new_b = [None if b is None else np.asarray(b, dtype=np.float64) - lr * g
             for b, g in zip(biases, result.grad_biases)]
    return new_W, new_b


# The backpropagation lecture, "An Example for Backpropagation": a 2-2-1 sigmoid network
# without biases.
BACKPROP_EXAMPLE = {
    "x": np.array([0.35, 0.9]),
    "W1": np.array([[0.1, 0.8], [0.4, 0.6]]),  # row i: hidden unit i's weights W^1_i1, W^1_i2
    "W2": np.array([[0.3, 0.9]]),              # W^2_11, W^2_12
    "t": 0.5,
    "lr": 1.0,
}

# The values the slides print, as printed (the digits matter: they say how to round).
# Updated weights: W^l_ij is the weight from unit j of layer l-1 into unit i of layer l;
# the slide's own forward pass x^1_1 = sigmoid(0.1 * 0.35 + 0.9 * 0.8) fixes that reading.
BACKPROP_EXAMPLE_PRINTED = {
    "y": "0.69",
    "delta_2_1": "-0.0406",
    "delta_1_1": "-0.0027",
    "delta_1_2": "-0.0082",
    "W1_11": "0.0991",
    "W1_12": "0.7976",
    "W1_21": "0.3971",
    "W1_22": "0.5926",
    "W2_11": "0.2724",
    "W2_12": "0.8731",
}


def _example_values(y, delta_out, delta_hidden, W1, W2, grad_W1, grad_W2) -> dict:
    values = {"y": float(y), "delta_2_1": float(delta_out),
              "delta_1_1": float(delta_hidden[0]), "delta_1_2": float(delta_hidden[1])}
    for i in range(2):
        for j in range(2):
            values[f"W1_{i + 1}{j + 1}"] = float(W1[i, j])
            values[f"dL/dW1_{i + 1}{j + 1}"] = float(grad_W1[i, j])
        values[f"W2_1{i + 1}"] = float(W2[0, i])
        values[f"dL/dW2_1{i + 1}"] = float(grad_W2[0, i])
    return values


def backprop_example() -> dict:
    """The backpropagation lecture's worked example computed twice; returns
    ``{'explicit': {...}, 'autodiff': {...}}`` with the keys of :data:`BACKPROP_EXAMPLE_PRINTED` plus
    the gradients ``dL/dW1_ij``.

    ``explicit``: :func:`sensitivity_backprop` and one step of :func:`sgd_update`.
    ``autodiff``: the same forward pass on float64 lamina tensors, ``backward()``, and one
    step of ``lm.optim.SGD(lr=1)``; the deltas are ``-z.grad`` of the pre-activations kept
    with ``retain_grad()`` (the backpropagation lecture's sensitivities are -dL/dnet).
    """
    ex = BACKPROP_EXAMPLE
    res = sensitivity_backprop([ex["W1"], ex["W2"]], None, ex["x"], ex["t"], "sigmoid")
    (W1_new, W2_new), _ = sgd_update([ex["W1"], ex["W2"]], None, res, ex["lr"])
    explicit = _example_values(res.output[0], res.delta[1][0], res.delta[0], W1_new, W2_new,
                               *res.grad_weights)

    x = lm.tensor(ex["x"][None], dtype=lm.float64)
    W1 = lm.tensor(ex["W1"], dtype=lm.float64, requires_grad=True)
    W2 = lm.tensor(ex["W2"], dtype=lm.float64, requires_grad=True)
    net1 = F.linear(x, W1)
    net1.retain_grad()
    net2 = F.linear(F.sigmoid(net1), W2)
    net2.retain_grad()
    y = F.sigmoid(net2)
    loss = 0.5 * ((ex["t"] - y) ** 2).sum()
    optimizer = lm.optim.SGD([W1, W2], lr=ex["lr"])
    optimizer.zero_grad()
    loss.backward()
    grad_W1, grad_W2 = W1.grad.numpy().copy(), W2.grad.numpy().copy()
    optimizer.step()
    autodiff = _example_values(y.numpy()[0, 0], -net2.grad.numpy()[0, 0], -net1.grad.numpy()[0],
                               W1.detach().numpy(), W2.detach().numpy(), grad_W1, grad_W2)
    return {"explicit": explicit, "autodiff": autodiff}

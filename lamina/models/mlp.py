"""Fully connected networks in the lectures' notation ``[784, 30, 10]``.

Grohs, Introduction to (Convolutional) Neural Networks ("The Basic Recipe") trains Nielsen's networks of sizes ``[784, 30, 10]``,
``[784, 30, 30, 10]`` and ``[784, 30, 30, 30, 10]`` on MNIST with sigmoid units, the quadratic
cost, SGD with eta = 3.0 and minibatches of K = 10 (94.84%, 95.81% and 95.07% accuracy). A
network of sizes ``[d_0, d_1, ..., d_L]`` is the composition

    f(x) = rho_L(W_L rho(... rho(W_1 x + b_1) ...) + b_L),
    W_l in R^{d_l x d_{l-1}},  b_l in R^{d_l},

with a fixed activation rho on the hidden layers and an optional output activation rho_L
(sigmoid for Nielsen's network, none -- logits -- for use with the cross-entropy loss).

With ``activation='identity'`` every rho is the identity and the network is a *deep linear
network* (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks, "Taxonomy of Neural
Networks": "Activation fncs are set to identity function (sigma_j = I)"): it computes the
affine map W_L (... (W_1 x + b_1) ...) + b_L, no more expressive than one layer, yet its
least-squares loss is not jointly convex in (W_1, ..., W_L) ("Training DNNs").
"""
from __future__ import annotations

import numbers
from typing import Sequence

from .. import nn
from ..errors import LaminaTypeError, LaminaValueError

__all__ = ["mlp", "ACTIVATIONS", "INITS"]

# activation name -> the lamina.nn class that implements it
ACTIVATIONS: dict[str, str] = {
    "sigmoid": "Sigmoid",
    "relu": "ReLU",
    "tanh": "Tanh",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "softplus": "Softplus",
    "gelu": "GELU",
    "identity": "Identity",  # sigma_j = I: a deep linear network
}
# Names a user may reasonably try that cannot be trained by gradient descent.
_UNTRAINABLE = ("heaviside", "step", "sign", "threshold")

INITS: tuple[str, ...] = ("default", "normal", "xavier", "glorot", "kaiming", "he")


def _activation_key(name: str, what: str) -> str:
    """The canonical key of activation ``name``; raises for untrainable or unknown names."""
    key = name.lower().replace("-", "_") if isinstance(name, str) else name
    if key in _UNTRAINABLE:
        raise LaminaValueError(
            f"{what} {name!r} is not trainable by backpropagation: its derivative is zero "
            f"wherever it exists, so no gradient reaches the weights (use it in "
            f"lamina.classic's perceptron instead); accepted: {sorted(ACTIVATIONS)}")
    if key not in ACTIVATIONS:
        raise LaminaValueError(f"unknown {what} {name!r}; accepted: {sorted(ACTIVATIONS)}")
    return key


def _initialise(linears: list, init: str, activation: str) -> None:
    """Overwrite the weights and biases of ``linears`` according to ``init``.

    - ``'normal'``: Nielsen's ``network.py``: every w and b drawn from N(0, 1).
    - ``'xavier'``/``'glorot'``: W ~ U(-a, a), a = sqrt(6 / (d_in + d_out)) (variance
      2 / (d_in + d_out)), b = 0; keeps the signal's variance for tanh/sigmoid-like units.
    - ``'kaiming'``/``'he'``: W ~ N(0, 2 / d_in) (leaky ReLU's gain for 'leaky_relu', and
      N(0, 1 / d_in), gain 1, for 'identity'), b = 0; keeps the variance through ReLU units.
    - ``'default'``: PyTorch's Linear initialisation, U(-1/sqrt(d_in), 1/sqrt(d_in)).
    """
    if init == "default":
        return
    for layer in linears:
        if init == "normal":
            nn.init.normal_(layer.weight, 0.0, 1.0)
            nn.init.normal_(layer.bias, 0.0, 1.0)
            continue
        if init in ("xavier", "glorot"):
            nn.init.xavier_uniform_(layer.weight)
        else:  # kaiming / he
            nonlinearity = {"leaky_relu": "leaky_relu", "identity": "linear"}.get(activation,
                                                                                 "relu")
            nn.init.kaiming_normal_(layer.weight, a=0.01 if activation == "leaky_relu" else 0,
                                    nonlinearity=nonlinearity)
        nn.init.zeros_(layer.bias)


def mlp(sizes: Sequence[int], activation: str = "sigmoid", init: str = "default",
        dropout: float = 0.0, output_activation: str | None = None) -> nn.Sequential:
    """A fully connected network with layer sizes ``sizes = [d_0, d_1, ..., d_L]``.

    Architecture: ``Flatten -> Linear(d_0, d_1) -> rho [-> Dropout] -> ... -> Linear(d_{L-1},
    d_L) [-> output activation]``. The leading Flatten lets the network take images
    (N, 1, 28, 28) as well as vectors (N, 784). Dropout (probability ``dropout``) follows each
    hidden activation when ``dropout > 0``.

    Lecture: Grohs, Introduction to (Convolutional) Neural Networks, "The Basic Recipe": Nielsen's MNIST networks ``[784, 30, 10]`` with
    sigmoid units; ``mlp([784, 30, 10], 'sigmoid', 'normal', output_activation='sigmoid')``
    is that network, initialised as in ``network.py`` (all weights and biases N(0, 1)).

    ``mlp([4, 8, 8, 2], 'identity')`` (spec ``mlp:4,8,8,2:identity``) is a deep linear
    network of three layers (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks).

    Args:
        sizes: at least two positive layer widths, input first.
        activation: hidden-layer activation, one of ``ACTIVATIONS``.
        init: ``'default'``, ``'normal'``, ``'xavier'`` (= ``'glorot'``) or ``'kaiming'``
            (= ``'he'``).
        dropout: dropout probability after each hidden activation, in [0, 1).
        output_activation: None (logits) or one of ``ACTIVATIONS`` applied to the output.

    >>> import lamina as lm
    >>> net = mlp([784, 30, 10])
    >>> net(lm.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise LaminaTypeError(f"mlp sizes must be a list of integers, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise LaminaValueError(
            f"mlp needs at least an input and an output size, e.g. [784, 30, 10]; got {sizes}")
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise LaminaValueError(f"mlp sizes must be positive integers, got {sizes}")
    sizes = [int(s) for s in sizes]  # NumPy integers are welcome; Linear wants Python ints
    if not isinstance(init, str) or init.lower() not in INITS:
        raise LaminaValueError(f"unknown init {init!r}; accepted: {list(INITS)}")
    init = init.lower()
    if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
        raise LaminaValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    # Checked up front so that a bad name fails even for a network without hidden layers.
    key = _activation_key(activation, "activation")
    out_key = None if output_activation is None else _activation_key(output_activation,
                                                                     "output_activation")
    layers: list = [nn.Flatten()]
    linears = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(d_in, d_out)
        linears.append(linear)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(getattr(nn, ACTIVATIONS[key])())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    if out_key is not None:
        layers.append(getattr(nn, ACTIVATIONS[out_key])())
    _initialise(linears, init, key)
    return nn.Sequential(*layers)


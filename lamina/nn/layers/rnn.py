"""``RNN``: the Elman recurrent network, trained by backpropagation through time.

Lecture 004's taxonomy of networks: "Recurrent NN: allow for loops in network". The loop is
a hidden state fed back into the layer at the next time step; for layer l at time t

    h_t^(l) = sigma(W_ih^(l) x_t^(l) + b_ih^(l) + W_hh^(l) h_{t-1}^(l) + b_hh^(l)),

with sigma = tanh or ReLU, x_t^(1) the input at time t and x_t^(l) = h_t^(l-1) above it.
Unrolling the loop over the T time steps turns it into an ordinary acyclic graph, a
T-layer-deep network whose layers share the weights W_hh; backpropagation on that unrolled
graph is *backpropagation through time*, and the gradient of a shared weight is the sum of
its gradients at every step. Here the unrolled graph is built from lamina's differentiable
operations (a Python loop over time steps, never over the batch), so the engine's ordinary
backward pass performs BPTT. The input projections W_ih x_t + b_ih + b_hh of all time steps
are computed with one matrix product before the loop; only the recurrence is sequential.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaValueError, ShapeError
from ...ops.activation import relu, tanh
from ...ops.arithmetic import add
from ...ops.dropout import dropout as _dropout
from ...ops.linalg import linear
from ...ops.join import stack, unbind
from ...random import generator
from ..module import Module, Parameter

__all__ = ["RNN"]


class RNN(Module):
    """A multi-layer Elman RNN with tanh or ReLU units (PyTorch's ``nn.RNN``).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``.

    Parameters per layer k (PyTorch's names and shapes): ``weight_ih_l{k}`` (hidden_size,
    input_size for k = 0, else hidden_size), ``weight_hh_l{k}`` (hidden_size, hidden_size),
    ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (hidden_size,), all initialised
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    ``forward(input, hx=None) -> (output, h_n)``: ``input`` is (T, N, input_size), or
    (N, T, input_size) with ``batch_first``, or unbatched (T, input_size); ``hx`` the initial
    hidden state (num_layers, N, hidden_size) or (num_layers, hidden_size), zeros when None.
    ``output`` holds the last layer's h_t for every t (same layout as the input) and ``h_n``
    the final hidden state of every layer. ``dropout`` applies dropout to the outputs of
    every layer except the last, in training mode only. Gradients are computed by
    backpropagation through time (see the module docstring: lecture 004's "loops in the
    network", unrolled).

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> out, h = rnn(lm.randn(5, 3, 10))        # out (5, 3, 20), h (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype=np.float32) -> None:
        super().__init__()
        for value, name in ((input_size, "input_size"), (hidden_size, "hidden_size"),
                            (num_layers, "num_layers")):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise LaminaValueError(f"{name} must be a positive integer, got {value!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise LaminaValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout <= 1) or isinstance(dropout, bool):
            raise LaminaValueError(f"dropout should be a number in range [0, 1] representing the "
                                   f"probability of an element being zeroed, got {dropout!r}")
        if bidirectional:
            raise LaminaValueError("bidirectional=True is not supported by lamina's RNN "
                                   "(expected bidirectional=False)")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.nonlinearity = nonlinearity
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = False
        self._flat_weights_names = []
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else self.hidden_size
            shapes = [(f"weight_ih_l{k}", (hidden_size, fan_in)),
                      (f"weight_hh_l{k}", (hidden_size, hidden_size))]
            if self.bias:
                shapes += [(f"bias_ih_l{k}", (hidden_size,)), (f"bias_hh_l{k}", (hidden_size,))]
            for name, shape in shapes:
                setattr(self, name, Parameter(np.empty(shape, dtype)))
                self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn in
        parameter order as PyTorch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            p._data[...] = generator().uniform(-bound, bound, p.shape)
            p._version += 1

    @property
    def all_weights(self) -> list:
        """The parameters grouped by layer: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        per_layer = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per_layer]]
                for i in range(0, len(names), per_layer)]

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch compatibility: lamina's weights need no flattening."""

    def _check_hidden(self, hx: Tensor, batched: bool, batch: int) -> None:
        expected = (self.num_layers, batch, self.hidden_size) if batched else (self.num_layers, self.hidden_size)
        if hx.ndim != len(expected):
            kind = "3-D" if batched else "2-D"
            raise ShapeError(f"For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx should "
                             f"also be {kind} but got {hx.ndim}-D tensor")
        if tuple(hx.shape) != expected:
            raise ShapeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if input.ndim not in (2, 3):
            raise ShapeError(f"RNN: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        time_dim = 1 if (batched and self.batch_first) else 0
        if input.shape[time_dim] == 0:
            raise ShapeError(f"RNN: the input has no time steps (shape {tuple(input.shape)})")
        batch = input.shape[1 - time_dim] if batched else None
        initial = [None] * self.num_layers
        if hx is not None:
            self._check_hidden(hx, batched, batch)
            initial = list(unbind(hx, 0))
        act = tanh if self.nonlinearity == "tanh" else relu
        layer_input = input
        finals = []
        for k, weights in enumerate(self.all_weights):
            w_ih, w_hh = weights[0], weights[1]
            if self.bias:
                # Both biases enter every step additively: add them to all projections at once.
                proj = add(linear(layer_input, w_ih, weights[2]), weights[3])
            else:
                proj = linear(layer_input, w_ih)
            h = initial[k]
            outputs = []
            for x_t in unbind(proj, time_dim):
                h = act(x_t if h is None else add(x_t, linear(h, w_hh)))
                outputs.append(h)
            finals.append(h)
            layer_input = stack(outputs, time_dim)
            if self.dropout and self.training and k < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout, True)
        return layer_input, stack(finals, 0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s

"""Single recurrent steps as modules: ``RNNCell``, ``LSTMCell`` and ``GRUCell``.

A cell computes one time step of its layer, ``h' = cell(x, h)``, and leaves the loop over
time to the caller (who can then change the input at each step from the previous output, as
a decoder does). The equations are those of the layers: the Elman step of :mod:`.rnn`,

    h' = sigma(W_ih x + b_ih + W_hh h + b_hh),       sigma = tanh or ReLU,

the LSTM step of :mod:`.lstm` (gates i, f, g, o; returns (h', c')) and the GRU step of
:mod:`.gru` (gates r, z, n; b_hn inside the reset gate's product); the same step functions
compute them here, so a cell and a one-layer, one-step layer with the same weights agree.
Backpropagation through a loop of cells is BPTT, done by the engine on the unrolled graph.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...errors import LaminaTypeError, LaminaValueError, ShapeError
from ...ops.activation import relu, tanh
from ...ops.arithmetic import add
from ...ops.linalg import linear
from ..module import Module, Parameter
from ..parameter import parameter_dtype
from .gru import gru_step
from .lstm import lstm_step
from .rnn import check_size, elman_step, uniform_reset, zeros_state

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """The parameters and checks every cell shares (PyTorch's ``nn.RNNCellBase``).

    ``RNNCellBase(input_size, hidden_size, bias, num_chunks, device=None, dtype=None)``:
    ``weight_ih`` (num_chunks * hidden_size, input_size), ``weight_hh`` (num_chunks *
    hidden_size, hidden_size), and with ``bias`` ``bias_ih``, ``bias_hh`` (num_chunks *
    hidden_size,), all from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); num_chunks is the
    number of gate blocks (1, 4 or 3).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = check_size(input_size, "input_size")
        self.hidden_size = check_size(hidden_size, "hidden_size")
        self.bias = bool(bias)
        dtype = parameter_dtype(device, dtype)
        gate_size = check_size(num_chunks, "num_chunks") * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((gate_size, self.hidden_size), dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(gate_size, dtype))
            self.bias_hh = Parameter(np.empty(gate_size, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        uniform_reset(self, self.hidden_size)

    def _check_input(self, input: Tensor) -> bool:
        """Whether ``input`` is batched; raises for a bad one."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise LaminaTypeError(f"{name}: expected the input to be a Tensor, got "
                                  f"{type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                             f"expected {self.input_size}")
        return input.ndim == 2

    def _state(self, state, input: Tensor, what: str) -> Tensor:
        """``state`` checked against the input, or zeros when None."""
        expected = input.shape[:-1] + (self.hidden_size,)
        if state is None:
            return zeros_state(input, expected)
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise LaminaTypeError(f"{name}: expected {what} to be a Tensor, got {type(state).__name__}")
        if state.ndim != input.ndim:
            raise ShapeError(f"{name}: Expected {what} to be {input.ndim}D like the input, got "
                             f"{state.ndim}D instead")
        if tuple(state.shape) != tuple(expected):
            raise ShapeError(f"{name}: {what} has shape {tuple(state.shape)}, expected "
                             f"{tuple(expected)} (batch size and hidden_size of the input and cell)")
        return state

    def _input_gates(self, input: Tensor, fold_hh_bias: bool) -> Tensor:
        """W_ih x + b_ih, plus b_hh when it enters additively (Elman, LSTM)."""
        if not self.bias:
            return linear(input, self.weight_ih)
        gates = linear(input, self.weight_ih, self.bias_ih)
        return add(gates, self.bias_hh) if fold_hh_bias else gates

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman step ``h' = sigma(W_ih x + b_ih + W_hh h + b_hh)`` (PyTorch's ``nn.RNNCell``).

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', device=None,
    dtype=None)``; sigma = tanh or ReLU. ``forward(input, hx=None) -> h'`` with ``input``
    (N, input_size) or (input_size,) and ``hx`` (N, hidden_size) or (hidden_size,), zeros
    when None.

    >>> cell = nn.RNNCell(10, 20)
    >>> h = lm.zeros(3, 20)
    >>> for x_t in lm.randn(6, 3, 10):
    ...     h = cell(x_t, h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise LaminaValueError(f"Unknown nonlinearity: {nonlinearity!r} (expected 'tanh' or 'relu')")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input(input)
        h = self._state(hx, input, "hx")
        act = tanh if self.nonlinearity == "tanh" else relu
        return elman_step(self._input_gates(input, True), h, self.weight_hh, act)


class LSTMCell(RNNCellBase):
    """One LSTM step (PyTorch's ``nn.LSTMCell``): gates i, f, g, o, then
    ``c' = f (.) c + i (.) g`` and ``h' = o (.) tanh(c')`` (equations in :mod:`.lstm`).

    ``LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)``; ``weight_ih``
    (4 hidden_size, input_size), ``weight_hh`` (4 hidden_size, hidden_size).
    ``forward(input, hx=None) -> (h', c')`` with ``hx = (h, c)``, each (N, hidden_size) or
    unbatched (hidden_size,), zeros when None.

    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(lm.randn(3, 10))             # h and c (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        self._check_input(input)
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise LaminaTypeError(f"LSTMCell expects hx as a tuple (h, c) of two tensors, got "
                                  f"{type(hx).__name__}")
        h, c = self._state(hx[0], input, "hx[0]"), self._state(hx[1], input, "hx[1]")
        return lstm_step(self._input_gates(input, True), h, c, self.weight_hh)


class GRUCell(RNNCellBase):
    """One GRU step (PyTorch's ``nn.GRUCell``): gates r, z, n with b_hn inside the reset
    gate's product, then ``h' = (1 - z) (.) n + z (.) h`` (equations in :mod:`.gru`).

    ``GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)``; ``weight_ih``
    (3 hidden_size, input_size), ``weight_hh`` (3 hidden_size, hidden_size).
    ``forward(input, hx=None) -> h'`` with the shapes of ``RNNCell``.

    >>> cell = nn.GRUCell(10, 20)
    >>> h = cell(lm.randn(3, 10))                # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input(input)
        h = self._state(hx, input, "hx")
        return gru_step(self._input_gates(input, False), h, self.weight_hh, self.bias_hh)

"""Recurrent layers: the shared multi-layer machinery ``RNNBase`` and the Elman ``RNN``.

Ghauch & Ghadikolaei's taxonomy of networks: "Recurrent NN: allow for loops in network". The loop is
a hidden state fed back into the layer at the next time step; for the Elman network, layer
l at time t computes

    h_t^(l) = sigma(W_ih^(l) x_t^(l) + b_ih^(l) + W_hh^(l) h_{t-1}^(l) + b_hh^(l)),

with sigma = tanh or ReLU, x_t^(1) the input at time t and x_t^(l) = h_t^(l-1) above it.
Unrolling the loop over the T time steps turns it into an ordinary acyclic graph, a
T-layer-deep network whose layers share the weights W_hh; backpropagation on that unrolled
graph is *backpropagation through time*, and the gradient of a shared weight is the sum of
its gradients at every step. Here the unrolled graph is built from lamina's differentiable
operations (a Python loop over time steps, never over the batch), so the engine's ordinary
backward pass performs BPTT. The input projections W_ih x_t (+ biases) of all time steps
are computed with one matrix product before the loop; only the recurrence is sequential.

``RNNBase`` owns what every recurrent layer shares: PyTorch's parameter names and layouts,
the loop over layers and directions (a bidirectional layer runs a second recurrence over the
reversed sequence and concatenates both hidden states), dropout between layers, and the
input layouts (time-major, ``batch_first``, unbatched). A subclass supplies only its cell:
the input projection and one recurrence step (``LSTM`` in :mod:`.lstm`, ``GRU`` in
:mod:`.gru`).
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ...autograd.tensor import Tensor
from ...backend import get_array_module, to_host
from ...errors import LaminaTypeError, LaminaValueError, ShapeError
from ...ops.activation import relu, tanh
from ...ops.arithmetic import add
from ...ops.dropout import dropout as _dropout
from ...ops.indexing import index_select
from ...ops.join import cat, split, stack, unbind
from ...ops.linalg import linear
from ..init import uniform_
from ..module import Module, Parameter
from ..parameter import parameter_dtype
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "elman_step"]

# Gate blocks stacked in each weight matrix, per mode (PyTorch's modes).
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def elman_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, act) -> Tensor:
    """One Elman step ``h' = act(x_proj + W_hh h)``, with ``x_proj = W_ih x + b_ih + b_hh``
    already computed."""
    return act(add(x_proj, linear(h, w_hh)))


def _rows(state, start: int, stop: int):
    """Rows start:stop of a state (a tensor, or the LSTM's (h, c))."""
    if isinstance(state, tuple):
        return tuple(_rows(s, start, stop) for s in state)
    return state[start:stop]


def _join_rows(states: list):
    """States (tensors, or (h, c) pairs) joined along the batch rows."""
    if isinstance(states[0], tuple):
        return tuple(cat(list(parts), 0) for parts in zip(*states))
    return cat(states, 0)


def _select_rows(state, index: Tensor):
    """The rows ``index`` of a state, in that order (a packed batch's permutation)."""
    if isinstance(state, tuple):
        return tuple(_select_rows(s, index) for s in state)
    return index_select(state, 0, index)


def check_size(value, name: str) -> int:
    """``value`` as a positive int, or a LaminaValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise LaminaValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def zeros_state(like: Tensor, shape: tuple) -> Tensor:
    """A zero state of ``like``'s dtype and array module (the default initial state)."""
    xp = get_array_module(like._data)
    return Tensor._wrap(xp.zeros(shape, like._data.dtype))


def uniform_reset(module: Module, hidden_size: int) -> None:
    """Every parameter of ``module`` from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
    drawn in parameter order as PyTorch does."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        uniform_(p, -bound, bound)


class RNNBase(Module):
    """The machinery shared by ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``nn.RNNBase``).

    ``RNNBase(mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None)`` with ``mode``
    one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'.

    Parameters, for layer k and direction suffix s ('' or '_reverse'), in PyTorch's order:
    ``weight_ih_l{k}{s}`` (G*hidden_size, in_k), ``weight_hh_l{k}{s}`` (G*hidden_size, H_out),
    ``bias_ih_l{k}{s}`` and ``bias_hh_l{k}{s}`` (G*hidden_size,) when ``bias``, and, for an LSTM
    with ``proj_size > 0``, ``weight_hr_l{k}{s}`` (proj_size, hidden_size). G is the number of
    gates (1, 4 or 3), H_out = proj_size or hidden_size, in_0 = input_size and
    in_k = num_directions * H_out above. All are drawn from U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)).

    ``forward(input, hx=None)`` also takes a :class:`~lamina.nn.utils.rnn.PackedSequence`
    (sequences of different lengths): it then runs step t on the ``batch_sizes[t]``
    sequences still running, returns a PackedSequence, and the final states are each
    sequence's state at its own last step (in the caller's batch order).

    Subclasses implement ``_project(x, w)`` (input projections of all steps at once),
    ``_step(x_t, state, w) -> (state, h_t)`` and, when the state is not a single tensor,
    ``_initial_states`` and ``_final``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise LaminaValueError(f"Unrecognized RNN mode: {mode!r} (expected one of "
                                   f"{', '.join(_GATES)})")
        self.mode = mode
        self.input_size = check_size(input_size, "input_size")
        self.hidden_size = check_size(hidden_size, "hidden_size")
        self.num_layers = check_size(num_layers, "num_layers")
        if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Number)
                or not 0 <= dropout <= 1):
            raise LaminaValueError(f"dropout should be a number in range [0, 1] representing the "
                                   f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
            raise LaminaValueError("proj_size should be a positive integer or zero to disable "
                                   f"projections, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise LaminaValueError(f"proj_size has to be smaller than hidden_size, got "
                                   f"proj_size={proj_size} and hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise LaminaValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = int(proj_size)
        dtype = parameter_dtype(device, dtype)
        gate_size = _GATES[mode] * self.hidden_size
        out_size = self.proj_size or self.hidden_size
        self._all_weights = []
        self._flat_weights_names = []
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else out_size * self.num_directions
            for suffix in ("", "_reverse")[:self.num_directions]:
                shapes = [(f"weight_ih_l{k}{suffix}", (gate_size, fan_in)),
                          (f"weight_hh_l{k}{suffix}", (gate_size, out_size))]
                if self.bias:
                    shapes += [(f"bias_ih_l{k}{suffix}", (gate_size,)),
                               (f"bias_hh_l{k}{suffix}", (gate_size,))]
                if self.proj_size:
                    shapes.append((f"weight_hr_l{k}{suffix}", (self.proj_size, self.hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(np.empty(shape, dtype)))
                self._all_weights.append([name for name, _ in shapes])
                self._flat_weights_names.extend(name for name, _ in shapes)
        self.reset_parameters()
        if device is not None:  # made and initialised on the host, then moved
            self.to(device)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        uniform_reset(self, self.hidden_size)

    @property
    def all_weights(self) -> list:
        """The parameters grouped by layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch compatibility: lamina's weights need no flattening."""

    def _weights(self, index: int) -> dict:
        """Layer-direction ``index``'s parameters by role: w_ih, w_hh, b_ih, b_hh, w_hr."""
        roles = ["w_ih", "w_hh"] + (["b_ih", "b_hh"] if self.bias else []) + (
            ["w_hr"] if self.proj_size else [])
        return dict(zip(roles, (getattr(self, n) for n in self._all_weights[index])))

    # ------------------------------------------------------------------ checking
    def _check_input(self, input: Tensor) -> tuple[bool, int]:
        """(batched, time_dim) of a valid input; raises for a bad one."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise LaminaTypeError(f"{name}: expected the input to be a Tensor or a "
                                  f"PackedSequence, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        time_dim = 1 if (batched and self.batch_first) else 0
        if input.shape[time_dim] == 0:
            raise ShapeError(f"{name}: the input has no time steps (shape {tuple(input.shape)})")
        return batched, time_dim

    def _state_shape(self, batch: int | None, size: int) -> tuple:
        lead = self.num_layers * self.num_directions
        return (lead, size) if batch is None else (lead, batch, size)

    def _check_state(self, state: Tensor, expected: tuple, what: str) -> None:
        if not isinstance(state, Tensor):
            raise LaminaTypeError(f"{type(self).__name__}: expected {what} to be a Tensor, got "
                                   f"{type(state).__name__}")
        if state.ndim != len(expected):
            kind = "3-D" if len(expected) == 3 else "2-D"
            raise ShapeError(f"For {'batched 3-D' if len(expected) == 3 else 'unbatched 2-D'} input, "
                             f"hx should also be {kind} but got {state.ndim}-D tensor")
        if tuple(state.shape) != expected:
            raise ShapeError(f"Expected {what} size {expected}, got {tuple(state.shape)}")

    # ------------------------------------------------------------------ the cell (overridden)
    def _initial_states(self, hx, input: Tensor, batch: int | None) -> list:
        """One initial state per layer and direction: the slices of ``hx``, zeros when None."""
        expected = self._state_shape(batch, self.hidden_size)
        if hx is None:
            return [zeros_state(input, expected[1:])] * expected[0]
        self._check_state(hx, expected, "hidden")
        return list(unbind(hx, 0))

    def _project(self, x: Tensor, w: dict) -> Tensor:
        """The input projections of all time steps, with both biases (they enter additively)."""
        if not self.bias:
            return linear(x, w["w_ih"])
        return add(linear(x, w["w_ih"], w["b_ih"]), w["b_hh"])

    def _step(self, x_t: Tensor, state, w: dict):
        """One recurrence step: (new state, h_t)."""
        act = tanh if self.mode == "RNN_TANH" else relu
        h = elman_step(x_t, state, w["w_hh"], act)
        return h, h

    def _final(self, finals: list):
        """The final states of all layers and directions, stacked as PyTorch returns them."""
        return stack(finals, 0)

    # ------------------------------------------------------------------ the unrolled loop
    def _direction(self, steps: list, state, w: dict, reverse: bool, sizes):
        """Run one direction over the time steps: (h_t for every t, final state). With
        ``sizes`` (a packed sequence's batch sizes) step t has only ``sizes[t]`` rows: going
        forward the rows of sequences that ended are set aside as their final states, going
        backward the rows of sequences that start are taken from the initial state."""
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        initial, done, hs = state, [], []
        rows = None if sizes is None else sizes[0]
        if sizes is not None and sizes[order[0]] < rows:
            state, rows = _rows(state, 0, sizes[order[0]]), sizes[order[0]]
        for t in order:
            if sizes is not None and sizes[t] < rows:
                done.append(_rows(state, sizes[t], rows))
                state = _rows(state, 0, sizes[t])
            elif sizes is not None and sizes[t] > rows:
                state = _join_rows([state, _rows(initial, rows, sizes[t])])
            rows = None if sizes is None else sizes[t]
            state, h = self._step(steps[t], state, w)
            hs.append(h)
        if reverse:
            hs.reverse()
        return hs, (_join_rows([state] + done[::-1]) if done else state)

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            x, time_dim, sizes = input.data, 0, to_host(input.batch_sizes._data).tolist()
            self._check_packed(x)
            batch = sizes[0]
        else:
            batched, time_dim = self._check_input(input)
            x, sizes = input, None
            batch = input.shape[1 - time_dim] if batched else None
        states = self._initial_states(hx, x, batch)
        if packed and input.sorted_indices is not None:     # hx is in the caller's order
            states = [_select_rows(s, input.sorted_indices) for s in states]
        layer_input, finals = x, []
        for k in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                index = k * self.num_directions + d
                w = self._weights(index)
                proj = self._project(layer_input, w)
                steps = split(proj, sizes, 0) if packed else unbind(proj, time_dim)
                hs, final = self._direction(steps, states[index], w, d == 1, sizes)
                finals.append(final)
                outputs.append(cat(hs, 0) if packed else stack(hs, time_dim))
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and k < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout, True)
        if not packed:
            return layer_input, self._final(finals)
        if input.unsorted_indices is not None:
            finals = [_select_rows(s, input.unsorted_indices) for s in finals]
        return (PackedSequence(layer_input, input.batch_sizes, input.sorted_indices,
                               input.unsorted_indices), self._final(finals))

    def _check_packed(self, data: Tensor) -> None:
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: a PackedSequence's data must be "
                             f"(total steps, {self.input_size}), got {tuple(data.shape)}")

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """A multi-layer Elman RNN with tanh or ReLU units (PyTorch's ``nn.RNN``).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)``.

    For layer l and time t: ``h_t = sigma(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, sigma =
    tanh or ReLU. Parameters per layer k (PyTorch's names and shapes): ``weight_ih_l{k}``
    (hidden_size, input_size for k = 0, else num_directions * hidden_size),
    ``weight_hh_l{k}`` (hidden_size, hidden_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}``
    (hidden_size,), and the same with ``_reverse`` for the backward direction when
    ``bidirectional``; all initialised U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    ``forward(input, hx=None) -> (output, h_n)``: ``input`` is (T, N, input_size), or
    (N, T, input_size) with ``batch_first``, or unbatched (T, input_size); ``hx`` the initial
    hidden state (D * num_layers, N, hidden_size) or (D * num_layers, hidden_size), zeros when
    None (D = 2 if bidirectional else 1). ``output`` holds the last layer's h_t for every t
    (same layout as the input, D * hidden_size features: forward and reverse concatenated)
    and ``h_n`` the final hidden state of every layer and direction. ``input`` may also be a
    PackedSequence (``nn.utils.rnn.pack_padded_sequence``); ``output`` is then one too, and
    ``h_n`` holds each sequence's state at its own last step. ``dropout`` applies
    dropout to the outputs of every layer except the last, in training mode only. Gradients
    are computed by backpropagation through time (see the module docstring).

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> out, h = rnn(lm.randn(5, 3, 10))        # out (5, 3, 20), h (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise LaminaValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

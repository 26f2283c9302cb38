"""``LSTM``: long short-term memory (Hochreiter and Schmidhuber, 1997), by BPTT.

The Elman recurrence (:mod:`.rnn`) multiplies the gradient by W_hh and sigma' at every step
back in time, so over long sequences it vanishes or explodes. The LSTM adds a *cell state*
c_t that is carried forward by element-wise gating, not by a matrix product; at time t, with
sigma the logistic function and (.) the element-wise product,

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        input gate
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        forget gate
    g_t = tanh (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)        candidate cell
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        output gate
    c_t = f_t (.) c_{t-1} + i_t (.) g_t
    h_t = o_t (.) tanh(c_t)

so dc_t/dc_{t-1} = f_t, which the network can hold near 1 to carry information (and
gradient) over many steps. With ``proj_size = P > 0`` the hidden state is projected,
h_t = W_hr (o_t (.) tanh(c_t)) with W_hr of shape (P, hidden_size) (Sak et al., 2014), and
W_h* then have P columns.

PyTorch's layout, which lamina keeps: the four gate blocks are stacked in the order
i, f, g, o in ``weight_ih_l{k}`` (4 hidden_size, in_k), ``weight_hh_l{k}`` (4 hidden_size,
H_out) and the biases (4 hidden_size,).
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...errors import LaminaTypeError, ShapeError
from ...ops.activation import sigmoid, tanh
from ...ops.arithmetic import add, mul
from ...ops.join import chunk, stack, unbind
from ...ops.linalg import linear
from .rnn import RNNBase, zeros_state

__all__ = ["LSTM", "lstm_step"]


def lstm_step(gates_x: Tensor, h: Tensor, c: Tensor, w_hh: Tensor,
              w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step from the input part of the gates ``gates_x = W_i* x + b_i* + b_h*``
    (all four blocks, order i, f, g, o): returns (h', c') by the module docstring's equations."""
    i, f, g, o = chunk(add(gates_x, linear(h, w_hh)), 4, -1)
    c = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)))
    h = mul(sigmoid(o), tanh(c))
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


class LSTM(RNNBase):
    """A multi-layer LSTM (PyTorch's ``nn.LSTM``); the equations are in the module docstring.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None)``.

    Parameters per layer k (and ``_reverse`` twins when bidirectional): ``weight_ih_l{k}``
    (4 hidden_size, input_size for k = 0, else D * H_out), ``weight_hh_l{k}``
    (4 hidden_size, H_out), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (4 hidden_size,) and with
    ``proj_size`` > 0 ``weight_hr_l{k}`` (proj_size, hidden_size); H_out = proj_size or
    hidden_size, D = 2 if bidirectional else 1. All from U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)).

    ``forward(input, hx=None) -> (output, (h_n, c_n))``: ``input`` (T, N, input_size),
    (N, T, input_size) with ``batch_first``, or unbatched (T, input_size); ``hx = (h_0, c_0)``
    with h_0 (D * num_layers, N, H_out) and c_0 (D * num_layers, N, hidden_size) (without the
    N axis when unbatched), zeros when None. ``output`` has D * H_out features per step;
    a PackedSequence input gives a PackedSequence output (see ``nn.RNN``);
    ``dropout`` acts between layers in training mode.

    >>> lstm = nn.LSTM(10, 20, num_layers=2)
    >>> out, (h, c) = lstm(lm.randn(5, 3, 10))   # out (5, 3, 20), h and c (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)

    def _initial_states(self, hx, input: Tensor, batch: int | None) -> list:
        h_shape = self._state_shape(batch, self.proj_size or self.hidden_size)
        c_shape = self._state_shape(batch, self.hidden_size)
        if hx is None:
            return [(zeros_state(input, h_shape[1:]), zeros_state(input, c_shape[1:]))] * h_shape[0]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise LaminaTypeError(f"LSTM expects hx as a tuple (h_0, c_0) of two tensors, got "
                                  f"{type(hx).__name__}")
        h0, c0 = hx
        if isinstance(h0, Tensor) and isinstance(c0, Tensor) and (h0.ndim != len(h_shape)
                                                                   or c0.ndim != len(h_shape)):
            kind = "3-D" if batch is not None else "2-D"
            raise ShapeError(
                f"For {'batched 3-D' if batch is not None else 'unbatched 2-D'} input, hx and cx "
                f"should also be {kind} but got ({h0.ndim}-D, {c0.ndim}-D) tensors")
        self._check_state(h0, h_shape, "hidden[0]")
        self._check_state(c0, c_shape, "hidden[1]")
        return list(zip(unbind(h0, 0), unbind(c0, 0)))

    def _step(self, x_t: Tensor, state, w: dict):
        h, c = lstm_step(x_t, state[0], state[1], w["w_hh"], w.get("w_hr"))
        return (h, c), h

    def _final(self, finals: list):
        return stack([h for h, _ in finals], 0), stack([c for _, c in finals], 0)

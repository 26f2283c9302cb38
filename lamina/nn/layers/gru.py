"""``GRU``: the gated recurrent unit (Cho et al., 2014), trained by BPTT.

A lighter relative of the LSTM (:mod:`.lstm`): no separate cell state, two gates. At time
t, with sigma the logistic function and (.) the element-wise product,

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)              reset gate
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)              update gate
    n_t = tanh (W_in x_t + b_in + r_t (.) (W_hn h_{t-1} + b_hn))    candidate
    h_t = (1 - z_t) (.) n_t + z_t (.) h_{t-1}  =  n_t + z_t (.) (h_{t-1} - n_t)

so h_t interpolates between the previous state and the candidate, and dh_t/dh_{t-1}
contains the term z_t that can carry gradient unchanged over many steps. Note b_hn sits
inside the product with r_t (PyTorch's and cuDNN's convention), so b_hh cannot be folded
into the input projection as it is for the Elman network and the LSTM.

PyTorch's layout, which lamina keeps: the gate blocks are stacked in the order r, z, n in
``weight_ih_l{k}`` (3 hidden_size, in_k), ``weight_hh_l{k}`` (3 hidden_size, hidden_size)
and the biases (3 hidden_size,).
"""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops.activation import sigmoid, tanh
from ...ops.arithmetic import add, mul, sub
from ...ops.join import chunk, split
from ...ops.linalg import linear
from .rnn import RNNBase

__all__ = ["GRU", "gru_step"]


def gru_step(gates_x: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step from the input part of the gates ``gates_x = W_i* x + b_i*`` (blocks
    r, z, n): returns h' by the module docstring's equations."""
    hidden = h.shape[-1]
    x_rz, x_n = split(gates_x, [2 * hidden, hidden], -1)
    h_rz, h_n = split(linear(h, w_hh, b_hh), [2 * hidden, hidden], -1)
    r, z = chunk(sigmoid(add(x_rz, h_rz)), 2, -1)
    n = tanh(add(x_n, mul(r, h_n)))
    return add(n, mul(z, sub(h, n)))


class GRU(RNNBase):
    """A multi-layer GRU (PyTorch's ``nn.GRU``); the equations are in the module docstring.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)``.

    Parameters per layer k (and ``_reverse`` twins when bidirectional): ``weight_ih_l{k}``
    (3 hidden_size, input_size for k = 0, else D * hidden_size), ``weight_hh_l{k}``
    (3 hidden_size, hidden_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (3 hidden_size,),
    all from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); D = 2 if bidirectional else 1.

    ``forward(input, hx=None) -> (output, h_n)`` with the layouts of ``nn.RNN``: ``input``
    (T, N, input_size), (N, T, input_size) with ``batch_first``, or unbatched
    (T, input_size); ``hx`` (D * num_layers, N, hidden_size) or unbatched
    (D * num_layers, hidden_size), zeros when None; or a PackedSequence, as for ``nn.RNN``.

    >>> gru = nn.GRU(10, 20, num_layers=2)
    >>> out, h = gru(lm.randn(5, 3, 10))         # out (5, 3, 20), h (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def _project(self, x: Tensor, w: dict) -> Tensor:
        """W_i* x + b_i* for all steps; b_hh stays in the step (b_hn is gated by r)."""
        return linear(x, w["w_ih"], w.get("b_ih"))

    def _step(self, x_t: Tensor, state, w: dict):
        h = gru_step(x_t, state, w["w_hh"], w.get("b_hh"))
        return h, h

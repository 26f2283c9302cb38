"""Batching sequences of different lengths for the recurrent layers (PyTorch's
``torch.nn.utils.rnn``).

A recurrent layer (:mod:`lamina.nn.layers.rnn`) takes one tensor of shape (T, N, *) (or
(N, T, *) with ``batch_first``), so sequences of lengths L_1, ..., L_N are first padded to
T = max_i L_i: sequence i fills the first L_i steps of its column (``padding_side='right'``)
or the last L_i (``'left'``), and the remaining steps hold ``padding_value``.

Padding costs computation on the padded steps and, worse, lets them change the final
hidden state. A :class:`PackedSequence` avoids both: the sequences are sorted by decreasing
length and their steps stored time-major without gaps, so step t holds ``batch_sizes[t]``
rows (the sequences still running at t). The recurrent layers accept it directly, run step
t on those rows only, and return each sequence's state at its own last step.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend import get_array_module, on_device_of, to_host
from ...errors import LaminaTypeError, LaminaValueError, ShapeError
from ...ops.indexing import index_select
from ...ops.join import cat, unbind
from ...ops.shape import reshape

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


class PadSequence(Function):
    """Y[t, i] = x_i[t - s_i] for s_i <= t < s_i + L_i, else ``padding_value`` (s_i = 0 when
    padding on the right, T - L_i on the left), with the batch axis first when ``batch_first``;
    dL/dx_i = the block of dL/dY that x_i filled (the padding receives no gradient)."""

    @staticmethod
    def forward(ctx, *xs, batch_first, padding_value, left):
        xp = get_array_module(*xs)
        first = xs[0]
        steps = max(x.shape[0] for x in xs)
        out = xp.full((len(xs), steps) + first.shape[1:], padding_value, dtype=first.dtype)
        ctx.blocks = []
        for i, x in enumerate(xs):
            start = steps - x.shape[0] if left else 0
            block = slice(start, start + x.shape[0])
            out[i, block] = x
            ctx.blocks.append(block)
        ctx.batch_first = batch_first
        return out if batch_first else xp.ascontiguousarray(xp.swapaxes(out, 0, 1))

    @staticmethod
    def backward(ctx, grad):
        grads = []
        for i, (block, need) in enumerate(zip(ctx.blocks, ctx.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            g = grad[i, block] if ctx.batch_first else grad[block, i]
            grads.append(g.astype(ctx.input_meta[i][1], copy=True))
        return tuple(grads)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Pad a list of tensors of shapes (L_i, *) to one tensor (T, N, *), or (N, T, *) with
    ``batch_first``, where T = max L_i and N the number of sequences (differentiable).

    ``padding_side`` 'right' puts the padding after each sequence, 'left' before it. The
    trailing sizes ``*`` must agree; the result has the first sequence's dtype (the others
    and ``padding_value`` are converted to it, as in PyTorch).

    >>> a, b = lm.ones(3, 2), lm.ones(1, 2)
    >>> nn.utils.rnn.pad_sequence([a, b]).shape
    (3, 2, 2)
    """
    if isinstance(sequences, Tensor):
        sequences = list(unbind(sequences, 0)) if sequences.ndim else [sequences]
    if not isinstance(sequences, (list, tuple)):
        try:
            sequences = list(sequences)
        except TypeError:
            raise LaminaTypeError(f"pad_sequence expects a list of tensors, got "
                                  f"{type(sequences).__name__}") from None
    if not sequences:
        raise LaminaValueError("pad_sequence received an empty list of sequences")
    for k, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise LaminaTypeError(f"pad_sequence expects tensors, got {type(s).__name__} at "
                                  f"position {k}")
    if padding_side not in ("left", "right"):
        raise LaminaValueError(f"Expected padding_side to be one of left or right, but got "
                               f"{padding_side}.")
    first = sequences[0]
    if first.ndim == 0:
        raise ShapeError("pad_sequence: the sequences must have at least one dimension (time), "
                         "got a 0-d tensor")
    for k, s in enumerate(sequences):
        if s.ndim != first.ndim or tuple(s.shape[1:]) != tuple(first.shape[1:]):
            raise ShapeError(f"pad_sequence: sequence {k} has shape {tuple(s.shape)}, which does "
                             f"not fit sequence 0's {tuple(first.shape)} (all sizes but the "
                             "first must agree)")
    value = padding_value
    if first._data.dtype.kind in "iub":
        value = first._data.dtype.type(int(padding_value))
    return PadSequence.apply(*sequences, batch_first=bool(batch_first), padding_value=value,
                             left=padding_side == "left")


# --------------------------------------------------------------------------- packing
def _int64(values, like=None) -> Tensor:
    """``values`` (computed on the host) as an int64 tensor, on the device of the array
    ``like`` when given (PyTorch keeps lengths and batch sizes on the CPU, and the
    permutations on the data's device)."""
    array = np.asarray(values, dtype=np.int64)
    return Tensor._wrap(array if like is None else on_device_of(array, like))


def _lengths(lengths) -> np.ndarray:
    """``lengths`` (a list, array or 1-D integer Tensor) as a 1-D int64 NumPy array."""
    array = to_host(lengths._data) if isinstance(lengths, Tensor) else np.asarray(lengths)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise LaminaTypeError(f"lengths must be a 1-D sequence of integers, got {lengths!r}")
    return array.astype(np.int64)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                     "unsorted_indices"])):
    """Sequences of different lengths packed for a recurrent layer (PyTorch's
    ``nn.utils.rnn.PackedSequence``); build it with :func:`pack_padded_sequence` or
    :func:`pack_sequence`, never by hand.

    ``data`` (sum of lengths, *): the steps of all sequences, time-major, sequences sorted by
    decreasing length; ``batch_sizes`` (int64, one entry per time step): how many sequences
    run at each step; ``sorted_indices``: original index of each sorted position (None when
    the input was already sorted); ``unsorted_indices``: its inverse permutation.
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices=None,
                unsorted_indices=None):
        if batch_sizes is None:
            raise LaminaValueError("PackedSequence needs batch_sizes; build one with "
                                   "pack_padded_sequence or pack_sequence")
        if unsorted_indices is None and sorted_indices is not None:
            order = to_host(sorted_indices._data)
            inverse = np.empty_like(order)
            inverse[order] = np.arange(order.size)
            unsorted_indices = _int64(inverse, sorted_indices._data)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """The same packing with ``data.to(*args, **kwargs)`` (a dtype or device)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        # the permutations follow the data; batch_sizes stay on the CPU, as in PyTorch
        indices = [None if i is None else Tensor._wrap(on_device_of(i._data, data._data))
                   for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def float(self) -> "PackedSequence":
        return self.to(np.float32)

    def double(self) -> "PackedSequence":
        return self.to(np.float64)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *), or (B, T, *) with ``batch_first``, whose sequence b has
    ``lengths[b]`` valid steps (differentiable in ``input``).

    With ``enforce_sorted`` the lengths must be in decreasing order; otherwise the batch is
    sorted here and the permutation kept in the result, so that the layers' outputs come
    back in the original order.

    >>> packed = nn.utils.rnn.pack_padded_sequence(padded, [4, 2, 1])
    >>> out, h = gru(packed)                     # h: each sequence's state at its last step
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ShapeError(f"pack_padded_sequence expects a padded tensor of at least 2 dimensions "
                         f"(time and batch), got {getattr(input, 'shape', type(input).__name__)}")
    lengths = _lengths(lengths)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != batch:
        raise ShapeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{lengths.size} (batch_size={batch})")
    if np.any(lengths <= 0):
        raise LaminaValueError("Length of all samples has to be greater than 0, but found an "
                               f"element in 'lengths' that is <= 0: {lengths.tolist()}")
    if lengths.max() > steps:
        raise ShapeError(f"lengths {lengths.tolist()} exceed the {steps} time steps of the input")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise LaminaValueError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                f"pack_sequence to sidestep this requirement (got {lengths.tolist()}).")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _int64(order, input._data)
    sizes = (lengths[order][None, :] > np.arange(lengths.max())[:, None]).sum(1)
    # Row of (t, sorted position b) in the input flattened over its first two axes.
    rows = [order[:n] * steps + t if batch_first else t * batch + order[:n]
            for t, n in enumerate(sizes)]
    data = index_select(reshape(input, (steps * batch,) + tuple(input.shape[2:])), 0,
                        _int64(np.concatenate(rows), input._data))
    return PackedSequence(data, _int64(sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)`` with ``padded``
    (T, B, *) (or (B, T, *) with ``batch_first``) in the original batch order, T the longest
    length or ``total_length``, and ``lengths`` (int64) each sequence's length (differentiable
    in ``sequence.data``)."""
    if not isinstance(sequence, PackedSequence):
        raise LaminaTypeError(f"pad_packed_sequence expects a PackedSequence, got "
                              f"{type(sequence).__name__}")
    data = sequence.data
    sizes = to_host(sequence.batch_sizes._data).astype(np.int64)
    steps, batch = sizes.size, int(sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise LaminaValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps = int(total_length)
    sorted_lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    position = (np.arange(batch) if sequence.unsorted_indices is None
                else to_host(sequence.unsorted_indices._data))  # sorted position of each sequence
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    t = np.arange(steps)[:, None]
    active = t < sorted_lengths[position][None, :]
    # Row of data for (t, original b); the padding points one past the end, at a pad row.
    rows = np.where(active, offsets[np.minimum(t, sizes.size - 1)] + position[None, :], offsets[-1])
    if batch_first:
        rows = rows.T
    xp = get_array_module(data._data)
    pad_row = Tensor._wrap(xp.full((1,) + tuple(data.shape[1:]), padding_value, data._data.dtype))
    padded = index_select(cat([data, pad_row], 0), 0, _int64(rows.reshape(-1), data._data))
    padded = reshape(padded, rows.shape + tuple(data.shape[1:]))
    return padded, _int64(sorted_lengths[position])


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) directly: :func:`pad_sequence`, then
    :func:`pack_padded_sequence` with their lengths."""
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences (L_i, *) held in a padded batch (the inverse of
    :func:`pad_sequence` with right padding)."""
    lengths = _lengths(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences held in a PackedSequence (the inverse of :func:`pack_sequence`)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

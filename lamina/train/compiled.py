"""A training step's forward and backward pass, recorded once and replayed.

For a model built only from lamina's own layers (which do all their computing in operations),
the step ``loss = loss_fn(model(x), y); loss.backward()`` is the same sequence of operations
for every batch of the same shape. :class:`CompiledStep` runs the first batch of each shape
eagerly while recording a :class:`~lamina.autograd.tape.Tape`, checks on the next batch of
that shape that the replay gives bitwise the same loss and gradients as the eager step (else
it stays eager for that shape), and from then on replays the tape: no Tensors, graph nodes or
topological sorts per step. It is the eager step, minus the bookkeeping.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tape import Tape, recording
from ..random import get_rng_state, set_rng_state

__all__ = ["CompiledStep", "is_traceable"]


def _traceable_types() -> frozenset:
    """Module classes whose forward is operations only: no Python branch on tensor values and
    no state changed outside operations (BatchNorm's batch counter is such state, so BatchNorm
    and the ResNets are not here). Exact types: a user's subclass may override forward."""
    from .. import nn
    from ..models import AlexNet, Autoencoder, GoogLeNet, LeNet5, NearestUpsample2d, TFCNN, VGG
    from ..models.googlenet import Inception

    return frozenset((
        nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.Identity, nn.Flatten, nn.Unflatten,
        nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
        nn.AdaptiveMaxPool2d, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LogSigmoid, nn.Softplus,
        nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Hardtanh, nn.Heaviside, nn.Softmax,
        nn.LogSoftmax, nn.Dropout, nn.Embedding, nn.RBF, nn.RNN, nn.LayerNorm,
        LeNet5, TFCNN, AlexNet, VGG, GoogLeNet, Inception, Autoencoder, NearestUpsample2d,
    ))


def is_traceable(model) -> bool:
    """True when every module of ``model`` is of a type whose forward replays faithfully."""
    allowed = _traceable_types()
    return all(type(m) in allowed for m in model.modules())


class CompiledStep:
    """``step(x, y) -> (loss value, output array)``: forward and backward of one training step;
    gradients accumulate into the parameters' ``.grad`` as ``loss.backward()`` would.

    ``enabled=False`` (or a model that is not traceable) always runs eagerly.
    """

    def __init__(self, model, loss_fn, enabled: bool = True) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.enabled = enabled and is_traceable(model)
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self._tapes: dict = {}  # (shapes, dtypes, training) -> Tape, or None when not replayable

    def eager(self, x, y):
        out = self.model(x)
        loss = self.loss_fn(out, y)
        loss.backward()
        return loss.item(), out._data

    def _record(self, key, x, y):
        tape = Tape((x, y))
        with recording(tape):
            out = self.model(x)
            loss = self.loss_fn(out, y)
        slots = tape.finish(loss, out)
        loss.backward()
        self._tapes[key] = tape if tape.valid else None
        tape.slots = slots
        return loss.item(), out._data

    def _verify(self, tape, x, y):
        """Replay, then run eagerly from the same random state; keep the tape only if the two
        agree bit for bit. The eager result is the one used."""
        state = get_rng_state()
        before = [p.grad for p in self.parameters]
        slots = tape.forward((x._data, y._data))
        tape.backward(slots, tape.slots[0])
        replayed = [p.grad for p in self.parameters]
        replay_loss = slots[tape.slots[0]]
        for p, g in zip(self.parameters, before):
            p.grad = g
        set_rng_state(state)
        loss, out = self.eager(x, y)
        same = np.array_equal(replay_loss, np.asarray(loss, dtype=replay_loss.dtype)) and all(
            (a is None and b is None) or (a is not None and b is not None
                                          and np.array_equal(a._data, b._data))
            for a, b in zip(replayed, (p.grad for p in self.parameters)))
        tape.verified = same
        if not same:
            self._tapes[tape.key] = None
        return loss, out

    def __call__(self, x, y):
        if not self.enabled:
            return self.eager(x, y)
        key = (x.shape, x.dtype, y.shape, y.dtype, self.model.training)
        if key not in self._tapes:
            return self._record(key, x, y)
        tape = self._tapes[key]
        if tape is None:
            return self.eager(x, y)
        if not tape.verified:
            tape.key = key
            return self._verify(tape, x, y)
        loss_slot, out_slot = tape.slots
        slots = tape.forward((x._data, y._data))
        tape.backward(slots, loss_slot)
        return slots[loss_slot].item(), slots[out_slot]

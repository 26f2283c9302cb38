"""Record a forward pass once, then replay it (and its backward pass) without the graph.

A training step of a fixed network does the same operations on arrays of the same shapes
every time; only the arrays change. While a :class:`Tape` records, every ``Function.apply``
call is written down: the operation, its context, where its inputs come from (a placeholder,
a leaf parameter, a constant, or an earlier operation's output) and where its outputs go.
``Tape.forward(arrays)`` then runs the same ``forward`` methods on new placeholder arrays, and
``Tape.backward`` runs the engine's own backward loop (``engine.propagate``) over the recorded
nodes in the order computed once, so the replay does the same arithmetic in the same order as
the eager step: its results are bitwise identical, without creating Tensors, graph nodes or a
topological sort per step.

The replay is only as valid as the recording: computations outside operations (Python
branches on values, tensors made directly from arrays) are not replayed. Callers verify a
tape against an eager step before trusting it (see ``lamina.train.compiled``).
"""
from __future__ import annotations

import contextlib

import numpy as np

from .engine import propagate, topological_order
from .observers import observing

__all__ = ["Tape", "recording"]

_ndarray = np.ndarray


@contextlib.contextmanager
def recording(tape: "Tape"):
    """Record every operation applied inside the block onto ``tape``."""
    with observing(tape):
        yield tape


class Tape:
    """The recorded operations of one forward pass over placeholder tensors."""

    def __init__(self, placeholders) -> None:
        self.n_placeholders = len(placeholders)
        self._slot_of = {id(t): k for k, t in enumerate(placeholders)}
        self._alive = list(placeholders)  # keeps ids unique while recording
        self.n_slots = len(placeholders)
        self.entries: list = []           # (fn, ctx, input slots, params, output slots, multi)
        self.constants: dict = {}         # slot -> array captured at recording time
        self.leaves: list = []            # (slot, leaf tensor): read afresh at every replay
        self.valid = True                 # False if something was seen that cannot replay
        self.verified = False
        self.order = None

    def _new_slot(self, tensor) -> int:
        slot = self.n_slots
        self.n_slots += 1
        self._slot_of[id(tensor)] = slot
        self._alive.append(tensor)
        return slot

    def refuse(self, reason: str) -> None:
        self.valid = False

    def module(self, module) -> None:
        pass

    def constant(self, tensor) -> None:
        pass  # unseen tensors without grad are constants of a Tape anyway

    def alias(self, tensor, result) -> None:
        self.valid = False  # an in-place change inside the recording

    def call(self, fn, args, kwargs, result) -> None:
        self.valid = False  # a whole step (backward, an optimiser step) inside the recording

    def record(self, fn, ctx, inputs, params, results) -> None:
        """Called by ``Function.apply`` for every operation while this tape records."""
        in_slots = []
        for t in inputs:
            slot = self._slot_of.get(id(t))
            if slot is None:
                slot = self._new_slot(t)
                if t._node is not None:
                    self.valid = False  # made by a graph recorded before the tape started
                elif t.requires_grad:
                    self.leaves.append((slot, t))
                else:
                    self.constants[slot] = t._data
            in_slots.append(slot)
        multi = type(results) is tuple
        outs = results if multi else (results,)
        out_slots = tuple(self._new_slot(r) for r in outs)
        self.entries.append((fn, ctx, tuple(in_slots), params, out_slots, multi))

    def finish(self, loss, *outputs) -> tuple:
        """Close the recording: ``loss`` is the scalar to differentiate; returns the slots of
        ``loss`` and ``outputs`` (e.g. the model's output, for metrics)."""
        slots = tuple(self._slot_of.get(id(t)) for t in (loss, *outputs))
        if None in slots or loss._node is None:
            self.valid = False
        else:
            recorded = {id(entry[1]) for entry in self.entries}
            self.order = list(reversed(topological_order(loss._node)))
            if any(id(node) not in recorded for node in self.order):
                self.valid = False
            self.root = (loss._node, loss._out_index)
        for _fn, ctx, *_ in self.entries:
            ctx.version_checks = None  # replays check nothing in place
        self._alive = None
        self._slot_of = None
        template = [None] * self.n_slots
        for slot, array in self.constants.items():
            template[slot] = array
        self._template = template
        # What forward() runs: each operation's forward method looked up once, a single
        # output's slot unpacked.
        self._program = [(fn.forward, ctx, ins, params, outs if multi else outs[0], multi)
                         for fn, ctx, ins, params, outs, multi in self.entries]
        return slots

    def forward(self, arrays) -> list:
        """Replay the operations on new placeholder ``arrays``; returns every slot's array."""
        slots = list(self._template)
        slots[:self.n_placeholders] = arrays
        for slot, leaf in self.leaves:
            slots[slot] = leaf._data
        for forward, ctx, ins, params, outs, multi in self._program:
            ctx.saved = ()  # the last backward freed it; forward saves afresh
            if params:
                out = forward(ctx, *[slots[i] for i in ins], **params)
            else:
                out = forward(ctx, *[slots[i] for i in ins])
            if multi:
                for slot, o in zip(outs, out):
                    slots[slot] = o if type(o) is _ndarray else np.asarray(o)
            else:
                slots[outs] = out if type(out) is _ndarray else np.asarray(out)
        return slots

    def backward(self, slots: list, loss_slot: int) -> None:
        """Replay the backward pass of the last forward: d(loss)/d(leaf) into every leaf's grad."""
        node, index = self.root
        propagate(self.order, node, index, np.ones_like(slots[loss_slot]), retain_graph=False)

"""Replaying a recorded step for :mod:`lamina.compiler`, and the snapshot of everything a
step may change that verification compares (a replay against the eager step)."""
from __future__ import annotations

import copy

import numpy as np

from ..autograd.engine import propagate
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..random import get_rng_state, set_rng_state

__all__ = ["Program", "Snapshot"]

_ndarray = np.ndarray


def is_array(a) -> bool:
    """Whether ``a`` is an array of some array module (NumPy's or a device's), not a number."""
    return type(a) is _ndarray or (hasattr(a, "shape") and hasattr(a, "dtype")
                                   and not isinstance(a, np.generic))


def same_array(a, b) -> bool:
    """``a`` and ``b`` are arrays of one kind, dtype and shape with equal elements (NaN = NaN)."""
    return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
            and bool(get_array_module(a).array_equal(a, b, equal_nan=True)))


class Program:
    """A recorded step, replayable on new argument arrays."""

    def __init__(self, recorder, outputs) -> None:
        self.n_inputs = recorder.n_inputs
        self.n_slots = len(recorder.alive)
        self.template = [None] * self.n_slots
        for slot, array in recorder.constants.items():
            self.template[slot] = array
        self.state = recorder.state
        self.state_meta = [(t._data.shape, t._data.dtype, t.requires_grad) for _, t in self.state]
        self.modules = list(recorder.modules.values())
        self.steps = recorder.steps
        self.outputs = outputs
        self.verified = False
        for step in self.steps:  # a replay checks nothing in place: its order is fixed
            if step[0] == "op":
                step[2].version_checks = None
        self.owners = [step[2][0] for step in self.steps
                       if step[0] == "call" and step[2] and hasattr(step[2][0], "state_dict")]

    def state_matches(self) -> bool:
        return all((t._data.shape, t._data.dtype, t.requires_grad) == meta
                   for (_, t), meta in zip(self.state, self.state_meta)) and all(
            module.training == training for module, training in self.modules)

    def replay(self, tensors: list):
        slots = list(self.template)
        for k, t in enumerate(tensors[:self.n_inputs]):
            slots[k] = t._data
        for slot, t in self.state:
            slots[slot] = t._data
        for step in self.steps:
            kind = step[0]
            if kind == "op":
                _, forward, ctx, ins, params, outs, multi = step
                ctx.saved = ()  # the last backward freed it; forward saves afresh
                out = forward(ctx, *[slots[i] for i in ins], **params)
                if multi:
                    for slot, o in zip(outs, out):
                        slots[slot] = o if type(o) is _ndarray else get_array_module(o).asarray(o)
                else:
                    slots[outs] = out if type(out) is _ndarray else get_array_module(out).asarray(out)
            elif kind == "backward":
                _, node, index, order, slot, grad_slot, retain = step
                grad = (get_array_module(slots[slot]).ones_like(slots[slot]) if grad_slot is None
                        else slots[grad_slot])
                propagate(order, node, index, grad, retain_graph=retain)
            else:
                _, fn, args, kwargs = step
                fn(*args, **kwargs)
        return self._rebuild(self.outputs, slots)

    def _rebuild(self, spec, slots):
        kind, value = spec
        if kind == "slot":
            return Tensor._wrap(slots[value])
        if kind == "tensor" or kind == "const":
            return value
        if kind == "dict":
            return {k: self._rebuild(v, slots) for k, v in value}
        items = [self._rebuild(v, slots) for v in value]
        return tuple(items) if kind == "tuple" else items


class Snapshot:
    """Everything a step may change: the state tensors' values and gradients, the state
    of the optimisers and schedulers it calls, and the random generator."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.values = [t._data.copy() for _, t in program.state]
        self.grads = [None if t.grad is None else t.grad._data.copy() for _, t in program.state]
        self.owners = [copy.deepcopy(owner.state_dict()) for owner in program.owners]
        self.rng = get_rng_state()

    def restore(self) -> None:
        for (_, t), value, grad in zip(self.program.state, self.values, self.grads):
            t._data[...] = value
            t.grad = None if grad is None else Tensor._wrap(grad.copy())
        for owner, saved in zip(self.program.owners, self.owners):
            owner.load_state_dict(copy.deepcopy(saved))
        set_rng_state(self.rng)

    def difference(self, other: "Snapshot") -> str | None:
        for (_, t), a, b in zip(self.program.state, self.values, other.values):
            if not same_array(a, b):
                return f"a parameter or buffer of shape {tuple(t.shape)}"
        for (_, t), a, b in zip(self.program.state, self.grads, other.grads):
            if (a is None) != (b is None) or (a is not None and not same_array(a, b)):
                return f"the gradient of a parameter of shape {tuple(t.shape)}"
        for owner, a, b in zip(self.program.owners, self.owners, other.owners):
            if not _same_tree(a, b):
                return f"the state of {type(owner).__name__}"
        return None


def _same_tree(a, b) -> bool:
    if isinstance(a, Tensor):
        a = a._data
    if isinstance(b, Tensor):
        b = b._data
    if is_array(a) or is_array(b):
        return same_array(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)

"""Recording a step for :mod:`lamina.compiler`: the observer that writes down, while the
step runs eagerly, every operation and where its inputs come from, every replayed call,
and what the step returns; and the argument signature a record is kept under."""
from __future__ import annotations

import types

from ..autograd.engine import topological_order
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..nn.module import is_buffer
from ..nn.parameter import Parameter
from .replay import Program, is_array, same_array

__all__ = ["Recorder", "signature", "tensors_of", "arrays_of", "same_arrays"]

_PLAIN = (int, float, bool, str, bytes, type(None))


def tensors_of(args, kwargs) -> list:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]


def signature(args, kwargs):
    """The cache key of a call: per argument its kind and, for a Tensor, shape, dtype and
    requires_grad; None when an argument is neither a Tensor nor a plain value. Grad mode is
    part of it: a step recorded under no_grad is not replayed with gradients on."""
    parts = [("grad mode", is_grad_enabled())]
    for name, value in [(None, a) for a in args] + sorted(kwargs.items()):
        if isinstance(value, Tensor):
            parts.append((name, "T", value._data.shape, value._data.dtype.str, value.requires_grad))
        elif isinstance(value, _PLAIN):
            parts.append((name, type(value).__name__, value))
        else:
            return None
    return tuple(parts)


def arrays_of(result) -> list:
    """The arrays (and plain values) of a step's return value, flattened."""
    if isinstance(result, Tensor):
        return [result._data]
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in arrays_of(item)]
    if isinstance(result, dict):
        return [a for key in result for a in arrays_of(result[key])]
    return [result]


def same_arrays(first: list, second: list) -> bool:
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        if is_array(a) or is_array(b):
            if not same_array(a, b):
                return False
        elif a != b:
            return False
    return True


class Recorder:
    """The observer that writes a step down while it runs eagerly (see observers.py)."""

    def __init__(self, placeholders: list, static: dict) -> None:
        self.refused: str | None = None
        self.static = static
        self.slot_of: dict[int, int] = {}
        self.alive: list = []      # every tensor given a slot (keeps ids unique)
        self.kind: list = []       # per slot: "input", "state" or "op"
        self.state: list = []      # (slot, tensor) read afresh at every replay
        self.steps: list = []      # ("op", ...), ("backward", ...), ("call", ...)
        self.recorded_nodes: set = set()
        self.constants: dict = {}  # slot -> array
        self.modules: dict = {}    # id -> (module, its training flag while recording)
        for t in placeholders:
            if id(t) not in self.slot_of:
                self._slot(t, "input")
        self.n_inputs = len(self.alive)
        self.program = None

    def _slot(self, t: Tensor, kind: str) -> int:
        slot = len(self.alive)
        self.slot_of[id(t)] = slot
        self.alive.append(t)
        self.kind.append(kind)
        if kind == "state":
            self.state.append((slot, t))
        return slot

    def refuse(self, reason: str) -> None:
        if self.refused is None:
            self.refused = reason

    def module(self, module) -> None:
        """A Module was called: a replay is valid only in the same train/eval mode."""
        if id(module) not in self.modules:
            self.modules[id(module)] = (module, module.training)

    def constant(self, t: Tensor) -> None:
        """A tensor made from a Python number or list in the step's code: a constant of the
        record (its array is reused by every replay; operations never write into inputs)."""
        if id(t) not in self.slot_of:
            self.constants[self._slot(t, "const")] = t._data

    def _source(self, t: Tensor, where: str) -> int | None:
        """The slot an input of an operation comes from, classifying a tensor seen first."""
        slot = self.slot_of.get(id(t))
        if slot is not None:
            return slot

        if id(t) in self.static or isinstance(t, Parameter) or is_buffer(t) or (
                t.requires_grad and t._node is None):
            return self._slot(t, "state")
        self.refuse(f"a tensor of shape {tuple(t.shape)} and dtype {t.dtype} entered {where} "
                    "but is neither an argument of the step, an output of one of its operations, "
                    "a parameter or buffer, nor marked static (it was made outside the step, or "
                    "converted outside an operation); pass it as an argument or static=[...]")
        return None

    def record(self, fn, ctx, inputs, params, results) -> None:
        if self.refused is not None:
            return
        where = fn.__name__
        in_slots = []
        for t in inputs:
            slot = self._source(t, where)
            if slot is None:
                return
            in_slots.append(slot)
        multi = type(results) is tuple
        outs = results if multi else (results,)
        out_slots = tuple(self._slot(r, "op") for r in outs)
        if outs and outs[0]._node is ctx:
            self.recorded_nodes.add(id(ctx))
        self.steps.append(("op", fn.forward, ctx, tuple(in_slots), params,
                           out_slots if multi else out_slots[0], multi))

    def alias(self, tensor: Tensor, result: Tensor) -> None:
        """``tensor`` now holds ``result``'s values (an in-place method): later uses of it
        mean that output, when nothing else can see the old array."""
        if self.refused is not None:
            return
        slot = self.slot_of.get(id(result))
        old = self.slot_of.get(id(tensor))
        if slot is None or (old is not None and self.kind[old] != "op"):
            self.refuse(f"an argument, parameter or untracked tensor of shape {tuple(tensor.shape)} "
                        "was changed in place")
            return
        if (tensor._data.dtype != result._data.dtype or tensor._data.shape != result._data.shape
                or tensor._data.base is not None
                or any(t is not tensor and t._vc is tensor._vc for t in self.alive)):
            self.refuse("an in-place change of a tensor that has views (or changes its dtype)")
            return
        self.slot_of[id(tensor)] = slot
        if old is None:
            self.alive.append(tensor)

    def call(self, fn, args, kwargs, result) -> None:
        if self.refused is not None:
            return
        if fn is Tensor.backward.__lamina_replayed__:
            self._record_backward(*args, **kwargs)
            return
        for value in (*args, *kwargs.values()):
            items = value if isinstance(value, (list, tuple)) else (value,)
            for item in items:
                slot = self.slot_of.get(id(item)) if isinstance(item, Tensor) else None
                if slot is not None and self.kind[slot] == "op":
                    # a replay would hand it the first call's tensor
                    self.refuse(f"{fn.__qualname__} was given a tensor computed in the step")
                    return
                if isinstance(item, types.GeneratorType):
                    self.refuse(f"{fn.__qualname__} was given a generator")
                    return
        self.steps.append(("call", fn, args, kwargs))

    def _record_backward(self, root: Tensor, gradient=None, retain_graph: bool = False):
        slot = self.slot_of.get(id(root))
        if slot is None or root._node is None:
            self.refuse("backward() of a tensor the step did not compute")
            return
        grad_slot = None
        if gradient is not None:
            if not isinstance(gradient, Tensor):
                self.refuse("backward(gradient=...) with a non-Tensor gradient")
                return
            grad_slot = self._source(gradient, "backward")
            if grad_slot is None:
                return
        order = list(reversed(topological_order(root._node)))
        if any(id(node) not in self.recorded_nodes for node in order):
            self.refuse("backward() reaches operations recorded before the step began")
            return
        self.steps.append(("backward", root._node, root._out_index, order, slot, grad_slot,
                           retain_graph))

    def finish(self, result) -> None:
        outputs = self._output_spec(result)
        if self.refused is None:
            self.program = Program(self, outputs)

    def _output_spec(self, result):
        """How to rebuild ``result`` from slots: nested tuples/lists/dicts of ("slot", k),
        ("tensor", t) for state returned as itself, or ("const", value)."""
        if isinstance(result, Tensor):
            slot = self.slot_of.get(id(result))
            if slot is None:
                self.refuse("the step returns a tensor it did not compute from its inputs")
                return None
            if self.kind[slot] == "state":
                return ("tensor", result)
            if result._node is not None and not any(s[0] == "backward" for s in self.steps):
                self.refuse("the step returns a tensor that is part of the graph, but a replay "
                            "returns plain tensors: call backward() inside the step, or run "
                            "inference under no_grad()")
            return ("slot", slot)
        if isinstance(result, (tuple, list)):
            return (type(result).__name__, [self._output_spec(r) for r in result])
        if isinstance(result, dict):
            return ("dict", [(k, self._output_spec(v)) for k, v in result.items()])
        if isinstance(result, _PLAIN):
            return ("const", result)
        self.refuse(f"the step returns a {type(result).__name__}")
        return None



"""``lamina.compile``: run a step eagerly, record it, verify the record, then replay it.

A training step of a fixed network does the same operations on arrays of the same shapes
every call; only the arrays change. ``step = lamina.compile(fn)`` (or ``@lamina.compile``)
runs ``fn`` eagerly the first time for each *signature* of its arguments while an observer
(:mod:`lamina.autograd.observers`) writes down every operation (its ``forward``, context,
parameters, and where each input comes from), every whole step it calls (``backward``,
``optimizer.step``, ``zero_grad``, scheduler steps, gradient clipping) and what it returns.
The second call with that signature replays the record and runs ``fn`` eagerly from the same
state, and keeps the record only if the two agree bit for bit (outputs, parameters, buffers,
gradients, optimiser state); from then on calls replay it: the same ``forward`` and
``backward`` methods in the same order, without Tensors, graph nodes or a topological sort
per step. It is the eager step minus the bookkeeping, as in PyTorch's ``torch.compile``,
JAX's ``jax.jit`` and tinygrad's ``TinyJit``, and like them it is asked for, never implied.

What is replayed and what makes a step un-replayable (it then always runs eagerly, and says
why once, as a warning):

* The cache key is grad mode and every argument's kind: for a Tensor its shape, dtype and
  ``requires_grad``; for a number, string, bool or None its value. Every parameter, buffer
  or static tensor the record reads is checked before each replay (shape, dtype,
  ``requires_grad``), and so is the train/eval mode of every Module it called: a frozen or
  unfrozen layer, ``model.eval()``, or a new input signature is recorded afresh (up to
  eight records per signature are kept), never replayed from a record that does not match.
* Python numbers and lists the step's code computes with are constants of the record, as
  in ``jax.jit``: pass a number that changes from call to call as an argument (it is then
  part of the key). So are a module's other Python attributes.
* An operation may read only: an argument of ``fn``, an output of an earlier operation of
  the step, a parameter (an ``nn.Parameter`` or a leaf that requires grad), a module's
  buffer, or a tensor named in ``static=``. Anything else (a tensor made from an array
  inside the step, e.g. a target converted with NumPy, or one computed before the call)
  makes the step un-replayable, because a replay would reuse the first call's values.
* Reading a tensor's value into Python (``item``, ``bool`` as in an ``if``, ``tolist``,
  ``numpy``), a custom ``autograd.Function``, an in-place change outside operations
  (BatchNorm's running statistics, for one), or an in-place change of an argument or a
  parameter outside a replayed call make it un-replayable too.
* Python side effects of ``fn`` that are not operations or replayed calls (printing,
  appending to a list) happen while recording only, as with ``jax.jit``.
"""
from __future__ import annotations

import copy
import functools
import types
import warnings

import numpy as np

from .autograd.engine import propagate, topological_order
from .autograd.grad_mode import is_grad_enabled
from .autograd.observers import observing
from .autograd.tensor import Tensor
from .random import get_rng_state, set_rng_state

__all__ = ["compile", "CompiledFunction"]

_ndarray = np.ndarray
_PLAIN = (int, float, bool, str, bytes, type(None))
_MAX_PROGRAMS = 8  # per argument signature: frozen/unfrozen layers, train/eval modes


def compile(model=None, *, static=(), fullgraph: bool = False, **options):
    """``lamina.compile(fn)`` or ``@lamina.compile``: ``fn`` (a function, or a Module, whose
    call is then compiled; torch names the argument ``model``) recorded once per argument
    signature and replayed (see the module docstring). ``static`` names tensors that are
    neither arguments nor parameters or buffers but may be read (constants of the step;
    they are read afresh at every replay). ``fullgraph=True`` raises instead of falling back
    to eager when a step cannot be replayed (torch.compile's meaning). Other torch.compile
    options (``mode``, ``backend``, ``dynamic``) are accepted and have no effect."""
    fn = model
    if fn is None:
        return functools.partial(compile, static=static, fullgraph=fullgraph, **options)
    if isinstance(fn, CompiledFunction):
        return fn
    if not callable(fn):
        from .errors import LaminaTypeError

        raise LaminaTypeError(f"lamina.compile expects a function, got {type(fn).__name__}")
    return CompiledFunction(fn, static=static, fullgraph=fullgraph)


class _Refused(Exception):
    """Raised inside replay bookkeeping; carries the reason a step cannot be replayed."""


class CompiledFunction:
    """The callable :func:`compile` returns. ``stats`` counts eager calls, recordings,
    verifications and replays; ``explain()`` lists why signatures run eagerly."""

    def __init__(self, fn, static=(), fullgraph: bool = False) -> None:
        if isinstance(fn, types.FunctionType):
            functools.update_wrapper(self, fn)
        self.fn = fn
        self.static = {id(t): t for t in static}
        self.fullgraph = fullgraph
        self._cache: dict = {}
        self.stats = {"eager": 0, "recorded": 0, "verified": 0, "replayed": 0}
        self._warned: set = set()

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        key = _signature(args, kwargs)
        if key is None:
            return self._eager(args, kwargs, "an argument is neither a Tensor nor a plain value")
        entry = self._cache.get(key)
        if isinstance(entry, str):
            return self._eager(args, kwargs, entry)
        # Programs recorded for this signature, one per state they were recorded in (which
        # parameters require grad, each module's train/eval mode): use the matching one.
        program = next((p for p in entry if p.state_matches()), None) if entry else None
        if program is None:
            return self._record(key, args, kwargs)
        if not program.verified:
            return self._verify(key, program, args, kwargs)
        self.stats["replayed"] += 1
        return program.replay(_tensors_of(args, kwargs))

    def explain(self) -> list[str]:
        """Why each argument signature that runs eagerly does (empty when all replay)."""
        return [entry for entry in self._cache.values() if isinstance(entry, str)]

    def _eager(self, args, kwargs, reason=None):
        self.stats["eager"] += 1
        return self.fn(*args, **kwargs)

    def _refuse(self, key, reason: str):
        self._cache[key] = reason
        if self.fullgraph:
            from .errors import GraphError

            raise GraphError(f"lamina.compile(fullgraph=True): {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"lamina.compile({getattr(self.fn, '__name__', type(self.fn).__name__)}) runs eagerly: "
                          f"{reason}", RuntimeWarning, stacklevel=3)

    def _record(self, key, args, kwargs):
        self.stats["recorded"] += 1
        recorder = _Recorder(_tensors_of(args, kwargs), self.static)
        with observing(recorder):
            result = self.fn(*args, **kwargs)
        if recorder.refused is None:
            recorder.finish(result)
        if recorder.refused is not None:
            self._refuse(key, recorder.refused)
        else:
            programs = self._cache.setdefault(key, [])
            if len(programs) >= _MAX_PROGRAMS:
                programs.pop(0)
            programs.append(recorder.program)
        return result

    def _verify(self, key, program, args, kwargs):
        """Replay, then run eagerly from the same state; keep the program only if the two
        agree bit for bit. The eager result is the one returned."""
        state = _Snapshot(program)
        try:
            replayed = program.replay(_tensors_of(args, kwargs))
            after_replay = _Snapshot(program), _arrays_of(replayed)
        finally:
            state.restore()
        result = self.fn(*args, **kwargs)
        self.stats["eager"] += 1
        difference = after_replay[0].difference(_Snapshot(program))
        if difference is None and not _same_arrays(after_replay[1], _arrays_of(result)):
            difference = "the step's return value"
        if difference is not None:
            self._refuse(key, f"a replay did not reproduce the eager step ({difference} "
                              "differed); something in the step is not recorded")
        else:
            program.verified = True
            self.stats["verified"] += 1
        return result


# ---------------------------------------------------------------------- signatures
def _tensors_of(args, kwargs) -> list:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]


def _signature(args, kwargs):
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


def _arrays_of(result) -> list:
    """The arrays (and plain values) of a step's return value, flattened."""
    if isinstance(result, Tensor):
        return [result._data]
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in _arrays_of(item)]
    if isinstance(result, dict):
        return [a for key in result for a in _arrays_of(result[key])]
    return [result]


def _same_arrays(first: list, second: list) -> bool:
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        if isinstance(a, _ndarray) or isinstance(b, _ndarray):
            if not (isinstance(a, _ndarray) and isinstance(b, _ndarray)
                    and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)):
                return False
        elif a != b:
            return False
    return True


# ---------------------------------------------------------------------- recording
class _Recorder:
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
        from .nn.module import is_buffer
        from .nn.parameter import Parameter

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
            self.program = _Program(self, outputs)

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


# ---------------------------------------------------------------------- replaying
class _Program:
    """A recorded step, replayable on new argument arrays."""

    def __init__(self, recorder: _Recorder, outputs) -> None:
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
                        slots[slot] = o if type(o) is _ndarray else np.asarray(o)
                else:
                    slots[outs] = out if type(out) is _ndarray else np.asarray(out)
            elif kind == "backward":
                _, node, index, order, slot, grad_slot, retain = step
                grad = np.ones_like(slots[slot]) if grad_slot is None else slots[grad_slot]
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


class _Snapshot:
    """Everything a step may change: the state tensors' values and gradients, the state
    of the optimisers and schedulers it calls, and the random generator."""

    def __init__(self, program: _Program) -> None:
        self.program = program
        self.values = [t._data.copy() for _, t in program.state]
        self.grads = [None if t.grad is None else t.grad._data.copy() for _, t in program.state]
        self.owners = [copy.deepcopy(owner.state_dict()) for owner in program.owners]
        self.rng = get_rng_state()

    def restore(self) -> None:
        for (_, t), value, grad in zip(self.program.state, self.values, self.grads):
            np.copyto(t._data, value)
            t.grad = None if grad is None else Tensor._wrap(grad.copy())
        for owner, saved in zip(self.program.owners, self.owners):
            owner.load_state_dict(copy.deepcopy(saved))
        set_rng_state(self.rng)

    def difference(self, other: "_Snapshot") -> str | None:
        for (_, t), a, b in zip(self.program.state, self.values, other.values):
            if not np.array_equal(a, b, equal_nan=True):
                return f"a parameter or buffer of shape {tuple(t.shape)}"
        for (_, t), a, b in zip(self.program.state, self.grads, other.grads):
            if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b, equal_nan=True)):
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
    if isinstance(a, _ndarray) or isinstance(b, _ndarray):
        return (isinstance(a, _ndarray) and isinstance(b, _ndarray)
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)

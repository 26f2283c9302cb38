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

import functools
import types
import warnings

from ..autograd.observers import observing
from ..errors import GraphError, LaminaTypeError
from .recording import Recorder, arrays_of, same_arrays, signature, tensors_of
from .replay import Snapshot

__all__ = ["compile", "CompiledFunction"]

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
        raise LaminaTypeError(f"lamina.compile expects a function, got {type(fn).__name__}")
    return CompiledFunction(fn, static=static, fullgraph=fullgraph)


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
        key = signature(args, kwargs)
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
        return program.replay(tensors_of(args, kwargs))

    def explain(self) -> list[str]:
        """Why each argument signature that runs eagerly does (empty when all replay)."""
        return [entry for entry in self._cache.values() if isinstance(entry, str)]

    def _eager(self, args, kwargs, reason=None):
        self.stats["eager"] += 1
        return self.fn(*args, **kwargs)

    def _refuse(self, key, reason: str):
        self._cache[key] = reason
        if self.fullgraph:
            raise GraphError(f"lamina.compile(fullgraph=True): {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"lamina.compile({getattr(self.fn, '__name__', type(self.fn).__name__)}) runs eagerly: "
                          f"{reason}", RuntimeWarning, stacklevel=3)

    def _record(self, key, args, kwargs):
        self.stats["recorded"] += 1
        recorder = Recorder(tensors_of(args, kwargs), self.static)
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
        state = Snapshot(program)
        try:
            replayed = program.replay(tensors_of(args, kwargs))
            after_replay = Snapshot(program), arrays_of(replayed)
        finally:
            state.restore()
        result = self.fn(*args, **kwargs)
        self.stats["eager"] += 1
        difference = after_replay[0].difference(Snapshot(program))
        if difference is None and not same_arrays(after_replay[1], arrays_of(result)):
            difference = "the step's return value"
        if difference is not None:
            self._refuse(key, f"a replay did not reproduce the eager step ({difference} "
                              "differed); something in the step is not recorded")
        else:
            program.verified = True
            self.stats["verified"] += 1
        return result



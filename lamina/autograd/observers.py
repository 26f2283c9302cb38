"""Observers of a computation: how :func:`lamina.compile` and :mod:`.functional` see one.

While an observer is installed (``with observing(obs): ...``) on this thread:

* every ``Function.apply`` reports ``obs.record(fn, ctx, inputs, params, results)``;
* every call of a function marked :func:`replayed` (``Tensor.backward``, ``Optimizer.step``
  and ``zero_grad``, gradient clipping, ``LRScheduler.step``) reports ``obs.call(fn, args,
  kwargs, result)`` and runs with no observer installed, since a replay runs it again as a
  whole rather than the operations inside it;
* whatever a replay could not reproduce reports ``obs.refuse(reason)``: a custom
  ``autograd.Function`` (its Python forward is not operations), a tensor's value read into
  Python (``item``, ``bool``, ``tolist``, ``numpy``), an in-place change made outside
  operations.

With no observer installed each hook costs one thread-local attribute read. Observers are
per thread, as grad mode is, and an observer that wants to nest hands what it sees on to
the one it replaced (``current()`` at its creation).
"""
from __future__ import annotations

import contextlib
import functools
import threading
import types

__all__ = ["observing", "unobserved", "current", "refuse", "replayed"]


class _Local(threading.local):
    observer = None


_local = _Local()


def current():
    """The observer installed on this thread, or None."""
    return _local.observer


@contextlib.contextmanager
def observing(observer):
    """Install ``observer`` for the block (the previous one is restored after)."""
    previous = _local.observer
    _local.observer = observer
    try:
        yield observer
    finally:
        _local.observer = previous


@contextlib.contextmanager
def unobserved():
    """Run the block with no observer (what a :func:`replayed` call does)."""
    previous = _local.observer
    _local.observer = None
    try:
        yield
    finally:
        _local.observer = previous


def refuse(reason: str) -> None:
    """Tell the installed observer (if any) that what just happened cannot be replayed."""
    observer = _local.observer
    if observer is not None:
        observer.refuse(reason)


def replayed(fn):
    """Mark ``fn`` as a step a replay calls again as a whole (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        observer = _local.observer
        if observer is None:
            return fn(*args, **kwargs)
        # A replay calls fn again with these arguments: a generator (model.parameters())
        # would be spent by then, so it is handed over as the list it yields.
        args = tuple(list(a) if isinstance(a, types.GeneratorType) else a for a in args)
        _local.observer = None
        try:
            result = fn(*args, **kwargs)
        finally:
            _local.observer = observer
        observer.call(fn, args, kwargs, result)
        return result

    wrapper.__lamina_replayed__ = fn
    return wrapper

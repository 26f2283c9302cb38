"""Grad mode: whether operations record the computational graph.

The flag is thread-local (each thread starts with recording on), as in PyTorch. Inside
``no_grad`` no graph is built and no intermediate is kept for backward, which is exactly
the lecture's remark that at inference "we can forget the intermediate result".
"""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations record the graph (the default)."""
    return _state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    _target: bool

    def __enter__(self):
        self._previous = _state.enabled
        _state.enabled = self._target
        return self

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording::

        with lm.no_grad():
            y = model(x)          # y.requires_grad is False, nothing is kept for backward

        @lm.no_grad()
        def evaluate(...): ...
    """

    _target = False


class enable_grad(_GradMode):
    """Re-enable graph recording, e.g. inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(mode)`` as a context manager; also sets the mode immediately."""

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._previous = _state.enabled
        _state.enabled = self._target

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._target
        _state.enabled = self._previous  # used as a decorator: do not leak the setting

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper

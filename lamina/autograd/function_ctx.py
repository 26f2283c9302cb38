"""The ``ctx`` of a custom ``torch.autograd.Function`` and ``once_differentiable``.

A :class:`FunctionCtx` is a :class:`~lamina.autograd.context.Context` with PyTorch's Tensor-level
interface (``save_for_backward`` / ``saved_tensors``, ``mark_dirty``,
``mark_non_differentiable``, ``set_materialize_grads``); :mod:`.custom_function` records it as
the graph node of a custom operation. PyTorch names both in ``torch.autograd.function``, and so
does :mod:`lamina.autograd.function`.
"""
from __future__ import annotations

import functools

from ..errors import GraphError, LaminaTypeError
from .context import Context, NodeName
from .grad_mode import no_grad
from .tensor import Tensor

__all__ = ["FunctionCtx", "once_differentiable"]


class _SavedOutput:
    """A saved output, kept as its array so the node does not hold the tensor that holds it."""

    __slots__ = ("array", "index")

    def __init__(self, array, index: int) -> None:
        self.array = array
        self.index = index


class FunctionCtx(Context):
    """The ``ctx`` of a custom :class:`Function`; once recorded it is also the graph node.

    ``save_for_backward(*tensors)`` / ``saved_tensors``, ``needs_input_grad`` (one bool per
    forward argument: a Tensor that requires grad), ``mark_non_differentiable``,
    ``mark_dirty``, ``set_materialize_grads``, and any attribute ``forward`` sets.
    """

    _to_save = None
    _dirty = ()
    _non_differentiable = ()
    _materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keep ``tensors`` (Tensors or None) for backward; read them as ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise LaminaTypeError(
                    f"save_for_backward can only save Tensors or None, got {type(t).__name__} "
                    f"at position {i}; keep other values as attributes of ctx")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, as they were at the end of forward."""
        saved = self.saved
        if saved is None:
            raise GraphError(
                f"the saved tensors of {self.name} were freed by the first backward through it; "
                "pass retain_graph=True to that backward to keep them")
        if self._to_save is not None:  # still inside forward
            return tuple(self._to_save)
        return tuple([self._unpack(s) if type(s) is _SavedOutput else s for s in saved])

    def _unpack(self, saved: _SavedOutput) -> Tensor:
        t = Tensor._wrap(saved.array)
        t.requires_grad = True
        t._node = self
        t._out_index = saved.index
        return t

    def mark_dirty(self, *tensors) -> None:
        """Declare that forward modified these input tensors in place (and returns them)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (indices, masks); backward still receives a
        zero gradient for each (or None with ``set_materialize_grads(False)``)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    @property
    def name(self) -> NodeName:
        """PyTorch's name of a custom node: the Function's class name + ``'Backward'``."""
        return NodeName(self._function.__name__ + "Backward")


def once_differentiable(backward):
    """Mark a backward as not differentiable twice (lamina's backward never records a graph,
    so this only documents the fact, as PyTorch's decorator does)."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return wrapper

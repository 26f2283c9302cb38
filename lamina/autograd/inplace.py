"""In-place changes to a tensor, and the version counter that keeps them honest.

A tensor's array may be changed in place in two ways: by an in-place method (``x.add_(y)``,
``x += y``, ``x[i] = v``), or directly (an optimiser writing ``p.data``). Either way the
tensor's version counter ``_vc[0]`` goes up by one. A node that saved an array for its
backward records the version it saw; if the counter moved before backward runs, backward
raises instead of computing a gradient from values that are no longer the ones the
forward pass used (PyTorch's rule, and the same error).

An in-place method is computed out of place and its result written back
(:meth:`InPlace._inplace`): with nothing to record, into this tensor's array; with something
to record, the new node becomes this tensor's ``grad_fn`` -- except on a leaf that requires
grad, or on a view of another tensor's array, which PyTorch refuses too.

:class:`InPlace` is the base of :class:`lamina.Tensor`; it holds no state of its own.
"""
from __future__ import annotations

import numpy as np

from ..errors import InplaceError, LaminaTypeError, LaminaValueError
from .grad_mode import _state, no_grad
from .observers import _local as _observed

__all__ = ["InPlace"]


class InPlace:
    """The in-place machinery of a tensor (``_data``, ``_vc``, ``_node`` and the rest are
    :class:`lamina.Tensor`'s slots)."""

    __slots__ = ()

    def _check_inplace(self, what: str) -> None:
        """Refuse an in-place change that would be hidden from autograd: a leaf that requires
        grad, under grad mode (PyTorch refuses the same)."""
        if self.requires_grad and _state.enabled and self._node is None:
            raise InplaceError(
                f"{what}: a leaf tensor that requires grad cannot be modified in place while "
                "gradients are recorded; wrap the update in lm.no_grad()")

    def _bump(self) -> "InPlace":
        """Count an in-place change made directly on the array (not by an operation)."""
        if _observed.observer is not None:
            _observed.observer.refuse(f"a tensor of shape {self.shape} was changed in place "
                                      "outside an operation")
        self._vc[0] += 1
        return self

    def _became(self, result: "InPlace") -> "InPlace":
        """This tensor now holds the values of the operation output ``result`` (an in-place
        method computed out of place): count the change, and tell an observer that later
        uses of this tensor mean that output."""
        if _observed.observer is not None:
            _observed.observer.alias(self, result)
        self._vc[0] += 1
        return self

    @staticmethod
    def _raw(other):
        return other._data if isinstance(other, InPlace) else other

    def _inplace(self, what: str, op, *others, **params) -> "InPlace":
        """Make this tensor hold ``op(self, *others, **params)`` in place.

        With nothing to record (grad mode off, or neither this tensor nor a tensor among
        ``others`` requires grad) the new values are written into this tensor's array. When
        the change must be recorded, as in ``loss = 0; loss += criterion(out, y)`` or
        ``h *= mask``, the out-of-place operation is recorded and this tensor becomes its
        output (its ``grad_fn`` is the new node), exactly where PyTorch allows it: never on a
        leaf that requires grad, never on a view of another tensor's array (whose own graph
        would not see the change). The version counter goes up either way, so a node that
        saved the old values for backward raises instead of computing a wrong gradient.
        """
        recording = _state.enabled and (self.requires_grad or any(
            isinstance(o, InPlace) and o.requires_grad for o in others))
        if not recording:
            with no_grad():
                result = op(self, *others, **params)
            self._store(what, result._data)
            return self._became(result)
        self._check_inplace(what)
        if self._data.base is not None:
            raise InplaceError(
                f"{what}: this tensor is a view of another tensor's array and is part of the "
                "graph; an in-place change here would not reach the other tensor's gradient. "
                "Use the out-of-place form (y = y + z) instead")
        result = op(self, *others, **params)
        node = result._node
        if node.saved and any(a is self._data for a in node.saved):
            # The new node needs the old values for its backward: give it its own copy.
            node.saved = tuple(a.copy() if a is self._data else a for a in node.saved)
            checks = [c for c in (node.version_checks or ()) if c[0] is not self._vc]
            node.version_checks = checks or None
        self._store(what, result._data)
        self._node, self._out_index, self.requires_grad = node, result._out_index, True
        return self._became(result)

    def _check_writeable(self, what: str) -> None:
        data = self._data
        # NumPy marks broadcast views read-only; CuPy's flags have no such bit, so a zero
        # stride over an axis longer than 1 (elements sharing one location) is checked too
        if not getattr(data.flags, "writeable", True) or any(
                s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
            raise InplaceError(
                f"{what}: this tensor's elements share memory locations (it was made by expand, "
                "or is a read-only array); writing to it in place is unsupported, as in PyTorch. "
                "clone() it first")

    def _store(self, what: str, values) -> None:
        self._check_writeable(what)
        if values.dtype != self._data.dtype and not np.can_cast(values.dtype, self._data.dtype,
                                                                 "same_kind"):
            raise LaminaTypeError(f"{what}: result type {values.dtype} can't be cast to the "
                                  f"desired output type {self._data.dtype}")
        try:
            self._data[...] = values
        except ValueError:
            raise LaminaValueError(
                f"{what}: the result has shape {values.shape}, which does not fit this tensor's "
                f"shape {self._data.shape} (in-place results keep the tensor's shape)") from None

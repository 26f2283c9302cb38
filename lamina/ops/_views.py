"""Helpers shared by the operations that only move entries (:mod:`lamina.ops.shape`,
:mod:`lamina.ops.join`, :mod:`lamina.ops.padding`, and the views of :mod:`lamina.ops.reduction`):
sizes given as varargs or one sequence, the index tuple that acts on one axis, and the rule
that makes a view of dL/dy fit to become a leaf's ``.grad``.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import LaminaTypeError


def _owned(ctx, i: int, g):
    """``g`` made fit to become input ``i``'s ``.grad``.

    Backwards here return views of dL/dy. The engine copies an array that it has already
    stored elsewhere before making it a leaf's ``.grad``, but it recognises the array by
    identity, not a view of it; and ``.grad`` is updated in place (optimisers, clipping).
    So a view that goes straight to a leaf is copied; interior nodes take views freely,
    since the engine never writes into a gradient it was handed.
    """
    if g.base is not None and type(ctx.parents[i]) is not tuple:
        return g.copy()
    return g


def _sizes(sizes, what: str) -> tuple:
    """Varargs sizes ``(2, 3)`` or one tuple/list ``((2, 3),)`` as a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    out = []
    for n in sizes:
        if isinstance(n, Tensor):
            n = n.item()
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise LaminaTypeError(f"{what}: sizes must be integers, got {tuple(sizes)!r}")
        out.append(int(n))
    return tuple(out)


def _slice_at(axis: int, index) -> tuple:
    """The index tuple that applies ``index`` on ``axis`` and takes everything elsewhere."""
    return (slice(None),) * axis + (index,)

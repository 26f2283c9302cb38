"""The array-module seam.

Every operation asks this module which array library holds its inputs (NumPy today; CuPy
arrays would answer ``cupy``) instead of branching on a device inside the operation. The
rest of lamina therefore writes ``xp = get_array_module(x)`` and uses ``xp.exp``,
``xp.matmul`` and so on.
"""
from __future__ import annotations

import types

import numpy as np

__all__ = ["get_array_module", "device_of", "as_array"]


def get_array_module(*arrays) -> types.ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that owns ``arrays``.

    NumPy is the answer unless one of the arrays is a CuPy array; CuPy is imported only
    then, so NumPy-only installs never touch it.
    """
    for a in arrays:
        module = type(a).__module__
        if module.startswith("cupy"):
            import cupy  # optional dependency, imported only when a CuPy array appears

            return cupy
    return np


def device_of(array) -> str:
    """'cpu' for NumPy arrays, 'cuda:N' for CuPy arrays."""
    if type(array).__module__.startswith("cupy"):
        return f"cuda:{array.device.id}"
    return "cpu"


def as_array(value, dtype=None):
    """Convert ``value`` to an array of the module that already holds it (NumPy by default)."""
    xp = get_array_module(value)
    return xp.asarray(value, dtype=dtype)

"""Converting a :class:`~lamina.nn.Module` in place: its parameters (with their gradients)
and buffers to another device, its floating ones to another dtype.

``Module.to``, ``cuda``, ``cpu``, ``float`` and ``double`` are the public face; this module
holds the reading of ``to``'s arguments and the conversion itself. As after PyTorch's
``Module.to``, every Parameter object stays the same and only the array inside it is
replaced, so an optimiser made before the move still holds the module's weights.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import check_device, device_of, to_device
from ..errors import LaminaTypeError

__all__ = ["convert_module", "to_arguments"]


def to_arguments(args: tuple, dtype, device) -> tuple:
    """``(device, dtype)`` from the positional arguments of ``Module.to`` (a tensor: its
    device and dtype; a dtype; anything else: a device) over the keyword ones; only a
    floating dtype is accepted."""
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (np.dtype, type)):
            dtype = a
        elif a is not None:
            device = a
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise LaminaTypeError(f"Module.to only accepts floating dtypes, got {np.dtype(dtype)}")
    return device, dtype


def convert_module(module, device=None, dtype=None):
    """Put every parameter (and its gradient) and every buffer of ``module`` and its
    sub-modules on ``device`` and make the floating ones ``dtype``, in place; integer
    buffers (a batch-norm counter) keep their dtype but move too. Returns ``module``."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise LaminaTypeError(f"modules can only be converted to floating dtypes, got {dtype}")
    if device is not None:
        device = check_device(device)

    def convert(array, floating_only: bool):
        if dtype is not None and array.dtype != dtype and (array.dtype.kind == "f" or not floating_only):
            array = array.astype(dtype)
        if device is not None and device_of(array) != device:
            array = to_device(array, device)
        return array

    for sub in module.modules():
        for p in sub._parameters.values():
            if p is None:
                continue
            p._data = convert(p._data, floating_only=False)
            if p.grad is not None:
                moved = convert(p.grad._data, floating_only=False)
                if moved is not p.grad._data:
                    p.grad = Tensor._wrap(moved)
        for b in sub._buffers.values():
            if b is not None:
                b._data = convert(b._data, floating_only=True)
    return module

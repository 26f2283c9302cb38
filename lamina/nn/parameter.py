"""``Parameter``, a tensor that is a weight of a module, and ``RemovableHandle``, what the
hook registration methods of a module return.

Both are re-exported by :mod:`lamina.nn.module` and :mod:`lamina.nn`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, _infer_array
from ..backend import check_device, get_array_module
from ..dtypes import get_default_dtype

__all__ = ["Parameter", "RemovableHandle", "parameter_dtype"]


def parameter_dtype(device=None, dtype=None) -> np.dtype:
    """The dtype of a new layer's parameters from PyTorch's factory keywords ``device`` and
    ``dtype``: ``dtype`` if given, else the default floating type; ``device`` must be one
    this build computes on (see :func:`lamina.backend.check_device`)."""
    if device is not None:
        check_device(device)
    return get_default_dtype() if dtype is None else np.dtype(dtype)


class Parameter(Tensor):
    """A tensor that is a weight of a module: assigning it to a module attribute registers it.

    ``Parameter(data, requires_grad=True)`` shares the array of a Tensor, a NumPy array or
    a device array (other data is copied with the usual dtype rules) and requires grad by default.
    Operations on a Parameter return plain Tensors.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = np.empty((0,), dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            array = data._data
        elif isinstance(data, np.ndarray) or get_array_module(data) is not np:
            array = data  # a host or device array: shared
        else:
            array = _infer_array(data)
        self._adopt(array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        return (Parameter, (self._data, self.requires_grad))


class RemovableHandle:
    """Returned by the hook registration methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

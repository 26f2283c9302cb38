"""Collation: turning a list of samples into one batch, with PyTorch's rules.

:func:`default_collate` is what the :class:`~lamina.data.DataLoader` applies to the samples
of a batch when no ``collate_fn`` is given. It works on the structure of the first sample
and recurses, so a sample may be a tensor, an array, a number, a string, or a tuple, list
or dict of those:

==========================  ==============================================================
sample element              batch
==========================  ==============================================================
Tensor (shape S)            Tensor (B, *S) stacked, same dtype
NumPy array / scalar        Tensor stacked, the array's dtype
Python ``float``            float64 Tensor (B,)
Python ``int`` / ``bool``   int64 / bool Tensor (B,)
``str`` / ``bytes``         the list of them, unchanged
dict                        dict of batches, key by key
namedtuple                  the same namedtuple of batches
tuple                       a *list* of batches, field by field (PyTorch does the same)
list                        a list of batches, field by field
==========================  ==============================================================

>>> default_collate([(lm.zeros(3), 0), (lm.ones(3), 1)])
[tensor([[0., 0., 0.], [1., 1., 1.]]), tensor([0, 1])]

:func:`default_convert` is the no-batching counterpart (``batch_size=None``): arrays and
NumPy scalars become Tensors, containers are converted element by element.
"""
from __future__ import annotations

import collections.abc
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaTypeError, ShapeError

__all__ = ["default_collate", "default_convert"]

_STRING_KINDS = "SaUO"  # NumPy dtype kinds that cannot become tensors


def _bad_type(found: Any) -> LaminaTypeError:
    return LaminaTypeError("default_collate: batch must contain tensors, numpy arrays, "
                           f"numbers, dicts or lists; found {found}")


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _stack(arrays: list, what: str) -> Tensor:
    shapes = [a.shape for a in arrays]
    if any(s != shapes[0] for s in shapes):
        first = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise ShapeError(f"stack expects each {what} to be equal size, but got "
                         f"{list(shapes[0])} at entry 0 and {list(shapes[first])} at entry {first}")
    xp = get_array_module(*arrays)
    return Tensor._wrap(xp.stack(arrays))


def default_collate(batch: list) -> Any:
    """Collate a list of samples into a batch (see the module's table of rules)."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise LaminaTypeError(f"default_collate expects a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise LaminaTypeError("default_collate needs at least one sample, got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._data for t in batch], "tensor")
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in _STRING_KINDS:
            raise _bad_type(elem.dtype)
        return _stack([np.asarray(a) for a in batch], "array")
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise ShapeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch returns for tuple samples
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise _bad_type(type(elem))


def default_convert(data: Any) -> Any:
    """Convert one sample (no batching): NumPy arrays and scalars become Tensors,
    containers are converted element by element, anything else is returned as is."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if data.dtype.kind in _STRING_KINDS:
            return data
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data

"""Small helpers shared by the operation families (argument normalisation, scalars)."""
from __future__ import annotations

import numpy as np

from ..autograd.observers import _local as _observed
from ._casting import cast
from ..autograd.tensor import Tensor, _infer_array, _new_tensor
from ..backend import get_array_module, on_device_of
from ..dtypes import result_type
from ..errors import LaminaTypeError, LaminaValueError

__all__ = ["as_tensor", "operands", "normalize_dim", "normalize_dims", "pair", "write_out"]

_SCALARS = (int, float, bool, np.number, np.bool_)
_ndarray = np.ndarray


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number next to the tensor ``like`` takes the type
    PyTorch gives it (``like``'s dtype unless the number is of a higher category: a float
    next to an integer tensor is the default floating type, an int next to a bool tensor
    int64), so Python scalars never promote float32 to float64."""
    if isinstance(value, Tensor):
        return value
    kind = type(value)
    if (kind is float or kind is int) and like is not None and like._data.dtype.kind == "f":
        # the common case (``0.5 * x``, ``1 - y``): the tensor's own floating dtype
        data = like._data
        if type(data) is _ndarray:
            return _constant(_new_tensor(np.array(value, dtype=data.dtype)))
        return _constant(_new_tensor(_device_scalar(data, value, data.dtype)))
    if isinstance(value, _SCALARS) and like is not None:
        dtype = like._data.dtype
        if dtype.kind != "f" or not isinstance(value, (float, np.floating, int, np.integer)):
            dtype = result_type(like, value)
        return _constant(Tensor._wrap(get_array_module(like._data).asarray(value, dtype=dtype)))
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value if like is None else on_device_of(value, like._data))
    array = _infer_array(value)
    return _constant(Tensor._wrap(array if like is None else on_device_of(array, like._data)))


_device_scalars: dict = {}   # (array type, device id, value, dtype) -> 0-d device array


def _device_scalar(like, value, dtype):
    """A 0-d array holding ``value`` on ``like``'s device, made once per value and dtype: each
    new one would be a host-to-device copy, which waits for the device (a Python number in
    ``0.5 * x`` stays a constant; operations never write into their inputs)."""
    key = (type(like), like.device.id, type(value), value, dtype)
    array = _device_scalars.get(key)
    if array is None:
        if len(_device_scalars) >= 1024:
            _device_scalars.clear()
        array = _device_scalars[key] = get_array_module(like).array(value, dtype=dtype)
    return array


def _constant(t: Tensor) -> Tensor:
    """A tensor made from a Python number or list in the code: an observer (lamina.compile)
    may keep it as a constant of its record, as jax.jit keeps Python numbers."""
    observer = _observed.observer
    if observer is not None:
        observer.constant(t)
    return t


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as Tensors of one dtype, the one
    ``torch.result_type`` gives (see :mod:`lamina.dtypes`; scalars are "weak")."""
    if isinstance(a, Tensor):
        b = as_tensor(b, a)
    elif isinstance(b, Tensor):
        a = as_tensor(a, b)
    else:
        raise LaminaTypeError(
            f"expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    da, db = a._data.dtype, b._data.dtype
    if da is db or da == db:
        return a, b
    dtype = result_type(a, b)
    return (a if da == dtype else cast(a, dtype)), (b if db == dtype else cast(b, dtype))


def normalize_dim(dim: int, ndim: int) -> int:
    """A possibly negative ``dim`` as an index in ``range(ndim)``, or a clear error."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise LaminaTypeError(f"dim must be an integer, got {dim!r}")
    lo = -max(ndim, 1)
    if not lo <= dim < max(ndim, 1):
        raise LaminaValueError(f"dim {dim} is out of range for a tensor with {ndim} dimensions "
                               f"(expected {lo} <= dim < {max(ndim, 1)})")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim, ndim: int) -> tuple | None:
    """``dim`` (None, int, or tuple/list of ints) as a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise LaminaValueError(f"dim {tuple(dim)} names an axis twice")
        return axes
    return (normalize_dim(dim, ndim),)


def pair(value, name: str = "value") -> tuple[int, int]:
    """An int or a pair of ints as a pair (kernel sizes, strides, paddings)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise LaminaValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def write_out(out: Tensor | None, result: Tensor, name: str) -> Tensor:
    """PyTorch's ``out=`` argument: copy ``result`` into ``out`` (resized to the result's shape
    if it differs) and return ``out``. As in PyTorch, ``out=`` is not differentiable: with
    grad mode on and an input that requires grad it raises."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise LaminaTypeError(f"{name}: out must be a Tensor, got {type(out).__name__}")
    if result.requires_grad:
        raise LaminaValueError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad")
    if out._data.shape != result._data.shape:
        out._data = get_array_module(out._data).empty(result._data.shape, dtype=out._data.dtype)
    out._store(name, result._data)
    return out._bump()


def floating(input) -> Tensor:
    """``input`` as a Tensor; integer and bool tensors become float32 (as PyTorch's sigmoid,
    tanh, ... do), so e.g. np.exp never silently returns float64."""
    x = as_tensor(input)
    if x.dtype.kind not in "fc":
        x = Tensor._wrap(x._data.astype(np.float32))
    return x

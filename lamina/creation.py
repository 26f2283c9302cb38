"""Creation functions: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``,
``eye``, ``rand``, ``randn``, ``randint`` and the ``*_like`` variants.

Floating results default to float32, as in PyTorch; random ones draw from the global
generator that ``lm.manual_seed`` resets.
"""
from __future__ import annotations

import numpy as np

from .autograd.tensor import Tensor, float32, int64
from .errors import LaminaValueError
from .random import generator

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
           "ones_like", "full_like", "rand_like", "randn_like", "normal", "uniform"]


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise LaminaValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _make(array, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become float32, ints int64; a NumPy
    array keeps its dtype)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype."""
    return Tensor._wrap(array)


def zeros(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtype=dtype), requires_grad)


def ones(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtype=dtype), requires_grad)


def empty(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(np.empty(_shape(size), dtype=dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else (
            np.bool_ if isinstance(fill_value, bool) else int64)
    return _make(np.full(_shape((size,)), fill_value, dtype=dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else float32
    if step == 0:
        raise LaminaValueError("arange step must be non-zero")
    return _make(np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=dtype), requires_grad)


def rand(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _make(generator().random(_shape(size), dtype=np.float64).astype(dtype), requires_grad)


def randn(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _make(generator().standard_normal(_shape(size)).astype(dtype), requires_grad)


def normal(mean: float, std: float, size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(generator().normal(mean, std, _shape((size,))).astype(dtype), requires_grad)


def uniform(low: float, high: float, size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return _make(generator().uniform(low, high, _shape((size,))).astype(dtype), requires_grad)


def randint(low: int, high: int | None = None, size=(), dtype=int64) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` means low = 0)."""
    if high is None or isinstance(high, (tuple, list)):
        if isinstance(high, (tuple, list)):
            size = high
        low, high = 0, low
    if high <= low:
        raise LaminaValueError(f"randint needs low < high, got low={low}, high={high}")
    return Tensor._wrap(generator().integers(low, high, _shape((size,))).astype(dtype))


def randperm(n: int, dtype=int64) -> Tensor:
    """A random permutation of 0 .. n-1."""
    return Tensor._wrap(generator().permutation(n).astype(dtype))


def _like(x: Tensor, dtype):
    return x.shape, (x.dtype if dtype is None else dtype)


def zeros_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(x, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)

"""Creation functions: ``tensor``, ``zeros``, ``ones``, ``full``, ``empty``, ``arange``,
``linspace``, ``eye``, ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, the
``*_like`` variants, and PyTorch's legacy typed constructors (``LongTensor([1, 2])``).

Floating results default to :func:`lamina.get_default_dtype` (float32), as in PyTorch; random
ones draw from the global generator that ``lm.manual_seed`` resets, or from ``generator=``.
Every function takes PyTorch's ``device=`` (see :mod:`lamina.backend`), and ``layout`` /
``pin_memory`` are accepted where PyTorch has them (they change nothing on the CPU).
"""
from __future__ import annotations

import numpy as np

from .autograd.tensor import Tensor, _infer_array, int64
from .backend import check_device, to_device
from .dtypes import bool_, float16, float32, float64, get_default_dtype, int8, int16, int32, uint8
from .errors import LaminaValueError
from .random import generator as _global_generator
from .size import Size

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
           "normal", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
           "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "layout", "strided"]


class layout:
    """A memory layout (PyTorch's ``torch.layout``); lamina's tensors are all ``strided``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"lamina.{self.name}"


strided = layout("strided")


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise LaminaValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _float(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _rng(generator) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (a :class:`lamina.Generator`), or the global one."""
    return _global_generator() if generator is None else generator.numpy_generator()


def _make(array, requires_grad: bool, device=None) -> Tensor:
    """A tensor of ``array`` on ``device`` (the default device when None). Random values are
    drawn on the host and copied, so one seed gives the same numbers on every device."""
    target = check_device(device)
    if target.type != "cpu" or type(array) is not np.ndarray:
        array = to_device(array, target)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become the default floating type,
    ints int64, bools bool; a NumPy array keeps its dtype)."""
    return _make(_infer_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a Tensor or NumPy array of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data if device is None else data.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return _make(data, False, device)
    return _make(_infer_array(data, dtype), False, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype."""
    return Tensor._wrap(array)


def zeros(*size, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), dtype=_float(dtype)), requires_grad, device)


def ones(*size, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), dtype=_float(dtype)), requires_grad, device)


def empty(*size, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None) -> Tensor:
    """A tensor of ``size`` whose values are unspecified (lamina fills it with zeros)."""
    return _make(np.zeros(_shape(size), dtype=_float(dtype)), requires_grad, device)


def _fill_dtype(fill_value):
    if isinstance(fill_value, (bool, np.bool_)):
        return bool_
    if isinstance(fill_value, (int, np.integer)):
        return int64
    return get_default_dtype()


def full(size, fill_value, *, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype inferred as PyTorch does:
    bool, int64 or the default floating type)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = _fill_dtype(fill_value) if dtype is None else dtype
    size = size if isinstance(size, (tuple, list)) else (size,)
    return _make(np.full(_shape((size,)), fill_value, dtype=dtype), requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``; int64 when every
    bound is an integer, else the default floating type."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if integral else get_default_dtype()
    if step == 0:
        raise LaminaValueError("arange step must be non-zero")
    if (end - start) * step < 0:
        raise LaminaValueError(
            f"arange: upper bound {end} and lower bound {start} inconsistent with step sign {step}")
    # The count is ceil((end - start) / step) computed in float64, as PyTorch does.
    n = int(np.ceil((end - start) / step))
    values = start + step * np.arange(n, dtype=np.float64) if np.dtype(dtype).kind == "f" \
        else np.arange(start, end, step)
    return _make(np.asarray(values).astype(dtype), requires_grad, device)


def linspace(start, end, steps: int, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps, dtype=np.float64).astype(_float(dtype)),
                 requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype=None, layout=None, device=None,
        requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad, device)


def rand(*size, generator=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    values = _rng(generator).random(_shape(size), dtype=np.float64)
    return _make(values.astype(_float(dtype)), requires_grad, device)


def randn(*size, generator=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples."""
    values = _rng(generator).standard_normal(_shape(size))
    return _make(values.astype(_float(dtype)), requires_grad, device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` with numbers, or elementwise with tensors
    ``normal(mean_tensor, std_tensor)`` (the result has the broadcast shape)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
        s = std._data if isinstance(std, Tensor) else np.asarray(std)
        result_dtype = (mean if isinstance(mean, Tensor) else std).dtype
        shape = np.broadcast_shapes(m.shape, s.shape)
        values = m + s * _rng(generator).standard_normal(shape)
        return _make(values.astype(result_dtype), requires_grad, device)
    if size is None:
        raise LaminaValueError("normal(mean, std) with numbers needs a size")
    size = size if isinstance(size, (tuple, list)) else (size,)
    values = _rng(generator).normal(mean, std, _shape((size,)))
    return _make(values.astype(_float(dtype)), requires_grad, device)


def randint(low: int, high=None, size=None, *, generator=None, dtype=int64,
            layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` means low = 0)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list, Size)):
            raise LaminaValueError("randint needs a size, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise LaminaValueError(f"randint needs low < high, got low={low}, high={high}")
    size = size if isinstance(size, (tuple, list)) else (size,)
    values = _rng(generator).integers(low, high, _shape((size,)))
    return _make(values.astype(dtype), requires_grad, device)


def randperm(n: int, *, generator=None, dtype=int64, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1."""
    return _make(_rng(generator).permutation(n).astype(dtype), requires_grad, device)


def _like(x: Tensor, dtype, device):
    """Shape, dtype and device of a ``*_like`` result: ``x``'s unless given (PyTorch's rule)."""
    return x.shape, (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(x: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return ones(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(x: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return empty(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return full(shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(x: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return rand(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return randn(shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(x: Tensor, low: int, high: int | None = None, *, dtype=None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    shape, dtype, device = _like(x, dtype, device)
    return randint(low, high, shape, dtype=dtype, device=device, requires_grad=requires_grad)


# --------------------------------------------------------------------------- legacy types
class _LegacyTensorType(type):
    """The metaclass of ``LongTensor`` & co.: ``isinstance(t, LongTensor)`` asks for the dtype."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'lamina.{cls.__name__}'>"


def _legacy(name: str, dtype: np.dtype):
    def construct(cls, *args, device=None):
        """``{name}(2, 3)``: a zero tensor of that shape; ``{name}([1, 2])``: a copy of the
        data; both of dtype {dtype}."""
        t = Tensor(*args, dtype=cls.dtype)
        return t if device is None else t.to(device)

    return _LegacyTensorType(name, (), {"dtype": dtype, "__new__": construct,
                                        "__doc__": f"PyTorch's legacy constructor for {dtype} tensors."})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
HalfTensor = _legacy("HalfTensor", float16)
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", int32)
ShortTensor = _legacy("ShortTensor", int16)
CharTensor = _legacy("CharTensor", int8)
ByteTensor = _legacy("ByteTensor", uint8)
BoolTensor = _legacy("BoolTensor", bool_)
LEGACY_TYPES = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                              IntTensor, ShortTensor, CharTensor, ByteTensor,
                                              BoolTensor)}

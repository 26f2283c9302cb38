"""A checking array module: NumPy dressed as a device array library, for CI without a GPU.

:class:`CheckedArray` wraps a NumPy array and behaves as a CuPy array does where it matters
to lamina's array-module seam: arithmetic, indexing, methods and attributes work and return
checked arrays (reductions give 0-d arrays, not NumPy scalars), but nothing converts it
silently to NumPy. ``np.asarray(a)`` raises (as CuPy's ``__array__`` does), and so does every
NumPy function or ufunc applied to it (stricter than CuPy, which would dispatch some of them):
an operation that wrote ``np.exp(x)`` instead of ``xp.exp(x)`` fails here, on a CPU. A host
NumPy array mixed into a checked array's arithmetic or passed to a checking function raises
too (CuPy refuses them); NumPy and Python scalars are accepted.

:data:`checking` is the module (``checking.exp``, ``checking.add.at``, ``checking.linalg``,
``checking.float32``...), and :class:`CheckingBackend` the :class:`lamina.backend.ArrayBackend`
that stands it in for CuPy under ``lamina.backend.use_cuda_backend``: within it,
``lm.cuda.is_available()`` is True and ``device="cuda"`` tensors hold checked arrays.
"""
from __future__ import annotations

import functools
import types
import weakref

import numpy as np

from lamina.backend import ArrayBackend

__all__ = ["CheckedArray", "checking", "CheckingBackend", "BypassError"]


class BypassError(TypeError):
    """A device array reached NumPy directly (the array-module seam was bypassed)."""


def _refuse_host(value, where: str):
    raise BypassError(f"{where}: a host NumPy array of shape {value.shape} was mixed with a "
                      f"device array (move it with xp.asarray first)")


def _unwrap(value, where: str, allow_host: bool = False):
    """``value`` with every checked array replaced by its NumPy array (lists, tuples, dicts
    searched); host NumPy arrays refused unless ``allow_host``."""
    t = type(value)
    if t is CheckedArray:
        return value._a
    if t is np.ndarray:
        if not allow_host and value.ndim > 0:
            _refuse_host(value, where)
        return value
    if t is tuple or t is list:
        return t(_unwrap(v, where, allow_host) for v in value)
    if t is dict:
        return {k: _unwrap(v, where, allow_host) for k, v in value.items()}
    return value


def _wrap(value):
    """NumPy results as checked arrays (scalars as 0-d arrays, as device libraries return)."""
    t = type(value)
    if t is np.ndarray:
        return CheckedArray(value)
    if isinstance(value, np.generic):
        return CheckedArray(np.asarray(value))
    if t is tuple or t is list:
        return t(_wrap(v) for v in value)
    return value


_wrapper_of: "weakref.WeakValueDictionary[int, CheckedArray]" = weakref.WeakValueDictionary()


class CheckedArray:
    """A NumPy array that refuses to become one implicitly (see the module docstring)."""

    __slots__ = ("_a", "_base", "__weakref__")
    __array_ufunc__ = None        # np.exp(checked) -> TypeError; ndarray + checked -> refused
    __hash__ = None

    def __init__(self, array: np.ndarray) -> None:
        self._a = array
        self._base = None
        _wrapper_of[id(array)] = self

    # --- the conversions a device array refuses
    def __array__(self, dtype=None, copy=None):
        raise BypassError("implicit conversion of a device array to a NumPy array is not "
                          "allowed: take the array module from lamina.backend.get_array_module "
                          "or move it with lamina.backend.to_host")

    def __array_function__(self, func, types, args, kwargs):
        raise BypassError(f"numpy.{func.__name__} was called on a device array: use "
                          f"xp.{func.__name__} with xp = lamina.backend.get_array_module(...)")

    def get(self) -> np.ndarray:
        """A NumPy copy (CuPy's ``ndarray.get``)."""
        return self._a.copy()

    # --- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    # CuPy's flags: only these three (no 'writeable': its broadcast views are writable)
    flags = property(lambda self: types.SimpleNamespace(
        c_contiguous=self._a.flags.c_contiguous, f_contiguous=self._a.flags.f_contiguous,
        owndata=self._a.flags.owndata))
    T = property(lambda self: CheckedArray(self._a.T))
    real = property(lambda self: CheckedArray(self._a.real))
    imag = property(lambda self: CheckedArray(self._a.imag))
    device = property(lambda self: types.SimpleNamespace(id=0))

    @property
    def base(self):
        """The wrapper of the array this one views (one object per base, as a device
        library's ``base`` is: lamina's engine compares bases by identity)."""
        base = self._a.base
        if base is None:
            return None
        if self._base is None or self._base._a is not base:
            wrapper = _wrapper_of.get(id(base))
            self._base = wrapper if wrapper is not None and wrapper._a is base else CheckedArray(base)
        return self._base

    def __getattr__(self, name: str):
        if name.startswith("__"):   # __array_interface__, __array_struct__: no way to NumPy
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        @functools.wraps(attr)
        def method(*args, **kwargs):
            return _wrap(attr(*_unwrap(args, f"ndarray.{name}"), **_unwrap(kwargs, f"ndarray.{name}")))
        return method

    # --- Python protocols
    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __complex__(self) -> complex:
        return complex(self._a)

    def __repr__(self) -> str:
        return f"CheckedArray({self._a!r})"

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, "indexing", allow_host=True)])

    def __setitem__(self, index, value) -> None:
        self._a[_unwrap(index, "indexing", allow_host=True)] = _unwrap(value, "assignment")

    def __copy__(self):
        return CheckedArray(self._a.copy())

    def __deepcopy__(self, memo):
        return CheckedArray(self._a.copy())

    def __reduce__(self):
        raise BypassError("a device array cannot be pickled directly: move it to the host first")


def _binary(name: str):
    op = getattr(np.ndarray, name)

    def method(self, other):
        return _wrap(op(self._a, _unwrap(other, f"operator {name}")))
    method.__name__ = name
    return method


def _inplace(name: str):
    op = getattr(np.ndarray, name)

    def method(self, other):
        op(self._a, _unwrap(other, f"operator {name}"))
        return self
    method.__name__ = name
    return method


def _unary(name: str):
    op = getattr(np.ndarray, name)

    def method(self):
        return _wrap(op(self._a))
    method.__name__ = name
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift", "divmod"):
    setattr(CheckedArray, f"__{_name}__", _binary(f"__{_name}__"))
    setattr(CheckedArray, f"__r{_name}__", _binary(f"__r{_name}__"))
    if _name != "divmod":
        setattr(CheckedArray, f"__i{_name}__", _inplace(f"__i{_name}__"))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(CheckedArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(CheckedArray, f"__{_name}__", _unary(f"__{_name}__"))


# ------------------------------------------------------------------------- the module
_TAKES_HOST = {"asarray", "array", "ascontiguousarray", "asanyarray", "asfortranarray"}


def _function(fn, name: str):
    allow_host = name in _TAKES_HOST

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, f"xp.{name}", allow_host),
                        **_unwrap(kwargs, f"xp.{name}", allow_host)))
    return checked


class _CheckedUfunc:
    """A ufunc that takes and gives checked arrays, with ``at``, ``reduce``, ``outer`` ..."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self._call = _function(ufunc, ufunc.__name__)

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str):
        attr = getattr(self._ufunc, name)
        return _function(attr, f"{self.__name__}.{name}") if callable(attr) else attr


class _CheckingModule(types.ModuleType):
    """NumPy's namespace over checked arrays: functions wrap and unwrap, types pass through
    (``ndarray`` is :class:`CheckedArray`), submodules (linalg, fft) are checked in turn."""

    def __init__(self, name: str, numpy_module) -> None:
        super().__init__(name)
        self._numpy = numpy_module

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "ndarray":
            return CheckedArray
        attr = getattr(self._numpy, name)
        if isinstance(attr, np.ufunc):
            value = _CheckedUfunc(attr)
        elif isinstance(attr, types.ModuleType):
            value = _CheckingModule(f"{self.__name__}.{name}", attr)
        elif isinstance(attr, type) or not callable(attr):
            value = attr
        else:
            value = _function(attr, name)
        setattr(self, name, value)
        return value


checking = _CheckingModule("checking", np)


class CheckingBackend(ArrayBackend):
    """The checking module as lamina's CUDA backend: one device, 'cuda:0'."""

    module = checking
    array_type = CheckedArray

    def __init__(self) -> None:
        self.seeds: list[int] = []   # what lm.manual_seed / lm.cuda.manual_seed passed
        self.transfers = 0   # host <-> device copies, for tests that count them

    def device_count(self) -> int:
        return 1

    def index_of(self, array) -> int:
        return 0

    def to_device(self, array, index: int):
        self.transfers += 1
        if type(array) is CheckedArray:
            return array
        return CheckedArray(np.array(array, copy=True))

    def to_host(self, array) -> np.ndarray:
        self.transfers += 1
        return array._a.copy()

    def manual_seed(self, seed: int) -> None:
        self.seeds.append(seed)

    def uniform(self, shape: tuple, dtype, index: int, seed: int):
        return CheckedArray(np.random.default_rng(seed).random(shape, dtype=dtype))

    def device_name(self, index: int) -> str:
        return "lamina checking array module (NumPy)"

    def memory_allocated(self, index: int) -> int:
        return 0

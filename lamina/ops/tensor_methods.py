"""Install the operations as Tensor operators and methods (``x + y``, ``x.sum(1)``, ``x.T``).

The Tensor class lives below the operations (``lamina.autograd``), so the operations attach
themselves to it here, once, when ``lamina.ops`` is imported.
"""
from __future__ import annotations

import numpy as np

from .. import creation
from ..autograd import observers
from ..autograd.grad_mode import _state
from ..autograd.tensor import Tensor
from ..backend import get_array_module, on_device_of, same_device
from ..creation import LEGACY_TYPES
from ..errors import LaminaTypeError, LaminaValueError
from ..random import generator as global_generator
from . import (activation, aliases, arithmetic, cumulative, exponential, extremum, indexing,
               interpolation, join, linalg, logical, reduction, rounding, selection, shape, sorting,
               transfer, trigonometric)
from ._util import as_tensor
from .softmax import log_softmax, softmax


def _compare(ufunc: str):
    """``x < y`` and friends (no gradient): the ufunc named ``ufunc`` of x's array module."""
    def method(self, other):
        if isinstance(other, Tensor):
            other = other._data
            if type(other) is not type(self._data):
                same_device((self._data, other), ufunc)
        return Tensor._wrap(getattr(get_array_module(self._data), ufunc)(self._data, other))

    return method


def _reflected(fn):
    def method(self, other):
        return fn(as_tensor(other, self), self)

    return method


def _operator(op, general, floating_only: bool = False):
    """``x + y`` and friends: two tensors of one dtype go straight to the operation (nothing
    to promote, no ``alpha``/``out``); anything else takes the general function."""
    apply = op.apply

    def method(self, other):
        if isinstance(other, Tensor):
            dtype = self._data.dtype
            if dtype is other._data.dtype and (not floating_only or dtype.kind == "f"):
                return apply(self, other)
        return general(self, other)

    method.__name__ = general.__name__
    method.__doc__ = general.__doc__
    return method


def _to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
        memory_format=None):
    """``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other_tensor)``.

    Moving to another device copies (differentiably); only devices lamina can use here are
    accepted (see :mod:`lamina.backend`)."""
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (np.dtype, type)) and not isinstance(a, str):
            dtype = a
        elif a is not None:
            device = a
    result = self if device is None else transfer.to_device_tensor(self, device)
    if dtype is not None:
        result = arithmetic.cast(result, dtype)
    return arithmetic.clone(result) if copy and result is self else result


def _type(self, dtype=None, non_blocking: bool = False):
    """``x.type()`` names the legacy type ('lamina.FloatTensor'); ``x.type(lm.float64)``,
    ``x.type(lm.DoubleTensor)`` or ``x.type('torch.DoubleTensor')`` converts."""
    if dtype is None:
        for name, cls in LEGACY_TYPES.items():
            if cls.dtype == self.dtype:
                return f"lamina.{name}"
        raise LaminaTypeError(f"no legacy tensor type for dtype {self.dtype}")
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        if name not in LEGACY_TYPES:
            raise LaminaTypeError(f"unknown tensor type {dtype!r} (expected e.g. 'torch.FloatTensor')")
        dtype = LEGACY_TYPES[name]
    dtype = getattr(dtype, "dtype", dtype)
    return arithmetic.cast(self, dtype)


def _new(make):
    def method(self, *size, dtype=None, device=None, requires_grad: bool = False,
               layout=None, pin_memory: bool = False):
        return make(size, self.dtype if dtype is None else dtype,
                    self.device if device is None else device, requires_grad)

    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False):
    return creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False,
                layout=None, pin_memory: bool = False):
    if dtype is None and not isinstance(data, (Tensor, np.ndarray)):
        dtype = self.dtype
    return creation.tensor(data, dtype=dtype, device=self.device if device is None else device,
                           requires_grad=requires_grad)


def _arith_inplace(name, op, raw):
    """``x.add_(y)`` and friends: NumPy's in-place operator when nothing is recorded, else the
    recorded form (see ``Tensor._inplace``)."""

    def method(self, other, *args, alpha=None, **kwargs):
        if args:  # PyTorch's deprecated overload add_(Number alpha, Tensor other)
            alpha, other = other, args[0]
        if alpha is not None and alpha != 1:
            kwargs["alpha"] = alpha
        if (not (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
                or not _state.enabled):
            value = other._data if isinstance(other, Tensor) else other
            if type(value) is not type(self._data) and hasattr(value, "shape"):
                same_device((self._data, value), name)
            if "alpha" in kwargs:
                value = value * kwargs["alpha"]
            if self._data.dtype.kind != "f" and raw == "true_divide":
                raise LaminaTypeError(f"{name}: result type float can't be cast to the desired "
                                      f"output type {self._data.dtype}")
            self._check_writeable(name)
            try:
                getattr(get_array_module(self._data), raw)(self._data, value, out=self._data,
                                                           casting="same_kind")
            except TypeError as exc:  # NumPy's casting errors are TypeErrors
                raise LaminaTypeError(f"{name}: {exc}") from None
            except ValueError as exc:
                raise LaminaValueError(f"{name}: {exc}") from None
            return self._bump()
        return self._inplace(name, op, other, **kwargs)

    return method


def _unary_inplace(name, op):
    def method(self, *args, **kwargs):
        return self._inplace(name, op, *args, **kwargs)

    method.__name__ = name
    return method


def _reshape_inplace(name, op):
    """``x.unsqueeze_(0)``: this tensor takes the view's shape (and, in the graph, its node)."""

    def method(self, *args):
        self._check_inplace(name)
        result = op(self, *args)
        self._data = result._data
        if result._node is not None:
            self._node, self._out_index = result._node, result._out_index
        observer = observers.current()
        if observer is not None:  # later uses of this tensor mean the reshaped output
            observer.alias(self, result)
        return self

    return method


def _contiguous(self, memory_format=None) -> Tensor:
    """This tensor if its array is C-contiguous, else a contiguous copy in the graph."""
    if self._data.flags.c_contiguous:
        return self
    return arithmetic.clone(self)


def _overwrite(t, v):
    """The recorded form of an in-place overwrite (``fill_``/``copy_`` in the graph): 0 t + v,
    so the gradient reaches ``v`` and not the old values of ``t``."""
    return arithmetic.add(arithmetic.mul(t, 0), v)


def _fill_(self, value) -> Tensor:
    """Set every element to ``value`` (a number or a one-element tensor)."""
    if isinstance(value, Tensor) and value._data.size == 1 and not value.requires_grad:
        value = value._data.item()
    if not isinstance(value, Tensor):
        self._check_inplace("fill_")
        if not (_state.enabled and self.requires_grad):
            self._check_writeable("fill_")
            self._data[...] = value
            return self._bump()
    return self._inplace("fill_", _overwrite, value)


def _copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, converted to this dtype) into this tensor."""
    if not isinstance(src, Tensor) or not (_state.enabled and (src.requires_grad or self.requires_grad)):
        self._check_inplace("copy_")
        self._check_writeable("copy_")
        self._data[...] = on_device_of(self._raw(src), self._data)
        return self._bump()
    return self._inplace("copy_", _overwrite, src)


def _random_fill(self, values) -> Tensor:
    self._data[...] = on_device_of(values, self._data)
    return self._bump()


def _rng(generator):
    """The NumPy generator to draw with: the global one, or ``generator``'s. Draws are made on
    the host, so one seed gives the same values on every device."""
    return global_generator() if generator is None else generator.numpy_generator()


def _uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Overwrite with draws from U(a, b)."""
    self._check_inplace("uniform_")
    return _random_fill(self, _rng(generator).uniform(a, b, self._data.shape))


def _normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Overwrite with draws from N(mean, std^2)."""
    self._check_inplace("normal_")
    return _random_fill(self, _rng(generator).normal(mean, std, self._data.shape))


def install() -> None:
    T = Tensor
    # in-place writes that may record a node, and random fills
    T.contiguous = _contiguous
    T.fill_ = _fill_
    T.copy_ = _copy_
    T.uniform_ = _uniform_
    T.normal_ = _normal_
    # operators
    T.__add__ = _operator(arithmetic.Add, arithmetic.add)
    T.__radd__ = _reflected(arithmetic.add)
    T.__sub__ = _operator(arithmetic.Sub, arithmetic.sub)
    T.__rsub__ = _reflected(arithmetic.sub)
    T.__mul__ = _operator(arithmetic.Mul, arithmetic.mul)
    T.__rmul__ = _reflected(arithmetic.mul)
    T.__truediv__ = _operator(arithmetic.Div, arithmetic.div, floating_only=True)
    T.__rtruediv__ = _reflected(arithmetic.div)
    T.__pow__ = arithmetic.pow
    T.__rpow__ = _reflected(arithmetic.pow)
    T.__neg__ = arithmetic.neg
    T.__pos__ = lambda self: self
    T.__abs__ = arithmetic.abs
    T.__matmul__ = linalg.matmul
    T.__rmatmul__ = _reflected(linalg.matmul)
    T.__getitem__ = indexing.getitem
    T.__setitem__ = indexing.setitem
    # comparisons (no gradient)
    T.__eq__ = _compare("equal")
    T.__ne__ = _compare("not_equal")
    T.__lt__ = _compare("less")
    T.__le__ = _compare("less_equal")
    T.__gt__ = _compare("greater")
    T.__ge__ = _compare("greater_equal")
    T.__and__ = _compare("logical_and")
    T.__or__ = _compare("logical_or")
    T.__invert__ = lambda self: Tensor._wrap(get_array_module(self._data).logical_not(self._data))
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__
    # methods
    for module, names in (
        (arithmetic, ("add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs",
                      "sign", "clone", "square")),
        (selection, ("clamp", "maximum", "minimum")),
        (reduction, ("sum", "mean", "var", "std", "logsumexp", "prod", "norm")),
        (extremum, ("amax", "amin", "max", "min", "argmax", "argmin")),
        (shape, ("reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
                 "expand", "expand_as", "view_as", "reshape_as", "repeat", "flip", "diagonal")),
        (join, ("split", "chunk", "unbind")),
        (indexing, ("masked_fill", "gather", "index_select", "take_along_dim", "narrow", "select")),
        (linalg, ("matmul", "mm", "bmm", "dot")),
        (activation, ("sigmoid", "tanh", "relu")),
        (trigonometric, ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                         "acosh", "atanh", "atan2", "hypot", "arcsin", "arccos", "arctan",
                         "arcsinh", "arccosh", "arctanh", "arctan2")),
        (exponential, ("exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "reciprocal", "erf",
                       "erfinv")),
        (rounding, ("floor", "ceil", "round", "trunc", "fix", "frac", "fmod", "remainder")),
        (interpolation, ("lerp",)),
        (aliases, ("negative", "true_divide")),
        (sorting, ("sort", "argsort", "topk")),
        (cumulative, ("cumsum", "cumprod")),
    ):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.clip = selection.clamp
    T.softmax, T.log_softmax = softmax, log_softmax  # by name: ops.softmax is the function
    T.multiply = arithmetic.mul
    T.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
    T.mT = property(lambda self: shape.transpose(self, -2, -1))
    T.to = _to
    T.float = lambda self, memory_format=None: arithmetic.cast(self, np.float32)
    T.double = lambda self, memory_format=None: arithmetic.cast(self, np.float64)
    T.half = lambda self, memory_format=None: arithmetic.cast(self, np.float16)
    T.long = lambda self, memory_format=None: arithmetic.cast(self, np.int64)
    T.int = lambda self, memory_format=None: arithmetic.cast(self, np.int32)
    T.short = lambda self, memory_format=None: arithmetic.cast(self, np.int16)
    T.char = lambda self, memory_format=None: arithmetic.cast(self, np.int8)
    T.byte = lambda self, memory_format=None: arithmetic.cast(self, np.uint8)
    T.bool = lambda self, memory_format=None: arithmetic.cast(self, np.bool_)
    T.type = _type
    T.type_as = lambda self, other: arithmetic.cast(self, other.dtype)
    T.cpu = lambda self, memory_format=None: transfer.to_device_tensor(self, "cpu")
    T.cuda = lambda self, device=None, non_blocking=False, memory_format=None: _to(
        self, "cuda" if device is None else device)
    T.t = lambda self: shape.transpose(self, 0, 1) if self.ndim == 2 else self
    T.new_zeros = _new(lambda size, dtype, device, rg: creation.zeros(
        *size, dtype=dtype, device=device, requires_grad=rg))
    T.new_ones = _new(lambda size, dtype, device, rg: creation.ones(
        *size, dtype=dtype, device=device, requires_grad=rg))
    T.new_empty = _new(lambda size, dtype, device, rg: creation.empty(
        *size, dtype=dtype, device=device, requires_grad=rg))
    T.new_full = _new_full
    T.new_tensor = _new_tensor
    # in place
    T.add_ = _arith_inplace("add_", arithmetic.add, "add")
    T.sub_ = _arith_inplace("sub_", arithmetic.sub, "subtract")
    T.mul_ = _arith_inplace("mul_", arithmetic.mul, "multiply")
    T.div_ = _arith_inplace("div_", arithmetic.div, "true_divide")
    T.__iadd__, T.__isub__, T.__imul__, T.__itruediv__ = T.add_, T.sub_, T.mul_, T.div_
    T.pow_ = _unary_inplace("pow_", arithmetic.pow)
    T.clamp_ = _unary_inplace("clamp_", selection.clamp)
    T.clip_ = T.clamp_
    T.masked_fill_ = _unary_inplace("masked_fill_", indexing.masked_fill)
    for module, names in ((arithmetic, ("neg", "exp", "log", "sqrt", "abs", "sign", "square")),
                          (activation, ("sigmoid", "tanh", "relu"))):
        for name in names:
            setattr(T, name + "_", _unary_inplace(name + "_", getattr(module, name)))
    T.t_ = _reshape_inplace("t_", T.t)
    T.unsqueeze_ = _reshape_inplace("unsqueeze_", shape.unsqueeze)
    T.squeeze_ = _reshape_inplace("squeeze_", shape.squeeze)
    T.transpose_ = _reshape_inplace("transpose_", shape.transpose)
    # tests, comparisons and counting (no gradient), and the triangles
    for name in ("any", "all", "isnan", "isinf", "isfinite", "nonzero", "argwhere", "unique",
                 "bincount", "count_nonzero", "equal", "isclose", "allclose", "logical_not",
                 "logical_and", "logical_or", "logical_xor", "tril", "triu"):
        setattr(T, name, getattr(logical, name))
    T.__mod__ = lambda self, other: rounding.remainder(self, other)
    T.__rmod__ = lambda self, other: rounding.remainder(as_tensor(other, self), self)
    T.__floordiv__ = lambda self, other: arithmetic.div(self, other, rounding_mode="floor")
    T.__rfloordiv__ = lambda self, other: arithmetic.div(as_tensor(other, self), self,
                                                         rounding_mode="floor")
    T.floor_divide = T.__floordiv__

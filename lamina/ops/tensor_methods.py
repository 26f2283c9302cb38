"""Install the operations as Tensor operators and methods (``x + y``, ``x.sum(1)``, ``x.T``).

The Tensor class lives below the operations (``lamina.autograd``), so the operations attach
themselves to it here, once, when ``lamina.ops`` is imported.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from . import activation, arithmetic, extremum, indexing, join, linalg, reduction, shape
from ._util import as_tensor


def _compare(op):
    def method(self, other):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self._data, other))

    return method


def _reflected(fn):
    def method(self, other):
        return fn(as_tensor(other, self), self)

    return method


def _to(self, *args, dtype=None, **kwargs):
    """``x.to(dtype)`` (devices other than 'cpu' are not available in this build)."""
    for a in args:
        if isinstance(a, (np.dtype, type)) or (isinstance(a, str) and a not in ("cpu",)):
            dtype = a
    return self if dtype is None else arithmetic.cast(self, dtype)


def install() -> None:
    T = Tensor
    # operators
    T.__add__ = arithmetic.add
    T.__radd__ = _reflected(arithmetic.add)
    T.__sub__ = arithmetic.sub
    T.__rsub__ = _reflected(arithmetic.sub)
    T.__mul__ = arithmetic.mul
    T.__rmul__ = _reflected(arithmetic.mul)
    T.__truediv__ = arithmetic.div
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
    T.__eq__ = _compare(np.equal)
    T.__ne__ = _compare(np.not_equal)
    T.__lt__ = _compare(np.less)
    T.__le__ = _compare(np.less_equal)
    T.__gt__ = _compare(np.greater)
    T.__ge__ = _compare(np.greater_equal)
    T.__and__ = _compare(np.logical_and)
    T.__or__ = _compare(np.logical_or)
    T.__invert__ = lambda self: Tensor._wrap(np.logical_not(self._data))
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__
    # methods
    for module, names in (
        (arithmetic, ("add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs",
                      "sign", "clamp", "maximum", "minimum", "clone", "square")),
        (reduction, ("sum", "mean", "var", "std", "logsumexp", "prod", "norm")),
        (extremum, ("amax", "amin", "max", "min", "argmax", "argmin")),
        (shape, ("reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
                 "expand", "expand_as", "view_as", "reshape_as", "repeat", "flip")),
        (join, ("split", "chunk", "unbind")),
        (indexing, ("masked_fill", "gather", "index_select", "take_along_dim")),
        (linalg, ("matmul", "mm", "bmm", "dot")),
        (activation, ("sigmoid", "tanh", "relu", "softmax", "log_softmax")),
    ):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.clip = arithmetic.clamp
    T.multiply = arithmetic.mul
    T.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
    T.mT = property(lambda self: shape.transpose(self, -2, -1))
    T.to = _to
    T.float = lambda self: arithmetic.cast(self, np.float32)
    T.double = lambda self: arithmetic.cast(self, np.float64)
    T.long = lambda self: arithmetic.cast(self, np.int64)
    T.int = lambda self: arithmetic.cast(self, np.int32)
    T.bool = lambda self: arithmetic.cast(self, np.bool_)
    T.type = lambda self, dtype: arithmetic.cast(self, dtype)
    T.contiguous = lambda self: self
    T.cpu = lambda self: self

"""Comparisons, tests and counting: operations whose results carry no gradient.

``eq ne lt le gt ge`` (also the operators), ``equal``, ``isclose``, ``allclose``, ``isnan``,
``isinf``, ``isfinite``, ``logical_and/or/xor/not``, ``any``, ``all``, ``nonzero``,
``argwhere``, ``count_nonzero``, ``bincount`` and ``unique``, with PyTorch's signatures. Their
results are bool or integer tensors (or Python bools), outside the graph, as in PyTorch.
``tril``/``triu`` (differentiable: the mask is a constant) live here too, beside the tests
that build their masks.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..errors import LaminaValueError
from ._util import normalize_dim
from .arithmetic import mul

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "equal", "isclose", "allclose", "isnan", "isinf",
           "isfinite", "logical_and", "logical_or", "logical_xor", "logical_not", "any", "all",
           "nonzero", "argwhere", "count_nonzero", "bincount", "unique", "tril", "triu"]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _wrap(array) -> Tensor:
    return Tensor._wrap(get_array_module(array).asarray(array))


def _binary(ufunc_name: str):
    def op(input, other) -> Tensor:
        xp = get_array_module(_raw(input), _raw(other))
        return _wrap(getattr(xp, ufunc_name)(_raw(input), _raw(other)))

    op.__name__ = op.__qualname__ = ufunc_name
    return op


eq, ne = _binary("equal"), _binary("not_equal")
lt, le, gt, ge = _binary("less"), _binary("less_equal"), _binary("greater"), _binary("greater_equal")
logical_and, logical_or, logical_xor = (_binary("logical_and"), _binary("logical_or"),
                                        _binary("logical_xor"))
for _f, _n in ((eq, "eq"), (ne, "ne"), (lt, "lt"), (le, "le"), (gt, "gt"), (ge, "ge")):
    _f.__name__ = _f.__qualname__ = _n  # the names help() and the API reference show
    _f.__doc__ = f"Elementwise ``input {_n} other`` as a bool tensor (no gradient)."


def logical_not(input: Tensor) -> Tensor:
    """Elementwise ``not input`` as a bool tensor (no gradient)."""
    return _wrap(get_array_module(input._data).logical_not(input._data))


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and the same values."""
    a, b = input._data, other._data
    return a.shape == b.shape and bool((a == b).all())


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other| elementwise."""
    xp = get_array_module(input._data, _raw(other))
    return _wrap(xp.isclose(input._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if :func:`isclose` holds everywhere (a Python bool: one device sync)."""
    xp = get_array_module(input._data, _raw(other))
    return bool(xp.allclose(input._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isnan(input: Tensor) -> Tensor:
    """Elementwise ``input != input`` (NaN) as a bool tensor."""
    return _wrap(get_array_module(input._data).isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    """Elementwise ``|input| = inf`` as a bool tensor."""
    return _wrap(get_array_module(input._data).isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    """Elementwise: neither infinite nor NaN, as a bool tensor."""
    return _wrap(get_array_module(input._data).isfinite(input._data))


def _reduce_bool(name: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    data = input._data
    axis = None if dim is None else (tuple(normalize_dim(d, data.ndim) for d in dim)
                                     if isinstance(dim, (tuple, list)) else normalize_dim(dim, data.ndim))
    xp = get_array_module(data)
    result = getattr(xp, name)(data, axis=axis, keepdims=keepdim and dim is not None)
    return _wrap(xp.asarray(result, dtype=np.uint8 if data.dtype == np.uint8 else bool))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether any element (along ``dim``) is non-zero."""
    return _reduce_bool("any", input, dim, keepdim)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element (along ``dim``) is non-zero."""
    return _reduce_bool("all", input, dim, keepdim)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per
    dimension with ``as_tuple``."""
    xp = get_array_module(input._data)
    idx = xp.nonzero(input._data if input.ndim else input._data.reshape(1))
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in idx)
    return _wrap(xp.stack(idx, axis=1).astype(np.int64) if idx else xp.zeros((0, 0), np.int64))


def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements as an (n, ndim) int64 tensor (:func:`nonzero`)."""
    return nonzero(input)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements (along ``dim``) are non-zero, as an int64 tensor."""
    xp = get_array_module(input._data)
    return _wrap(xp.asarray(xp.count_nonzero(input._data, axis=dim), dtype=np.int64))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max(input) occurs in the 1-D non-negative int tensor
    ``input`` (summed ``weights`` instead of counts when given)."""
    data = input._data
    if data.ndim != 1 or data.dtype.kind not in "iu" or (data.size and data.min() < 0):
        raise LaminaValueError(
            f"bincount expects a 1-D tensor of non-negative integers, got shape {tuple(data.shape)} "
            f"and dtype {data.dtype}")
    w = None if weights is None else weights._data
    xp = get_array_module(data, w)
    if data.size == 0:  # CuPy's bincount takes the max of its input, which an empty one lacks
        counts = xp.zeros(minlength, dtype=np.int64 if w is None else np.float64)
    else:
        counts = xp.bincount(data, weights=w, minlength=minlength)
    return _wrap(counts.astype(np.int64 if w is None else (w.dtype if w.dtype.kind == "f" else np.float64)))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (sorted), optionally with each element's index into them and the
    count of each value."""
    xp = get_array_module(input._data)
    if dim is not None:
        values, inverse, counts = xp.unique(input._data, return_inverse=True, return_counts=True,
                                            axis=normalize_dim(dim, input.ndim))
    else:
        values, inverse, counts = xp.unique(input._data, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(input._data.shape)
    out = [_wrap(values)]
    if return_inverse:
        out.append(_wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def _triangle(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    rows, cols = input._data.shape[-2:]
    xp = get_array_module(input._data)
    keep = (xp.tri(rows, cols, diagonal, dtype=bool) if lower
            else ~xp.tri(rows, cols, diagonal - 1, dtype=bool))
    return mul(input, Tensor._wrap(keep.astype(input._data.dtype)))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (j <= i + diagonal) of the last two dimensions, zeros elsewhere;
    the gradient passes through the kept elements."""
    return _triangle(input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (j >= i + diagonal) of the last two dimensions, zeros elsewhere."""
    return _triangle(input, diagonal, False)

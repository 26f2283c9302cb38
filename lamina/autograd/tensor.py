"""The Tensor: an array, an optional gradient, and the edge into the graph that made it.

A Tensor wraps one array of the backend (a NumPy ``ndarray`` today). When it is the output
of an operation recorded under grad mode, ``grad_fn`` is that operation's node; calling
``backward()`` on a scalar result walks those nodes in reverse topological order and
accumulates ``dL/dx`` into ``x.grad`` for every leaf ``x`` with ``requires_grad=True``.
Arithmetic operators and methods such as ``x.sum(dim=1)`` are installed by
``lamina.ops`` (the operations live one layer above this module).
"""
from __future__ import annotations

import weakref

import numpy as np

from ..backend import get_array_module
from ..errors import InplaceError, LaminaTypeError, LaminaValueError
from . import function as _function
from .grad_mode import _state

__all__ = ["Tensor", "float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool_"]

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_ndarray = np.ndarray


def _coerce(a):
    """Make ``a`` an array of its backend (NumPy scalars from reductions become 0-d arrays)."""
    if type(a).__module__.startswith("cupy"):
        return a
    return np.asarray(a)


def _infer_array(data, dtype=None):
    """Convert user data to an array with PyTorch's dtype rules.

    Python floats (and lists holding any float) become float32; Python ints int64; bools
    bool; a NumPy array or NumPy scalar keeps its dtype; ``dtype`` overrides all of these.
    """
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
    xp = get_array_module(data)
    if isinstance(data, (np.ndarray, np.generic)) or xp is not np:
        return xp.array(data, dtype=dtype, copy=True)
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise LaminaValueError(f"cannot make a tensor from {data!r}: {exc}") from None
    if arr.dtype == object:
        # A list of Tensors, e.g. [t1, t2]: take their values.
        try:
            arr = np.array([np.asarray(x._data if isinstance(x, Tensor) else x) for x in data])
        except (TypeError, ValueError):
            raise LaminaTypeError(f"cannot make a tensor from data of type {type(data).__name__}") from None
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype.kind == "f":
        return arr.astype(float32, copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(int64, copy=False)
    if arr.dtype.kind == "b":
        return arr
    raise LaminaTypeError(f"unsupported data type {arr.dtype} for a tensor (expected numbers or bools)")


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    >>> x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad            # dy/dx = 2x
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "grad", "requires_grad", "_node", "_out_index", "_version",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self._adopt(_infer_array(data, dtype), requires_grad)

    def _adopt(self, array, requires_grad: bool = False) -> None:
        """Become a fresh leaf holding ``array`` (for constructors, e.g. Parameter's)."""
        self._data = array
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._out_index = 0
        self._version = 0
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array) -> "Tensor":
        """Wrap an array without copying or dtype inference (the operations' fast path)."""
        t = object.__new__(cls)
        t._data = array if type(array) is _ndarray else _coerce(array)
        t.grad = None
        t.requires_grad = False
        t._node = None
        t._out_index = 0
        t._version = 0
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------- array facts
    @property
    def shape(self) -> tuple:
        return self._data.shape

    def size(self, dim: int | None = None):
        """The shape as a tuple (so ``x.size()[1:]`` works), or one extent with ``dim``."""
        return self._data.shape if dim is None else self._data.shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    @property
    def device(self) -> str:
        from ..backend import device_of

        return device_of(self._data)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise LaminaTypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------- conversions
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise LaminaValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise LaminaTypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise LaminaValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data.item())

    __hash__ = object.__hash__

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's array, outside the graph (PyTorch's ``.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        value = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = value

    # ----------------------------------------------------------------- autograd
    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded operation)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node of the operation that produced this tensor (None for leaves)."""
        return self._node

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Start (or stop) recording operations on this leaf tensor."""
        if requires_grad and self._data.dtype.kind != "f":
            raise LaminaTypeError(
                f"only floating-point tensors can require gradients, this one is {self.dtype}")
        if not requires_grad and self._node is not None:
            raise LaminaValueError("requires_grad can only be turned off on a leaf; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise LaminaValueError("retain_grad() on a tensor that does not require grad")
        if self._node is None:
            return
        self._retains_grad = True
        node = self._node
        if node.retained is None:
            node.retained = {}
        node.retained[self._out_index] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's array, outside the graph."""
        t = Tensor._wrap(self._data)
        t._version = self._version
        return t

    def detach_(self) -> "Tensor":
        self._node = None
        self.requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see :mod:`.engine`)."""
        from .engine import run_backward

        run_backward(self, gradient, retain_graph)

    # ----------------------------------------------------------------- in place
    def _check_inplace(self, what: str) -> None:
        if self.requires_grad and _state.enabled:
            kind = "a leaf tensor" if self._node is None else "a tensor in the graph"
            raise InplaceError(
                f"{what}: {kind} that requires grad cannot be modified in place while "
                "gradients are recorded; wrap the update in lm.no_grad()")

    def _bump(self) -> "Tensor":
        self._version += 1
        return self

    @staticmethod
    def _raw(other):
        return other._data if isinstance(other, Tensor) else other

    def add_(self, other, alpha=1) -> "Tensor":
        self._check_inplace("add_")
        other = self._raw(other)
        self._data += other if alpha == 1 else alpha * other
        return self._bump()

    def sub_(self, other, alpha=1) -> "Tensor":
        self._check_inplace("sub_")
        other = self._raw(other)
        self._data -= other if alpha == 1 else alpha * other
        return self._bump()

    def mul_(self, other) -> "Tensor":
        self._check_inplace("mul_")
        self._data *= self._raw(other)
        return self._bump()

    def div_(self, other) -> "Tensor":
        self._check_inplace("div_")
        self._data /= self._raw(other)
        return self._bump()

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def zero_(self) -> "Tensor":
        self._check_inplace("zero_")
        self._data[...] = 0
        return self._bump()

    def fill_(self, value) -> "Tensor":
        self._check_inplace("fill_")
        self._data[...] = self._raw(value)
        return self._bump()

    def copy_(self, src) -> "Tensor":
        """Copy ``src`` (broadcast to this shape) into this tensor's array."""
        self._check_inplace("copy_")
        self._data[...] = self._raw(src)
        return self._bump()

    def clamp_(self, min=None, max=None) -> "Tensor":
        self._check_inplace("clamp_")
        np.clip(self._data, min, max, out=self._data)
        return self._bump()

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> "Tensor":
        from ..random import generator

        self._check_inplace("uniform_")
        self._data[...] = generator().uniform(a, b, self._data.shape)
        return self._bump()

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> "Tensor":
        from ..random import generator

        self._check_inplace("normal_")
        self._data[...] = generator().normal(mean, std, self._data.shape)
        return self._bump()

    # ----------------------------------------------------------------- display
    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self._data), separator=", ", prefix="tensor(",
                               precision=4)
        extras = []
        if self._data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=lamina.{self._data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


_function.Tensor = Tensor

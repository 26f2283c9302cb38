"""The Tensor: an array, an optional gradient, and the edge into the graph that made it.

A Tensor wraps one array of the backend (a NumPy ``ndarray`` today). When it is the output
of an operation recorded under grad mode, ``grad_fn`` is that operation's node; calling
``backward()`` on a scalar result walks those nodes in reverse topological order and
accumulates ``dL/dx`` into ``x.grad`` for every leaf ``x`` with ``requires_grad=True``.
This module defines what a tensor *is* (its array, dtype, device, shape, grad and graph
edge); :mod:`.inplace` its in-place rules. What a tensor *does* -- the operators
(``x + y``, ``x @ w``, ``x[i]``) and the methods that are operations (``x.sum(dim=1)``,
``x.relu()``, ``x.add_(y)``) -- is attached in one place, ``lamina/ops/tensor_methods.py``,
when ``lamina.ops`` is imported: each is the ``torch.*`` function of the same name, so
``x.sum(1)`` is ``lamina.sum(x, 1)``. (The operations sit one layer above autograd and
import it; autograd does not import them, as PyTorch's TensorBase does not define its
kernels.)
"""
from __future__ import annotations

import weakref

import numpy as np

from .. import dtypes as _dtypes
from ..backend import device_of, get_array_module, to_host
from ..dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from ..errors import LaminaTypeError, LaminaValueError
from ..size import Size
from . import engine as _engine
from .inplace import InPlace
from .tensor_str import tensor_repr
from . import observers as _observers
from .observers import _local as _observed

__all__ = ["Tensor", "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
           "bool_"]

_ndarray = np.ndarray
_new_object = object.__new__


def _coerce(a):
    """Make ``a`` an array of its backend (NumPy scalars from reductions become 0-d arrays)."""
    if get_array_module(a) is not np:
        return a
    return np.asarray(a)


def _infer_array(data, dtype=None):
    """Convert user data to an array with PyTorch's dtype rules.

    Python floats (and lists holding any float) become the default floating type (float32
    unless :func:`lamina.set_default_dtype` changed it); Python ints int64; bools bool; a
    NumPy array or NumPy scalar keeps its dtype; ``dtype`` overrides all of these.
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
            arr = np.array([to_host(x._data) if isinstance(x, Tensor) else np.asarray(x) for x in data])
        except (TypeError, ValueError):
            raise LaminaTypeError(f"cannot make a tensor from data of type {type(data).__name__}") from None
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype.kind == "f":
        return arr.astype(_dtypes.get_default_dtype(), copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(int64, copy=False)
    if arr.dtype.kind == "b":
        return arr
    raise LaminaTypeError(f"unsupported data type {arr.dtype} for a tensor (expected numbers or bools)")


def _refuse_read(what: str) -> None:
    _observed.observer.refuse(f"a tensor's value was read into Python ({what}) while recording; "
                              "the step's control flow or results may depend on it")


def _new_tensor(array) -> Tensor:
    """``Tensor._wrap`` without the call (the hot path of every operation and of the engine)."""
    if type(array) is not _ndarray:
        return Tensor._wrap(array)
    t = _new_object(Tensor)
    t._data = array
    t.grad = None
    t.requires_grad = False
    t._node = None
    t._out_index = 0
    t._vc = [0]
    t._retains_grad = False
    return t


class Tensor(InPlace):
    """A multi-dimensional array that can record the operations applied to it.

    >>> x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad            # dy/dx = 2x
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "grad", "requires_grad", "_node", "_out_index", "_vc",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, *args, dtype=None, requires_grad: bool = False):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` is an uninitialised (here: zero)
        tensor of that shape, ``Tensor([1, 2])`` a copy of the data; both of the default
        floating type unless ``dtype`` is given. (:func:`lamina.tensor` infers the dtype
        from the data instead, and is what new code should use.)"""
        if dtype is None:
            dtype = _dtypes.get_default_dtype()
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            array = np.empty((0,), dtype) if data is None else _infer_array(data, dtype)
        else:
            if len(args) == 1 and isinstance(args[0], Size):
                args = tuple(args[0])
            for n in args:
                if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
                    raise LaminaValueError(
                        f"Tensor(*sizes) expects non-negative integer sizes, got {args}")
            array = np.zeros(tuple(int(n) for n in args) if args else (0,), dtype)
        self._adopt(array, requires_grad)

    def _adopt(self, array, requires_grad: bool = False) -> None:
        """Become a fresh leaf holding ``array`` (for constructors, e.g. Parameter's)."""
        self._data = array
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._out_index = 0
        self._vc = [0]
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # What the engine stores as a leaf's first ``.grad``: a plain Tensor (a Parameter's
    # gradient is a Tensor, not a Parameter, as in PyTorch).
    _new_grad = staticmethod(_new_tensor)

    @classmethod
    def _wrap(cls, array) -> "Tensor":
        """Wrap an array without copying or dtype inference (the operations' fast path)."""
        t = object.__new__(cls)
        t._data = array if type(array) is _ndarray else _coerce(array)
        t.grad = None
        t.requires_grad = False
        t._node = None
        t._out_index = 0
        t._vc = [0]
        t._retains_grad = False
        return t

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen. A view (slicing,
        ``view``, ``transpose``, ``detach``, ...) shares its base's counter (the one-element
        list ``_vc``), so a change made through either is seen by every node that saved the
        other for backward, as in PyTorch."""
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        # Code that writes into a tensor's array bumps this; an observer (lamina.compile)
        # cannot replay such a change unless it happens inside a replayed call.
        if _observed.observer is not None:
            _observed.observer.refuse(f"a tensor of shape {self.shape} was changed in place "
                                      "outside an operation")
        self._vc[0] = value

    # ----------------------------------------------------------------- array facts
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a :class:`lamina.Size` (a tuple), or one extent with ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        try:
            return self._data.shape[dim]
        except (IndexError, TypeError):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-self._data.ndim}, {self._data.ndim - 1}], but got {dim})") from None

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

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def device(self):
        """The :class:`lamina.device` holding this tensor's array."""
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def get_device(self) -> int:
        """The CUDA index of the device, -1 on the CPU (as PyTorch)."""
        d = self.device
        return -1 if d.type == "cpu" else d.index

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        """Strides in elements (not bytes), as PyTorch counts them."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise LaminaTypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------- conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (shared, not copied). PyTorch refuses this on a tensor that
        requires grad; lamina returns the array (it is outside the graph either way). A tensor
        on a CUDA device is refused, as in PyTorch: ``.cpu()`` copies it to the host first."""
        if _observed.observer is not None:
            _refuse_read("numpy()")
        if type(self._data) is not _ndarray and get_array_module(self._data) is not np:
            self._refuse_host_view("numpy()")
        return self._data

    def _refuse_host_view(self, what: str) -> None:
        raise LaminaTypeError(f"{what}: can't convert {self.device} device type tensor to numpy. "
                              "Use Tensor.cpu() to copy the tensor to host memory first.")

    def __array__(self, dtype=None, copy=None):
        if _observed.observer is not None:
            _refuse_read("conversion to a NumPy array")
        if type(self._data) is not _ndarray and get_array_module(self._data) is not np:
            self._refuse_host_view("conversion to a NumPy array")
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise LaminaValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}")
        if _observed.observer is not None:
            _refuse_read("item()")
        return to_host(self._data).item()

    def tolist(self):
        if _observed.observer is not None:
            _refuse_read("tolist()")
        return to_host(self._data).tolist()

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element 0-d tensor's value, as PyTorch does."""
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

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
        if _observed.observer is not None:
            _refuse_read("bool(), e.g. an `if` on a tensor")
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
        t._vc = self._vc  # the same memory: one version counter, as in PyTorch
        return t

    def detach_(self) -> "Tensor":
        self._node = None
        self.requires_grad = False
        return self

    @_observers.replayed
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see :mod:`.engine`)."""
        if gradient is not None:
            gradient = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        _engine.run_backward(self, gradient, retain_graph)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    # ----------------------------------------------------------------- display
    def __repr__(self) -> str:
        suffixes = []
        if self._node is not None:
            suffixes.append(f"grad_fn=<{self._node.name}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        if type(self._data) is not _ndarray and self.device.type != "cpu":
            suffixes.insert(0, f"device='{self.device}'")
        return tensor_repr(to_host(self._data), suffixes)

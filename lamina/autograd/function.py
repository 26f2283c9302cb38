"""The operation contract: :class:`Function`, its context, and ``sum_to``.

An operation is a subclass of :class:`Function` with two static methods on raw arrays::

    class Exp(Function):
        '''y = e^x;  dy/dx = y.'''
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save(y)
            return y
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved
            return grad * y

``Function.apply`` runs ``forward`` and, when grad mode is on and some input requires a
gradient, records one graph node: the context object itself. The node keeps only what
backward needs (the saved arrays, the edges to the inputs' nodes, the inputs' shapes and
dtypes), never the input tensors, so intermediate activations that backward does not need
are freed as soon as the forward pass drops them.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..backend import get_array_module, unify_devices
from .grad_mode import _state
from .observers import _local as _observed

# Set by tensor.py when it is imported (tensor.py imports this module, so the reference
# cannot go the other way at import time without a per-call import on the hot path).
Tensor = None

_ndarray = np.ndarray
_new_object = object.__new__
_may_share_memory = np.may_share_memory

__all__ = ["Function", "Context", "sum_to", "AccumulateGrad", "NodeName"]


def sum_to(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``grad.shape``.

    If ``y = broadcast(x)`` then ``dL/dx_i = sum over the copies of x_i of dL/dy``: leading
    axes that broadcasting added are summed away, and axes where ``x`` had size 1 are summed
    with ``keepdims``. This is the one place in lamina where broadcasting is undone.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


class Context:
    """What ``forward`` leaves for ``backward``; once recorded it is also the graph node.

    Attributes used by operations:
      ``save(*arrays)`` / ``saved``: arrays backward needs.
      ``needs_input_grad``: one bool per input (None-free only when recording).
      any other attribute an operation sets (``ctx.dim = dim``) for its backward.
    Attributes used by the engine: ``fn``, ``parents`` (per input: the input's node and
    output index, the leaf tensor, or None), ``input_meta`` (shape, dtype per input),
    ``n_outputs``, ``out_meta``, ``retained`` and ``version_checks``.
    What PyTorch shows of a ``grad_fn`` is derived from these on demand, never while
    recording: ``name()`` (``'MulBackward0'``) and ``next_functions``.
    """

    needs_input_grad: tuple = ()
    saved: tuple | None = ()
    # Defaults of the engine's attributes (a recorded node overrides only what differs).
    retained = None
    version_checks = None
    n_outputs = 1
    out_meta = None

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for backward (prefer the output to the input where it suffices)."""
        self.saved = arrays

    @property
    def name(self) -> "NodeName":
        """PyTorch's name of this node, e.g. ``'MulBackward0'``; call it (``grad_fn.name()``)
        as in PyTorch or use it as the string it is."""
        fn = self.fn
        name = _node_names.get(fn)
        if name is None:
            name = _node_names[fn] = NodeName(_torch_node_name(fn))
        return name

    @property
    def next_functions(self) -> tuple:
        """Per tensor input, ``(node, output_index)`` as PyTorch gives it: the producing node,
        an :class:`AccumulateGrad` for a leaf that requires grad, ``(None, 0)`` otherwise."""
        return tuple([parent if type(parent) is tuple
                      else (None, 0) if parent is None
                      else (AccumulateGrad.of(parent), 0)
                      for parent in self.parents])

    def __repr__(self) -> str:
        return f"<{self.name} object at {id(self):#x}>"


class NodeName(str):
    """A node's name: a string for messages and labels, callable as PyTorch's ``name()``."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class AccumulateGrad:
    """The node PyTorch puts at a leaf that requires grad: backward adds into ``variable.grad``.

    lamina stores the leaf itself in its consumers' ``parents`` (the engine accumulates
    directly); this object is the view of that edge that ``next_functions`` shows. One object
    per leaf while it is referenced, as in PyTorch, so ``is`` comparisons hold.
    """

    _live: "weakref.WeakValueDictionary[int, AccumulateGrad]" = weakref.WeakValueDictionary()

    def __init__(self, variable) -> None:
        self.variable = variable

    @classmethod
    def of(cls, leaf) -> "AccumulateGrad":
        node = cls._live.get(id(leaf))
        if node is None or node.variable is not leaf:
            node = cls._live[id(leaf)] = cls(leaf)
        return node

    next_functions: tuple = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


# PyTorch's node names where lamina's operation class is called differently (the common
# cases; PyTorch sometimes picks among several nodes by the arguments, e.g. SumBackward1
# for a sum over dims, which one class here cannot tell apart).
_TORCH_NAMES = {
    "PowScalar": "PowBackward0", "Pow": "PowBackward1", "Clamp": "ClampBackward1",
    "Cast": "ToCopyBackward0", "ToDevice": "ToCopyBackward0", "Reshape": "ViewBackward0", "PadConstant": "ConstantPadNdBackward0",
    "LogSumExp": "LogsumexpBackward0", "Norm": "LinalgVectorNormBackward0",
    "CrossEntropy": "NllLossBackward0", "NLL": "NllLossBackward0",
    "BCE": "BinaryCrossEntropyBackward0", "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0",
    "MSE": "MseLossBackward0", "SmoothL1": "SmoothL1LossBackward0",
    "Huber": "HuberLossBackward0",
    "GetItem": "IndexBackward0", "EmbeddingLookup": "EmbeddingBackward0",
    "Conv2d": "ConvolutionBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0",
    "AdaptiveMaxPool2d": "AdaptiveMaxPool2DBackward0",
    "ReLU": "ReluBackward0", "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0",
    "GELU": "GeluBackward0", "SiLU": "SiluBackward0", "HardTanh": "HardtanhBackward0",
    "BatchNormTrain": "NativeBatchNormBackward0", "BatchNormEval": "NativeBatchNormBackward0",
    "LayerNorm": "NativeLayerNormBackward0", "MatMul": "MmBackward0", "Linear": "AddmmBackward0",
}
_node_names: dict = {}


def _torch_node_name(fn) -> str:
    """``<ClassName>Backward0``, or PyTorch's name for lamina's own operations listed above."""
    name = fn.__name__
    if fn.__module__.startswith("lamina.") and name in _TORCH_NAMES:
        return _TORCH_NAMES[name]
    return name + "Backward0"


def _share_version(result: Tensor, out, inputs, arrays) -> None:
    """A view (an output whose array is, or looks into, an input's array) shares that input's
    version counter, so an in-place change through either is seen by every node that saved
    the other (PyTorch's views do the same)."""
    may_share = _may_share_memory if type(out) is _ndarray else get_array_module(out).may_share_memory
    for t, a in zip(inputs, arrays):
        if out is a or (a.size and may_share(out, a)):
            result._vc = t._vc
            return


def _new_tensor(array) -> Tensor:
    """``Tensor._wrap`` without the call (the hot path of every operation)."""
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


def _version_checks(saved, inputs, results) -> list | None:
    """(counter, version, shape) of every input or output whose very array backward reads."""
    checks = None
    for s in saved:
        for t in inputs:
            if s is t._data:
                if checks is None:
                    checks = []
                checks.append((t._vc, t._vc[0], s.shape))
        for t in results:
            if s is t._data:
                if checks is None:
                    checks = []
                checks.append((t._vc, t._vc[0], s.shape))
    return checks


class Function:
    """Base class of all operations (see the module docstring for the contract).

    Each operation's nodes are of a class named as PyTorch names them (``type(y.grad_fn)``
    is ``MulBackward0``), made once when the operation class is defined."""

    _node_type = Context

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # ``fn`` is a class attribute of the node type: one store less per recorded node.
        cls._node_type = type(_torch_node_name(cls), (Context,),
                              {"__module__": __name__, "__doc__": f"A node of {cls.__name__}.",
                               "fn": cls})

    @staticmethod
    def forward(ctx: Context, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the operation on Tensors ``inputs``; ``params`` are non-tensor arguments.

        This runs once per operation of every step, so it is written out for one and two
        inputs (no comprehensions, no helper calls on the common path); the general case
        does the same for any number of inputs.
        """
        ctx = cls._node_type()
        n = len(inputs)
        if n == 1:
            t0 = inputs[0]
            arrays = (t0._data,)
            record = t0.requires_grad and _state.enabled
        elif n == 2:
            t0, t1 = inputs
            arrays = (t0._data, t1._data)
            if type(arrays[0]) is not type(arrays[1]):
                arrays = unify_devices(arrays, cls.__name__)
            record = (t0.requires_grad or t1.requires_grad) and _state.enabled
        elif n == 3:
            t0, t1, t2 = inputs
            arrays = (t0._data, t1._data, t2._data)
            if not type(arrays[0]) is type(arrays[1]) is type(arrays[2]):
                arrays = unify_devices(arrays, cls.__name__)
            record = (t0.requires_grad or t1.requires_grad or t2.requires_grad) and _state.enabled
        else:
            arrays = tuple([t._data for t in inputs])
            if n and len({type(a) for a in arrays}) > 1:
                arrays = unify_devices(arrays, cls.__name__)
            record = _state.enabled and any([t.requires_grad for t in inputs])
        if not record:
            out = cls.forward(ctx, *arrays, **params)
            if type(out) is tuple:
                results = tuple([_new_tensor(o) for o in out])
                for o, r in zip(out, results):
                    if o.base is not None or (n and o is arrays[0]):
                        _share_version(r, o, inputs, arrays)
            else:
                results = _new_tensor(out)
                if out.base is not None or (n and out is arrays[0]):
                    _share_version(results, out, inputs, arrays)
            if _observed.observer is not None:
                _observed.observer.record(cls, ctx, inputs, params, results)
            return results

        if n == 1:
            ctx.needs_input_grad = (True,)
            a0 = arrays[0]
            ctx.parents = ((t0._node, t0._out_index) if t0._node is not None else t0,)
            ctx.input_meta = ((a0.shape, a0.dtype),)
        elif n == 2:
            ctx.needs_input_grad = (t0.requires_grad, t1.requires_grad)
            a0, a1 = arrays
            ctx.parents = ((t0._node, t0._out_index) if t0._node is not None
                           else (t0 if t0.requires_grad else None),
                           (t1._node, t1._out_index) if t1._node is not None
                           else (t1 if t1.requires_grad else None))
            ctx.input_meta = ((a0.shape, a0.dtype), (a1.shape, a1.dtype))
        elif n == 3:
            ctx.needs_input_grad = (t0.requires_grad, t1.requires_grad, t2.requires_grad)
            a0, a1, a2 = arrays
            ctx.parents = ((t0._node, t0._out_index) if t0._node is not None
                           else (t0 if t0.requires_grad else None),
                           (t1._node, t1._out_index) if t1._node is not None
                           else (t1 if t1.requires_grad else None),
                           (t2._node, t2._out_index) if t2._node is not None
                           else (t2 if t2.requires_grad else None))
            ctx.input_meta = ((a0.shape, a0.dtype), (a1.shape, a1.dtype), (a2.shape, a2.dtype))
        else:
            ctx.needs_input_grad = tuple([t.requires_grad for t in inputs])
            ctx.parents = tuple([(t._node, t._out_index) if t._node is not None
                                 else (t if t.requires_grad else None) for t in inputs])
            ctx.input_meta = tuple([(a.shape, a.dtype) for a in arrays])
        out = cls.forward(ctx, *arrays, **params)
        if type(out) is not tuple:
            r = _new_tensor(out)
            r.requires_grad = True
            r._node = ctx
            if out.base is not None or (n and out is arrays[0]):
                _share_version(r, out, inputs, arrays)
            saved = ctx.saved
            if saved:
                # In-place detection: remember the version of every input or output whose
                # very array backward will read (a tensor that is gone cannot be modified).
                ctx.version_checks = _version_checks(saved, inputs, (r,))
            if _observed.observer is not None:
                _observed.observer.record(cls, ctx, inputs, params, r)
            return r
        results = []
        for i, o in enumerate(out):
            r = _new_tensor(o)
            r.requires_grad = True
            r._node = ctx
            r._out_index = i
            if o.base is not None or (n and o is arrays[0]):
                _share_version(r, o, inputs, arrays)
            results.append(r)
        ctx.n_outputs = len(out)
        ctx.out_meta = tuple([(o.shape, o.dtype) for o in out])
        if ctx.saved:
            ctx.version_checks = _version_checks(ctx.saved, inputs, results)
        results = tuple(results)
        if _observed.observer is not None:
            _observed.observer.record(cls, ctx, inputs, params, results)
        return results


def __getattr__(name: str):
    # PyTorch's ``torch.autograd.function`` also holds the user-facing pieces; they live in
    # custom_function.py (which imports this module, hence the lazy lookup).
    if name in ("FunctionCtx", "once_differentiable"):
        from . import custom_function

        return getattr(custom_function, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

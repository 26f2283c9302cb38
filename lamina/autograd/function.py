"""The operation contract: :class:`Function` and ``Function.apply``, which records the graph.

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

import numpy as np

from ..backend import get_array_module, unify_devices
from .context import AccumulateGrad, Context, NodeName, _torch_node_name
from .engine import sum_to
from .function_ctx import FunctionCtx, once_differentiable
from .grad_mode import _state
from .observers import _local as _observed
from .tensor import Tensor, _new_tensor

_ndarray = np.ndarray
_may_share_memory = np.may_share_memory

# Context, NodeName, AccumulateGrad and sum_to are defined below this module (context.py,
# engine.py) and named here too, where operations look for them; FunctionCtx and
# once_differentiable are here because PyTorch has them in ``torch.autograd.function``.
__all__ = ["Function", "Context", "sum_to", "AccumulateGrad", "NodeName", "FunctionCtx",
           "once_differentiable"]


def _share_version(result: Tensor, out, inputs, arrays) -> None:
    """A view (an output whose array is, or looks into, an input's array) shares that input's
    version counter, so an in-place change through either is seen by every node that saved
    the other (PyTorch's views do the same)."""
    may_share = _may_share_memory if type(out) is _ndarray else get_array_module(out).may_share_memory
    for t, a in zip(inputs, arrays):
        if out is a or (a.size and may_share(out, a)):
            result._vc = t._vc
            return


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

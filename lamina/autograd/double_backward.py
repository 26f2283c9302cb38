"""Differentiable backward passes: what ``create_graph=True`` needs, for the functional API.

lamina's engine runs every operation's ``backward`` on raw arrays with recording off, so the
gradients it returns are constants: they cannot be differentiated again, and
``lamina.autograd.grad(create_graph=True)`` refuses. Second derivatives (a Hessian, a
Hessian-vector product, a Jacobian-vector product by the double-vjp trick) need the backward
pass itself to be a computation on the graph. This module makes it one, for functions that
:mod:`lamina.autograd.functional` calls:

1. :class:`Trace`: while it is installed as the thread's observer, every ``Function.apply`` that
   records a graph node is written down with its input and output Tensors (a graph node
   keeps neither, only raw arrays).
2. :func:`vjp`: walks the trace from the outputs back, and at each operation y = f(x_1, ...)
   forms the vector-Jacobian product

       dL/dx_i = (df/dx_i)^T dL/dy

   with lamina operations on Tensors (the rules of :mod:`.second_order`), recorded like any other
   computation: the result has a graph, so it can be differentiated once more by the
   ordinary engine, or again by :func:`vjp` when the rules ran inside a trace.

Only the operations that have a rule can be differentiated twice (``supported()``); an
operation without one raises :class:`~lamina.errors.GraphError` naming it, as does a custom
``autograd.Function`` on the way (its backward is user code on Tensors with recording off).
"""
from __future__ import annotations

from ..errors import GraphError, InplaceError
from . import observers
from .engine import topological_order
from .grad_mode import enable_grad
from .second_order import rules, supported
from .tensor import Tensor

__all__ = ["Trace", "vjp"]


class _Op:
    """One recorded operation: its class, node (``ctx``), parameters, inputs and outputs,
    with the versions they had when it ran (a later in-place change makes them stale)."""

    __slots__ = ("fn", "ctx", "params", "inputs", "outputs", "versions")

    def __init__(self, fn, ctx, inputs, params, outputs) -> None:
        self.fn, self.ctx, self.params = fn, ctx, params
        self.inputs, self.outputs = tuple(inputs), outputs
        self.versions = [t._version for t in (*self.inputs, *outputs)]

    def _checked(self, t: Tensor, k: int) -> Tensor:
        if t._version != self.versions[k]:
            raise InplaceError(f"create_graph=True: a tensor of shape {tuple(t.shape)} needed by "
                               f"{self.ctx.name} was modified in place after it was used")
        return t

    def input(self, i: int) -> Tensor:
        return self._checked(self.inputs[i], i)

    def output(self, i: int = 0) -> Tensor:
        return self._checked(self.outputs[i], len(self.inputs) + i)

    def needs(self, i: int) -> bool:
        return self.ctx.parents[i] is not None


class Trace:
    """The operations recorded while this trace is installed (``with trace: ...``).

    Every call is also handed on to the observer that was installed when the trace was made
    (an enclosing trace, or :func:`lamina.compile`'s recorder), so traces nest (see
    :mod:`.observers`).
    """

    def __init__(self) -> None:
        self.ops: list[_Op] = []
        self.previous = observers.current()
        self._saved: list = []

    def record(self, fn, ctx, inputs, params, results) -> None:
        """Called by ``Function.apply`` for every operation while the trace is installed."""
        outputs = results if type(results) is tuple else (results,)
        if outputs and outputs[0]._node is ctx:  # a graph node was recorded
            self.ops.append(_Op(fn, ctx, inputs, params, outputs))
        if self.previous is not None:
            self.previous.record(fn, ctx, inputs, params, results)

    def refuse(self, reason: str) -> None:
        if self.previous is not None:
            self.previous.refuse(reason)

    def module(self, module) -> None:
        if self.previous is not None:
            self.previous.module(module)

    def constant(self, tensor) -> None:
        if self.previous is not None:
            self.previous.constant(tensor)

    def alias(self, tensor, result) -> None:
        if self.previous is not None:
            self.previous.alias(tensor, result)

    def call(self, fn, args, kwargs, result) -> None:
        if self.previous is not None:
            self.previous.call(fn, args, kwargs, result)

    def __enter__(self) -> "Trace":
        self._saved.append(observers._local.observer)
        observers._local.observer = self
        return self

    def __exit__(self, *exc) -> None:
        observers._local.observer = self._saved.pop()


def _key(t: Tensor) -> tuple:
    return ("node", id(t._node), t._out_index) if t._node is not None else ("leaf", id(t))


def _parent_key(parent) -> tuple:
    return ("node", id(parent[0]), parent[1]) if type(parent) is tuple else ("leaf", id(parent))


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """``g`` summed down to ``shape`` (undoing broadcasting) with recorded operations."""
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    return g.reshape(tuple(shape))


def _relevant(ops: list, wanted: set) -> set:
    """The ids of the nodes in ``ops`` through which an output depends on a wanted tensor.

    A node recorded outside the trace (a custom Function) that depends on one raises: its
    backward cannot be recorded, so the result would silently miss its contribution."""
    in_trace = {id(op.ctx) for op in ops}
    relevant: set = set()
    outside: dict = {}

    def depends(node) -> bool:
        if id(node) not in outside:
            outside[id(node)] = any(
                p is not None and (_parent_key(p) in wanted
                                   or (type(p) is tuple and id(p[0]) in relevant))
                for n in topological_order(node) for p in n.parents)
        return outside[id(node)]

    for op in ops:
        for parent in op.ctx.parents:
            if parent is None:
                continue
            if _parent_key(parent) in wanted or (type(parent) is tuple
                                                 and id(parent[0]) in relevant):
                relevant.add(id(op.ctx))
                break
            if type(parent) is tuple and id(parent[0]) not in in_trace and depends(parent[0]):
                raise GraphError(
                    f"create_graph=True: the gradient passes through {parent[0].name}, which was "
                    "not computed by lamina's operations (a custom autograd.Function?); its "
                    "backward cannot be differentiated again")
    return relevant


def vjp(trace: Trace, outputs, inputs, grad_outputs) -> list:
    """d(sum_k <grad_outputs[k], outputs[k]>)/d(inputs[i]) for every i, as Tensors computed
    by recorded operations (None where an input was not used), walking ``trace`` backwards.

    Every output must require grad and every input must be a tensor recorded in, or used by,
    the trace. Grad mode is on and the trace installed while the rules run, so the gradients
    can be differentiated again, by the engine or by another call of this function."""
    table = rules()
    ops = list(trace.ops)
    wanted = {_key(x): i for i, x in enumerate(inputs)}
    relevant = _relevant(ops, set(wanted))
    found: list = [None] * len(inputs)
    pending: dict = {}

    def add(key, g):
        pending[key] = g if key not in pending else pending[key] + g

    with enable_grad(), trace:
        for out, g in zip(outputs, grad_outputs):
            add(_key(out), g)
        for op in reversed(ops):
            ctx = op.ctx
            grads = [pending.pop(("node", id(ctx), i), None) for i in range(ctx.n_outputs)]
            for i, g in enumerate(grads):
                where = wanted.get(("node", id(ctx), i))
                if where is not None:
                    found[where] = g
            if id(ctx) not in relevant or all(g is None for g in grads):
                continue
            rule = table.get(op.fn)
            if rule is None:
                raise GraphError(
                    f"create_graph=True: lamina has no differentiable backward for {ctx.name} "
                    f"(operation {op.fn.__name__}); second derivatives are supported through "
                    f"{', '.join(supported())}")
            input_grads = rule(op, *grads)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, g, (shape, dtype) in zip(ctx.parents, input_grads, ctx.input_meta):
                if parent is None or g is None:
                    continue
                g = sum_to(g, shape)
                if g.dtype != dtype:
                    from ..ops._casting import cast

                    g = cast(g, dtype)
                add(_parent_key(parent), g)
    for key, i in wanted.items():
        if key[0] == "leaf":
            found[i] = pending.get(key)
    return found

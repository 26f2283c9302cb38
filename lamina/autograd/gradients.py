"""``lamina.autograd.grad`` and ``lamina.autograd.backward``: gradients of several outputs
with respect to chosen inputs, d(sum_k <g_k, y_k>)/dx, by one reverse sweep of the graph
(``grad`` returns them and leaves every ``.grad`` as it was; ``backward`` accumulates them)."""
from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from ..backend import get_array_module
from ..errors import GraphError, LaminaTypeError, LaminaValueError
from .engine import run_backward, topological_order
from .grad_mode import no_grad
from .tensor import Tensor

__all__ = ["grad", "backward"]

def _as_tensors(value, what: str) -> tuple:
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, Sequence) and not isinstance(value, str):
        for i, t in enumerate(value):
            if not isinstance(t, Tensor):
                raise LaminaTypeError(f"{what}[{i}] must be a Tensor, got {type(t).__name__}")
        return tuple(value)
    raise LaminaTypeError(f"{what} must be a Tensor or a sequence of Tensors, "
                          f"got {type(value).__name__}")


def _as_grads(grads, n: int, what: str) -> tuple:
    if grads is None:
        return (None,) * n
    if isinstance(grads, Tensor):
        grads = (grads,)
    grads = tuple(grads)
    if len(grads) != n:
        raise LaminaValueError(f"{what} has {len(grads)} entries, expected one per output ({n})")
    return grads


def _run_all(outputs: tuple, grads: tuple, retain_graph: bool) -> None:
    """Backward from every output in turn (the graph kept until the last one)."""
    for k, (out, g) in enumerate(zip(outputs, grads)):
        if not out.requires_grad:
            raise GraphError(f"element {k} of the differentiated outputs does not require grad "
                             "and has no grad_fn")
        run_backward(out, None if g is None else g._data if isinstance(g, Tensor) else np.asarray(g),
                     retain_graph if k == len(outputs) - 1 else True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to each input.

    Returns a tuple with one Tensor per input, computed by the same backward pass as
    ``backward()`` but without changing any ``.grad``. An input the outputs do not depend on
    raises unless ``allow_unused`` (then its entry is None, or zeros with
    ``materialize_grads``). ``create_graph`` is not supported: lamina's backward records no
    graph, so gradients cannot be differentiated again.

    >>> x = lm.tensor([1.0, 2.0], requires_grad=True)
    >>> lm.autograd.grad((x ** 3).sum(), x)       # 3 x^2
    (tensor([ 3., 12.]),)
    """
    if create_graph:
        raise GraphError("grad(create_graph=True) is not supported: lamina's backward records "
                         "no graph, so the gradients it returns cannot be differentiated again")
    if is_grads_batched:
        raise GraphError("grad(is_grads_batched=True) is not supported by lamina")
    outputs = _as_tensors(outputs, "outputs")
    inputs = _as_tensors(inputs, "inputs")
    grads = _as_grads(grad_outputs, len(outputs), "grad_outputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise GraphError(f"input {i} of grad() does not require grad")
    # Everything backward writes to: every leaf's .grad and the .grad of retained non-leaves.
    # Clear them, run backward, read the inputs' gradients, then put everything back.
    nodes = {}
    for out in outputs:
        if out._node is not None:
            for node in topological_order(out._node):
                nodes[id(node)] = node
    touched = {id(x): x for x in inputs}
    for node in nodes.values():
        for parent in node.parents:
            if parent is not None and type(parent) is not tuple:
                touched[id(parent)] = parent
        for ref in (node.retained or {}).values():
            t = ref()
            if t is not None:
                touched[id(t)] = t
    retained = {id(x._node): (x._node, x._node.retained) for x in inputs if x._node is not None}
    for x in inputs:  # a non-leaf input: have the engine hand over its gradient
        if x._node is not None:
            x._node.retained = dict(x._node.retained or {})
            x._node.retained[x._out_index] = weakref.ref(x)
    saved = {key: t.grad for key, t in touched.items()}
    for t in touched.values():
        t.grad = None
    try:
        _run_all(outputs, grads, create_graph if retain_graph is None else retain_graph)
        result = tuple([x.grad for x in inputs])
    finally:
        for key, t in touched.items():
            t.grad = saved[key]
        for node, entries in retained.values():
            node.retained = entries
    for i, (x, g) in enumerate(zip(inputs, result)):
        if g is None and not allow_unused:
            raise GraphError(f"the differentiated tensor at index {i} appears to not have been "
                             "used in the graph; pass allow_unused=True if that is intended")
    if materialize_grads:
        result = tuple([g if g is not None else Tensor._wrap(_zeros_like(x._data))
                        for x, g in zip(inputs, result)])
    return result


def _zeros_like(array):
    return get_array_module(array).zeros_like(array)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf), weighted by ``grad_tensors``, into the leaves' ``.grad``
    (``tensors[k].backward(grad_tensors[k])`` for every k, in one call). With ``inputs``,
    only those tensors' ``.grad`` is accumulated into."""
    if create_graph:
        raise GraphError("backward(create_graph=True) is not supported: lamina's backward "
                         "records no graph")
    if grad_tensors is None:
        grad_tensors = grad_variables
    tensors = _as_tensors(tensors, "tensors")
    grads = _as_grads(grad_tensors, len(tensors), "grad_tensors")
    keep = False if retain_graph is None else retain_graph
    if inputs is None:
        _run_all(tensors, grads, keep)
        return
    inputs = _as_tensors(inputs, "inputs")
    found = grad(tensors, inputs, grads, retain_graph=keep, allow_unused=True)
    with no_grad():
        for x, g in zip(inputs, found):
            if g is None:
                continue
            if x.grad is None:
                x.grad = g
            else:
                x.grad._data = x.grad._data + g._data

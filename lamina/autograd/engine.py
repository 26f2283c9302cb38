"""Reverse-mode automatic differentiation: the backward pass over the recorded graph.

For a scalar output ``L`` the chain rule on the acyclic graph reads

    dL/dx = sum over the operations f that consumed x of  (df/dx)^T dL/df,

so visiting the nodes in reverse topological order (each node after every node that
consumed its outputs) lets every node see its complete output gradient before it passes
gradients to its inputs. The walk is iterative (no recursion limit on deep chains) and
each node runs its ``backward`` exactly once, however often its output was reused.
"""
from __future__ import annotations

import numpy as np

from ..errors import GraphError, InplaceError, ShapeError
from .function import Context, sum_to
from .grad_mode import _state
from .tensor import Tensor

__all__ = ["run_backward", "topological_order", "propagate"]


def topological_order(root: Context) -> list:
    """The nodes reachable from ``root``, each after all nodes it depends on (inputs first)."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.parents:
            if type(parent) is tuple and parent[0] not in visited:
                stack.append((parent[0], False))
    return order


def _check_versions(node: Context) -> None:
    for counter, version, shape in node.version_checks:
        if counter[0] != version:
            raise InplaceError(
                f"a tensor needed by {node.name} (shape {shape}) was modified in place "
                f"after it was used (version {counter[0]}, expected {version}); "
                "clone it before changing it, or change it out of place")


def run_backward(root, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf), weighted by ``gradient``, into every reachable leaf's grad."""
    if not root.requires_grad:
        raise GraphError("backward() on a tensor that does not require grad and has no grad_fn")
    if gradient is None:
        if root._data.size != 1:
            raise GraphError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass gradient= of the same shape")
        seed = np.ones_like(root._data)
    else:
        seed = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if seed.shape != root.shape:
            raise ShapeError(f"gradient has shape {seed.shape}, expected the output's shape {root.shape}")
        seed = seed.astype(root.dtype, copy=False)

    if root._node is None:  # backward on a leaf: d(root)/d(root) = 1
        _store_leaf_grad(root, seed, set())
        return
    propagate(list(reversed(topological_order(root._node))), root._node, root._out_index, seed,
              retain_graph)


def _store_leaf_grad(leaf, g, handed: set) -> None:
    """Add ``g`` into ``leaf.grad``. A leaf's first gradient is stored without a copy unless
    that array (or the array it views) may also be stored elsewhere (ids in ``handed``)."""
    if leaf.grad is None:
        if id(g) in handed or g.base is not None:
            g = g.copy()
        handed.add(id(g))
        leaf.grad = Tensor._wrap(g)
    else:
        leaf.grad._data = leaf.grad._data + g


def propagate(order: list, root_node: Context, out_index: int, seed, retain_graph: bool) -> None:
    """Run every node's backward in ``order`` (reverse topological), starting from ``seed`` as
    the gradient of ``root_node``'s output ``out_index``; leaves accumulate into ``.grad``.

    This is the whole backward pass; :func:`run_backward` computes the order for a tensor, and a
    recorded :class:`~lamina.autograd.tape.Tape` reuses an order computed once. It runs once
    per training step, so it is written for speed: no per-node function calls but the
    operation's own backward.
    """
    handed = {id(seed)}  # arrays already stored somewhere: store copies of them elsewhere
    pending = {root_node: [None] * root_node.n_outputs}
    pending[root_node][out_index] = seed
    previous_mode = _state.enabled
    _state.enabled = False  # backward records no graph (no_grad without the context manager)
    try:
        for node in order:
            grads = pending.pop(node, None)
            if grads is None:
                continue
            if node.saved is None:
                raise GraphError(
                    f"backward through {node.name} a second time: its saved values were freed "
                    "after the first backward; pass retain_graph=True to the first call")
            if node.version_checks:
                _check_versions(node)
            if node.retained:
                for index, ref in node.retained.items():
                    t = ref()
                    if t is not None and grads[index] is not None:
                        _store_leaf_grad(t, grads[index], handed)
            if node.n_outputs > 1:
                grads = [g if g is not None else np.zeros(shape, dtype)
                         for g, (shape, dtype) in zip(grads, node.out_meta)]
            input_grads = node.fn.backward(node, *grads)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, g, (shape, dtype) in zip(node.parents, input_grads, node.input_meta):
                if parent is None or g is None:
                    continue
                if g.shape != shape:
                    g = sum_to(g, shape)
                if g.dtype != dtype:
                    g = g.astype(dtype)
                if type(parent) is tuple:
                    parent_node, index = parent
                    slots = pending.get(parent_node)
                    if slots is None:
                        slots = pending[parent_node] = [None] * parent_node.n_outputs
                    if slots[index] is None:
                        handed.add(id(g))
                        slots[index] = g
                    else:
                        slots[index] = slots[index] + g
                else:
                    _store_leaf_grad(parent, g, handed)
            if not retain_graph:
                node.saved = None
    finally:
        _state.enabled = previous_mode

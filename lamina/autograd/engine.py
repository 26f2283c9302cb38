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

from ..backend import get_array_module, on_device_of
from ..errors import GraphError, InplaceError, ShapeError
from .grad_mode import _state
from ..size import Size

# The engine sits below the tensor and the operations: it walks nodes (contexts) and tensors
# it is handed, and makes a leaf's ``.grad`` with that leaf's own ``_new_grad``.
__all__ = ["run_backward", "topological_order", "propagate", "sum_to"]

_ndarray = np.ndarray

# The ids of the memory blocks a caching allocator lends out (lamina.ops._workspace fills
# this in): an array viewing one of them is the only array using that memory, so, like an
# array that owns its memory, it can become a leaf's ``.grad`` without a copy.
pool_blocks: dict = {}


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


def _memory_key(g):
    """What identifies ``g``'s memory: its own id, its pool block's id, or None for a view of
    memory other arrays may use (such a gradient is copied before a leaf keeps it)."""
    base = g.base
    if base is None:
        return id(g)
    if id(base) in pool_blocks:
        return id(base)
    return None


def topological_order(root) -> list:
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


def _check_versions(node) -> None:
    for counter, version, shape in node.version_checks:
        if counter[0] != version:
            raise InplaceError(
                f"a tensor needed by {node.name} (shape {Size(shape)}) was modified in place "
                f"after it was used (version {counter[0]}, expected {version}); "
                "clone it before changing it, or change it out of place")


def run_backward(root, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf), weighted by ``gradient`` (an array of root's shape, or None
    for a one-element root), into every reachable leaf's grad."""
    if not root.requires_grad:
        raise GraphError("backward() on a tensor that does not require grad and has no grad_fn")
    if gradient is None:
        if root._data.size != 1:
            raise GraphError(
                f"backward() without a gradient needs a scalar output, got shape {root.shape}; "
                "pass gradient= of the same shape")
        seed = get_array_module(root._data).ones_like(root._data)
    else:
        seed = on_device_of(gradient, root._data)
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
    its memory may also be used elsewhere (a view, or memory keys in ``handed``).
    (``propagate`` does the same inline.)"""
    if leaf.grad is None:
        key = _memory_key(g)
        if key is None or key in handed:
            g = g.copy()
            key = id(g)
        handed.add(key)
        leaf.grad = leaf._new_grad(g)
    else:
        leaf.grad._data = leaf.grad._data + g


def propagate(order: list, root_node, out_index: int, seed, retain_graph: bool) -> None:
    """Run every node's backward in ``order`` (reverse topological), starting from ``seed`` as
    the gradient of ``root_node``'s output ``out_index``; leaves accumulate into ``.grad``.

    This is the whole backward pass; :func:`run_backward` computes the order for a tensor, and
    a recorded step (``lamina.compile``) reuses an order computed once. It runs once per
    training step, so it is written for speed: no per-node function calls but the operation's
    own backward, single-output nodes keep their pending gradient as the array itself (not a
    list of one), and a gradient that arrives a second time is added into the first one in
    place when that first one is a sum the engine made itself (never into an array it was
    handed: an operation's backward may return, and a leaf may keep, the array it got).
    """
    # memory already stored somewhere (see _memory_key): leaves keep copies of it instead
    handed = {id(seed), _memory_key(seed)}
    blocks = pool_blocks
    owned = set()        # ids of the sums made here, which nobody else has seen yet
    # pending[node]: the gradient of a single-output node, or a list, one per output
    pending = {}
    if root_node.n_outputs == 1:
        pending[root_node] = seed
    else:
        pending[root_node] = [None] * root_node.n_outputs
        pending[root_node][out_index] = seed
    pop = pending.pop
    previous_mode = _state.enabled
    _state.enabled = False  # backward records no graph (no_grad without the context manager)
    try:
        for node in order:
            grads = pop(node, None)
            if grads is None:
                continue
            if owned:  # handed on now: never written to again (and its id may be reused)
                for g in (grads if type(grads) is list else (grads,)):
                    owned.discard(id(g))
            if node.saved is None:
                raise GraphError(
                    f"backward through {node.name} a second time: its saved values were freed "
                    "after the first backward; pass retain_graph=True to the first call")
            if node.version_checks:
                _check_versions(node)
            multi = node.n_outputs > 1
            if node.retained:
                for index, ref in node.retained.items():
                    t = ref()
                    g = grads[index] if multi else grads
                    if t is not None and g is not None:
                        _store_leaf_grad(t, g, handed)
            if multi:
                xp = get_array_module(*[g for g in grads if g is not None])
                input_grads = node.fn.backward(node, *[
                    g if g is not None else xp.zeros(shape, dtype)
                    for g, (shape, dtype) in zip(grads, node.out_meta)])
            else:
                input_grads = node.fn.backward(node, grads)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, g, meta in zip(node.parents, input_grads, node.input_meta):
                if parent is None or g is None:
                    continue
                if g.shape != meta[0]:
                    g = sum_to(g, meta[0])
                if g.dtype != meta[1]:
                    g = g.astype(meta[1])
                if type(parent) is tuple:
                    parent_node, index = parent
                    if parent_node.n_outputs == 1:
                        current = pending.get(parent_node)
                        if current is None:
                            base = g.base
                            handed.add(id(g) if base is None or id(base) not in blocks
                                       else id(base))
                            pending[parent_node] = g
                        elif id(current) in owned and current.shape == g.shape:
                            current += g
                        else:
                            owned.discard(id(current))
                            current = pending[parent_node] = current + g
                            if type(current) is _ndarray:  # (0-d sums are NumPy scalars)
                                owned.add(id(current))
                        continue
                    slots = pending.get(parent_node)
                    if slots is None:
                        slots = pending[parent_node] = [None] * parent_node.n_outputs
                    current = slots[index]
                    if current is None:
                        base = g.base
                        handed.add(id(g) if base is None or id(base) not in blocks else id(base))
                        slots[index] = g
                    elif id(current) in owned and current.shape == g.shape:
                        current += g
                    else:
                        owned.discard(id(current))
                        current = slots[index] = current + g
                        if type(current) is _ndarray:
                            owned.add(id(current))
                elif parent.grad is None:
                    # a leaf's first gradient: stored without a copy unless its memory may
                    # also be used elsewhere (_memory_key, inline)
                    base = g.base
                    key = id(g) if base is None else id(base) if id(base) in blocks else None
                    if key is None or key in handed:
                        g = g.copy()
                        key = id(g)
                    handed.add(key)
                    parent.grad = parent._new_grad(g)
                else:
                    parent.grad._data = parent.grad._data + g
            if not retain_graph:
                node.saved = None
    finally:
        _state.enabled = previous_mode

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

from .grad_mode import _state

# Set by tensor.py when it is imported (tensor.py imports this module, so the reference
# cannot go the other way at import time without a per-call import on the hot path).
Tensor = None

__all__ = ["Function", "Context", "sum_to"]


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
    """

    needs_input_grad: tuple = ()
    saved: tuple | None = ()

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for backward (prefer the output to the input where it suffices)."""
        self.saved = arrays

    @property
    def name(self) -> str:
        return self.fn.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"


class Function:
    """Base class of all operations (see the module docstring for the contract)."""

    @staticmethod
    def forward(ctx: Context, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the operation on Tensors ``inputs``; ``params`` are non-tensor arguments."""
        ctx = Context()
        state = _state
        arrays = [t._data for t in inputs]
        if state.enabled:
            needs = tuple([t.requires_grad for t in inputs])
            record = True in needs
        else:
            record = False
        if not record:
            out = cls.forward(ctx, *arrays, **params)
            if type(out) is tuple:
                results = tuple([Tensor._wrap(o) for o in out])
            else:
                results = Tensor._wrap(out)
            if state.tape is not None:
                state.tape.record(cls, ctx, inputs, params, results)
            return results

        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *arrays, **params)
        ctx.fn = cls
        ctx.parents = tuple([(t._node, t._out_index) if t._node is not None
                             else (t if t.requires_grad else None) for t in inputs])
        ctx.input_meta = tuple([(a.shape, a.dtype) for a in arrays])
        ctx.retained = None
        multi = type(out) is tuple
        outs = out if multi else (out,)
        results = []
        for i, o in enumerate(outs):
            r = Tensor._wrap(o)
            r.requires_grad = True
            r._node = ctx
            r._out_index = i
            results.append(r)
        ctx.n_outputs = len(outs)
        if multi:
            ctx.out_meta = tuple([(o.shape, o.dtype) for o in outs])
        # In-place detection: remember the version of every input or output whose very
        # array backward will read (weakly: a tensor that is gone cannot be modified).
        checks = None
        saved = ctx.saved
        if saved:
            for s in saved:
                for t in (*inputs, *results):
                    if s is t._data:
                        if checks is None:
                            checks = []
                        checks.append((weakref.ref(t), t._version))
        ctx.version_checks = checks
        results = tuple(results) if multi else results[0]
        if state.tape is not None:
            state.tape.record(cls, ctx, inputs, params, results)
        return results

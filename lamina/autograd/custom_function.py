"""PyTorch's ``torch.autograd.Function``: custom operations written on Tensors.

lamina's own operations follow the raw-array contract of :mod:`.function`. Users write
custom operations the way PyTorch documents them, on Tensors::

    class MyExp(lm.autograd.Function):
        '''y = k e^x;  dy/dx = y.'''
        @staticmethod
        def forward(ctx, x, k):
            y = x.exp() * k
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            (y,) = ctx.saved_tensors
            return grad_out * y, None      # one gradient per forward input

    y = MyExp.apply(x, 2.0)

``apply`` runs ``forward`` with grad mode off and then records one graph node for all the
outputs, like an operation's: the context object, a :class:`FunctionCtx`. The engine runs
that node like any other: it calls :func:`_run_backward`, which hands the user's
``backward`` Tensors (grad mode off, so create_graph is not supported), checks what it
returns (count, types, shapes, naming the function and the input index) and gives the
engine arrays, which it reduces to each input's shape (``sum_to``) and dtype as usual.

PyTorch >= 2.0 style is supported too: ``forward(*args)`` without ``ctx`` plus
``setup_context(ctx, inputs, output)``.
"""
from __future__ import annotations

import functools
import inspect

from ..errors import GraphError, InplaceError, LaminaTypeError, LaminaValueError
from .function_ctx import FunctionCtx, _SavedOutput, once_differentiable
from .observers import refuse, unobserved
from .grad_mode import _state
from .tensor import Tensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

# The engine fills the gradient of an output that received none with zeros of the shape
# and dtype in ``out_meta``; this void dtype marks the outputs whose backward must get None
# instead (non-tensor outputs, and every output under set_materialize_grads(False)).
_NONE_META = ((), "V1")


def _run_backward(node: FunctionCtx, *grads):
    """What the engine calls for a custom node: the user's backward on Tensors, checked."""
    fn = node._function
    if node._none_grads:
        grads = [None if g.dtype.kind == "V" else g for g in grads]
    result = fn.backward(node, *[None if g is None else Tensor._wrap(g) for g in grads])
    if type(result) is not tuple:
        result = tuple(result) if isinstance(result, list) else (result,)
    n_args = node._n_args
    if len(result) != n_args:
        if len(result) < n_args or any(g is not None for g in result[n_args:]):
            raise GraphError(f"function {node.name} returned an incorrect number of gradients "
                             f"(expected {n_args}, got {len(result)})")
        result = result[:n_args]
    positions = node._tensor_positions
    if len(positions) != n_args:
        for i, g in enumerate(result):
            if g is not None and i not in positions:
                raise GraphError(
                    f"function {node.name} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Tensor")
    arrays = []
    for k, i in enumerate(positions):
        g = result[i]
        if g is None or node.parents[k] is None:
            arrays.append(None)
            continue
        if not isinstance(g, Tensor):
            raise LaminaTypeError(f"function {node.name} returned a {type(g).__name__} as the "
                                  f"gradient of input {i}; expected a Tensor or None")
        g = g._data
        shape = node.input_meta[k][0]
        if g.shape != shape and not _expandable(shape, g.shape):
            raise GraphError(f"function {node.name} returned an invalid gradient at index {i}: "
                             f"got shape {list(g.shape)} but expected a shape compatible with "
                             f"{list(shape)} (the input's shape, or one it broadcasts to)")
        arrays.append(g)
    return tuple(arrays)


def _expandable(shape: tuple, target: tuple) -> bool:
    """True if ``shape`` broadcasts to ``target`` (so ``sum_to`` undoes it)."""
    if len(shape) > len(target):
        return False
    return all(n == 1 or n == m for n, m in zip(reversed(shape), reversed(target)))


class _Engine:
    """``node.fn`` of every custom node: the engine calls ``node.fn.backward(node, *grads)``."""

    backward = staticmethod(_run_backward)
    __name__ = "Function"


_ENGINE = _Engine()


class Function:
    """Base class of custom operations with PyTorch's contract (see the module docstring).

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` on
    Tensors (or ``forward(*args)`` with ``setup_context(ctx, inputs, output)``) and are
    called through ``apply``; backward returns one gradient (Tensor or None) per forward
    argument, None for the non-tensor ones.
    """

    _uses_setup_context = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        setup = cls.__dict__.get("setup_context")
        if setup is not None:
            cls._uses_setup_context = getattr(setup, "__func__", setup) is not _base_setup_context
        if "vjp" in cls.__dict__ and "backward" not in cls.__dict__:
            cls.backward = cls.__dict__["vjp"]  # PyTorch's alias

    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs from the inputs (Tensors and other values)."""
        raise LaminaTypeError("a custom autograd.Function must define a static forward method")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output) -> None:
        """Save what backward needs, given the inputs and outputs of ``forward(*args)``."""
        raise LaminaTypeError("setup_context is only called when a Function defines it")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        """One gradient per forward argument, from the gradients of the outputs."""
        raise LaminaTypeError("a custom autograd.Function must define a static backward "
                              "method to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record the node that runs ``backward``."""
        if cls._uses_setup_context:
            bound = _signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        state = _state
        ctx = FunctionCtx()
        ctx._function = cls
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        ctx.needs_input_grad = needs
        record = state.enabled and True in needs
        refuse(f"a custom autograd.Function ({cls.__name__}) ran: its Python forward is not "
               "made of operations a replay can repeat")
        previous = state.enabled
        state.enabled = False
        try:
            with unobserved():  # its operations are its own business, not the observer's
                if cls._uses_setup_context:
                    out = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, out)
                else:
                    out = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = previous
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        if not multi and not isinstance(out, Tensor):
            raise LaminaTypeError(f"{cls.__name__}.forward must return a Tensor or a tuple, "
                                  f"got {type(out).__name__}")
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        if not record:  # an input returned as it is comes back as a new tensor, as in PyTorch
            results = [_alias(o) if isinstance(o, Tensor) and id(o) in inputs else o for o in outs]
            return tuple(results) if multi else results[0]
        return _record(cls, ctx, args, outs, multi, inputs)


_base_setup_context = Function.__dict__["setup_context"].__func__


def _alias(t: Tensor) -> Tensor:
    alias = Tensor._wrap(t._data)
    alias._vc = t._vc  # the same memory, the same version counter
    return alias


@functools.lru_cache(maxsize=None)
def _signature(forward) -> inspect.Signature:
    return inspect.signature(forward)


def _record(cls, ctx: FunctionCtx, args: tuple, outs: tuple, multi: bool, inputs: set):
    """Make ``ctx`` the node of ``outs``: edges to the tensor inputs, outputs attached."""
    positions = tuple([i for i, a in enumerate(args) if isinstance(a, Tensor)])
    tensors = [args[i] for i in positions]
    ctx.fn = _ENGINE
    ctx._n_args = len(args)
    ctx._tensor_positions = positions
    ctx.parents = tuple([(t._node, t._out_index) if t._node is not None
                         else (t if t.requires_grad else None) for t in tensors])
    ctx.input_meta = tuple([(t._data.shape, t._data.dtype) for t in tensors])
    ctx.retained = None
    dirty = {id(t) for t in ctx._dirty}
    returned = {id(o) for o in outs}
    if not dirty <= returned:
        raise LaminaValueError(f"{cls.__name__}: tensors marked dirty in forward were not returned; "
                               "the inputs modified in place must all be outputs of the Function")
    for t in ctx._dirty:
        if t._node is None and t.requires_grad:
            raise InplaceError(f"{cls.__name__}: a leaf tensor that requires grad was modified in "
                               "place (mark_dirty); clone it first")
    non_diff = {id(t) for t in ctx._non_differentiable}
    results, seen, out_of = [], set(), {}
    none_grads = not ctx._materialize_grads
    out_meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            results.append(o)
            out_meta.append(_NONE_META)
            none_grads = True
            continue
        if id(o) in dirty and id(o) not in seen:
            r = o                     # modified in place: the input itself now comes from here
        elif id(o) in inputs or id(o) in seen or o._node is not None or o.requires_grad:
            r = _alias(o)             # returned unchanged: a new tensor on the same array
        else:
            r = o                     # made by forward (with grad mode off): attach it
        seen.add(id(o))
        if id(o) not in non_diff and r._data.dtype.kind in "fc":
            r.requires_grad = True
            r._node = ctx
            r._out_index = i
            if r is o:
                out_of.setdefault(id(o), i)
        results.append(r)
        out_meta.append((r._data.shape, r._data.dtype) if ctx._materialize_grads else _NONE_META)
    ctx.n_outputs = len(outs)
    ctx.out_meta = tuple(out_meta)
    ctx._none_grads = none_grads and len(outs) > 1
    _store_saved(ctx, out_of, results)
    return tuple(results) if multi else results[0]


def _store_saved(ctx: FunctionCtx, out_of: dict, results: list) -> None:
    """Keep the saved tensors (outputs as arrays, see _SavedOutput) and their versions."""
    to_save = ctx._to_save
    ctx._to_save = None
    if to_save is None:
        ctx.version_checks = None
        return
    saved, checks = [], []
    for t in to_save:
        if t is None:
            saved.append(None)
            continue
        index = out_of.get(id(t))
        if index is not None:
            saved.append(_SavedOutput(t._data, index))
            t = results[index]
        else:
            saved.append(t)
        checks.append((t._vc, t._vc[0], t.shape))
    ctx.saved = tuple(saved)
    ctx.version_checks = checks or None

"""Argument plumbing of :mod:`.functional` (torch.autograd.functional's conventions): a
Tensor or a tuple of Tensors in, the same structure out; ``v`` checked against the shapes it
multiplies; gradients of inputs that do not affect the output filled with zeros, or refused
in strict mode."""
from __future__ import annotations

from ..backend import get_array_module
from ..errors import GraphError, LaminaTypeError
from .double_backward import Trace, vjp as _traced_vjp
from .gradients import grad
from .tensor import Tensor

__all__ = ["_tupled", "_prepare", "_finish", "_unpack", "_check_v", "_v_or_none", "_require", "_grad", "_fill"]

_STRICT = " This is not allowed in strict mode."


def _tupled(value, what: str, fn: str) -> tuple[bool, tuple]:
    """(whether ``value`` was a tuple, ``value`` as a tuple of Tensors)."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise LaminaTypeError(f"The {what} given to {fn} must be either a Tensor or a tuple "
                                  f"of Tensors but {where} has type {type(t)}.")
    return is_tuple, items


def _prepare(tensors: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensor objects for ``func``: differentiable views of the caller's tensors when the
    results must lead back to them (``create_graph``), detached leaves otherwise."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in tensors)


def _finish(nested, create_graph: bool):
    """Results without history unless the caller asked for a graph."""
    if isinstance(nested, Tensor):
        return nested if create_graph else nested.detach()
    return tuple(_finish(t, create_graph) for t in nested)


def _unpack(result, was_tuple):
    """Undo the tupling of the arguments: ``was_tuple`` is one flag, or (outputs, inputs)."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _check_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        raise GraphError(f"v is a tuple of invalid length: should be {len(other)} but got "
                         f"{len(v)}." if other_is_tuple else "The given v should contain a single "
                         "Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            where = f"Entry {i} in v" if other_is_tuple else "v"
            raise GraphError(f"{where} has invalid size: should be {b.shape} but got {a.shape}.")


def _v_or_none(v, refs: tuple, refs_are_tuple: bool, fn: str, create_graph: bool,
               what: str) -> tuple:
    """``v`` checked against ``refs``; None is allowed for a single one-element ``refs``."""
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise GraphError(f"The vector v can only be None if {what} is a single Tensor with a "
                             "single element.")
        return (Tensor._wrap(get_array_module(refs[0]._data).ones_like(refs[0]._data)),)
    _, v = _tupled(v, "v", fn)
    v = _prepare(v, create_graph, need_graph=False)
    _check_v(v, refs, refs_are_tuple)
    return v


def _require(tensors: tuple, kind: str, strict: bool) -> None:
    """strict mode: every tensor must exist and require grad (``kind`` says which stage)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise GraphError(f"The output of the user-provided function is independent of "
                             f"input {i}." + _STRICT)
        if t.requires_grad:
            continue
        if kind == "outputs":
            raise GraphError(f"Output {i} of the user-provided function does not require "
                             "gradients. The outputs must be computed in a differentiable manner "
                             "from the input when running in strict mode.")
        if kind == "grad_inputs":
            raise GraphError(f"The gradient with respect to input {i} is independent of the "
                             "inputs of the user-provided function." + _STRICT)
        raise GraphError(f"While computing the hessian, found that the {kind} of the "
                         f"user-provided function with respect to input {i} is independent of "
                         f"the input.{_STRICT} The function must be "
                         f"{'twice' if kind == 'jacobian' else 'thrice'} differentiable with a "
                         f"{kind} that depends on the inputs (a linear function, for example, "
                         "is not).")


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
          trace: Trace | None) -> tuple:
    """sum_k <grad_outputs[k], d outputs[k] / d inputs[i]> per input (None where unused);
    outputs that are None or do not require grad contribute nothing."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, seeds = zip(*pairs)
    if create_graph:
        seeds = [g if g is not None else Tensor._wrap(get_array_module(o._data).ones_like(o._data))
                 for o, g in zip(outs, seeds)]
        return tuple(_traced_vjp(trace, outs, inputs, seeds))

    return grad(outs, inputs, seeds, retain_graph=True, allow_unused=True)


def _fill(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Missing gradients as zeros shaped like ``refs`` (strict mode raises instead)."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise GraphError({
                    "back": f"The output of the user-provided function is independent of "
                            f"input {i}.",
                    "back_trick": f"The gradient with respect to the input is independent of entry "
                                  f"{i} in the grad_outputs when using the double backward trick "
                                  "to compute forward mode gradients.",
                    "double_back": f"The jacobian of the user-provided function is independent of "
                                   f"input {i}.",
                    "double_back_trick": f"The hessian of the user-provided function is "
                                         f"independent of entry {i} in the grad_jacobian, which "
                                         "the double backward trick needs."}[stage] + _STRICT)
            g = Tensor._wrap(get_array_module(ref._data).zeros_like(ref._data))
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if stage.startswith("double") else "jacobian"
            raise GraphError(f"The {what} of the user-provided function is independent of input "
                             f"{i}. This is not allowed in strict mode when create_graph=True.")
        result.append(g)
    return tuple(result)

"""Derivatives of whole functions: PyTorch's ``torch.autograd.functional``.

For f: (x_1, ..., x_n) -> (y_1, ..., y_m) these give, at a point,

    jacobian:  J[i][j] = dy_i/dx_j, of shape y_i.shape + x_j.shape,
    vjp:       v^T J   (one reverse pass),        jvp:  J v   (two reverse passes),
    hessian:   H[i][j] = d^2 f / dx_i dx_j for a scalar f, of shape x_i.shape + x_j.shape,
    vhp:       v^T H,                             hvp:  H v,

with PyTorch's signatures and return structures: a Tensor argument gives Tensors back, a
tuple gives (nested) tuples, ``strict=True`` raises where an output does not depend on an
input (otherwise that block is zeros), and ``create_graph=True`` returns results that can be
differentiated again. Everything is reverse mode through lamina's autograd: a Jacobian is
built row by row, row k being the vector-Jacobian product with the k-th unit vector.

Second derivatives (``hessian``, ``vhp``, ``hvp``, ``jvp``'s double-vjp trick, and any
``create_graph=True``) differentiate a backward pass. lamina's engine computes gradients as
constants, so these functions record the call of ``func`` and differentiate it with the
recorded backward rules of :mod:`lamina.autograd.double_backward`; an operation without such
a rule raises :class:`~lamina.errors.GraphError` naming it.

Lecture: Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks, "Training DNNs": the
least-squares loss of a network is "not jointly convex in set of all weights ... due to
composition and coupling among each layer"; the Hessian of a two-layer linear network's loss
has eigenvalues of both signs (``lamina lab block-coordinate-descent``).

>>> import lamina as lm
>>> from lamina.autograd.functional import hessian
>>> hessian(lambda x: (x ** 3).sum(), lm.tensor([1.0, 2.0]))       # diag(6 x)
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""
from __future__ import annotations

import contextlib
from typing import Callable

from ..backend import get_array_module
from ..errors import GraphError, LaminaValueError
from .double_backward import Trace
from .functional_arguments import (_STRICT, _fill, _finish, _grad, _prepare, _require, _tupled,
                                   _unpack, _v_or_none)
from .grad_mode import enable_grad
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _trace(needed: bool):
    return Trace() if needed else contextlib.nullcontext()


def _check_strategy(strategy, fn: str, name: str) -> None:
    if strategy == "reverse-mode":
        return
    if strategy == "forward-mode":
        raise LaminaValueError(
            f"{fn}: {name}='forward-mode' is not supported: lamina differentiates in reverse "
            f"mode only; use {name}='reverse-mode' (the default), which gives the same values")
    raise LaminaValueError(f"{fn}: {name} must be 'forward-mode' or 'reverse-mode', got "
                           f"{strategy!r}; lamina supports 'reverse-mode'")


def _stack_rows(rows: list, out_shape: tuple, in_shape: tuple, create_graph: bool,
                like: Tensor) -> Tensor:
    shape = tuple(out_shape) + tuple(in_shape)
    xp = get_array_module(like._data)
    if not rows:
        return Tensor._wrap(xp.zeros(shape, like._data.dtype))
    if create_graph:
        from ..ops.join import stack

        return stack(rows).reshape(shape)
    return Tensor._wrap(xp.stack([r._data for r in rows]).reshape(shape))


# --------------------------------------------------------------------------- the API
def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``, shaped like the
    inputs (J = d func / d inputs; v shaped like the outputs, optional for a one-element
    output).

    >>> vjp(lambda x: x ** 2, lm.tensor([1., 2.]), lm.tensor([1., 1.]))[1]   # 2 x
    tensor([2., 4.])
    """
    with enable_grad(), _trace(create_graph) as trace:
        inputs_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        outputs_tuple, outputs = _tupled(outputs, "outputs of the user-provided function", "vjp")
        _require(outputs, "outputs", strict)
        v = _v_or_none(v, outputs, outputs_tuple, "vjp", create_graph,
                       "the user-provided function returns")
        grads = _fill(_grad(outputs, inputs, v, create_graph, trace), inputs, strict,
                      create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(grads, create_graph), inputs_tuple))


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), J v)``: the Jacobian-vector product, shaped like the outputs (v shaped
    like the inputs, optional for a one-element input).

    Computed, as PyTorch does, by the double-vjp trick: u -> J^T u is linear in u, and the
    gradient of <v, J^T u> with respect to u is J v (two reverse passes, the first one
    recorded).
    """
    with enable_grad(), Trace() as trace:
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_none(v, inputs, inputs_tuple, "jvp", create_graph,
                       "the input to the user-provided function")
        outputs = func(*inputs)
        outputs_tuple, outputs = _tupled(outputs, "outputs of the user-provided function", "jvp")
        _require(outputs, "outputs", strict)
        # The value of u does not matter (J^T u is linear in u); zeros keep NaN and inf out.
        u = tuple(Tensor._wrap(get_array_module(o._data).zeros_like(o._data)).requires_grad_()
                  for o in outputs)
        grad_inputs = _grad(outputs, inputs, u, True, trace)
        _require(grad_inputs, "grad_inputs", strict)
        grads = _fill(_grad(grad_inputs, u, v, create_graph, trace), outputs, strict,
                      create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(grads, create_graph), outputs_tuple))


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for a Tensor output and a Tensor input a Tensor
    of shape ``output.shape + input.shape``; ``J[i][j]`` for tuples of outputs and inputs (a
    tuple per output when only one side is a tuple, as in PyTorch).

    Row k is the vector-Jacobian product with the k-th unit vector of the output, one reverse
    pass each. ``vectorize=True`` (PyTorch batches those passes with vmap) gives the same
    result, computed row by row too. ``strategy`` must be ``'reverse-mode'``: lamina has no
    forward-mode differentiation. ``create_graph=True`` records the passes, so the Jacobian
    can be differentiated again (that is how :func:`hessian` works).

    >>> jacobian(lambda x: x.exp(), lm.tensor([0., 1.]))         # diag(e^x)
    tensor([[1.0000, 0.0000],
            [0.0000, 2.7183]])
    """
    _check_strategy(strategy, "jacobian", "strategy")
    with enable_grad(), _trace(create_graph) as trace:
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        outputs_tuple, outputs = _tupled(outputs, "outputs of the user-provided function",
                                         "jacobian")
        _require(outputs, "outputs", strict)
        if vectorize and strict:
            raise GraphError("jacobian: strict=True and vectorize=True are not supported "
                             "together; set strict=False or vectorize=False")
        result = tuple(_jacobian_rows(i, out, inputs, create_graph, strict, trace)
                       for i, out in enumerate(outputs))
    return _unpack(_finish(result, create_graph), (outputs_tuple, inputs_tuple))


def _jacobian_rows(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool,
                   trace) -> tuple:
    """d out / d inputs[k] for every k, one vector-Jacobian product per entry of ``out``."""
    xp = get_array_module(out._data)
    rows: list = [[] for _ in inputs]
    n = out.numel()
    for j in range(n):
        basis = xp.zeros(n, dtype=out._data.dtype)
        basis[j] = 1
        grads = _grad((out,), inputs, (Tensor._wrap(basis.reshape(out.shape)),), create_graph,
                      trace)
        for k, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise GraphError(f"Output {i} of the user-provided function is independent "
                                     f"of input {k}." + _STRICT)
                g = Tensor._wrap(xp.zeros_like(x._data))
            elif strict and create_graph and not g.requires_grad:
                raise GraphError(f"The jacobian of the user-provided function is independent of "
                                 f"input {k}. This is not allowed in strict mode when "
                                 "create_graph=True.")
            rows[k].append(g)
    return tuple(_stack_rows(rows[k], out.shape, x.shape, create_graph, x)
                 for k, x in enumerate(inputs))


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``: a Tensor of shape
    ``input.shape + input.shape`` for a Tensor input, ``H[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape`` for a tuple.

    The Jacobian of the gradient: the gradient is computed with ``create_graph=True`` (a
    recorded backward pass) and differentiated once more, row by row (also for
    ``vectorize=True``). ``outer_jacobian_strategy`` must be ``'reverse-mode'``.

    The loss (1 - w_2 w_1)^2 of the two-layer linear network x -> w_2 w_1 x fitting (1, 1) is
    not convex: at w = 0 its Hessian has the eigenvalues -2 and 2.

    >>> hessian(lambda w: (1 - w[0] * w[1]) ** 2, lm.zeros(2))
    tensor([[ 0., -2.],
            [-2.,  0.]])
    """
    _check_strategy(outer_jacobian_strategy, "hessian", "outer_jacobian_strategy")
    inputs_tuple, inputs = _tupled(inputs, "inputs", "hessian")

    def scalar(*xs):
        out = func(*xs)
        out_tuple, outs = _tupled(out, "outputs of the user-provided function", "hessian")
        _require(outs, "outputs", strict)
        if out_tuple:
            raise GraphError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise GraphError("The Tensor returned by the function given to hessian should "
                             f"contain a single element, got shape {tuple(out.shape)}")
        return out.reshape(())

    def gradient(*xs):
        jac = jacobian(scalar, xs, create_graph=True)
        _require(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize)
    return _unpack(result, (inputs_tuple, inputs_tuple))


def _scalar_output(func, inputs, fn: str, strict: bool) -> tuple:
    outputs = func(*inputs)
    outputs_tuple, outputs = _tupled(outputs, "outputs of the user-provided function", fn)
    _require(outputs, "outputs", strict)
    if outputs_tuple:
        raise GraphError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise GraphError(f"The Tensor returned by the function given to {fn} should contain a "
                         f"single element, got shape {tuple(outputs[0].shape)}")
    return outputs


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T H)`` for a scalar ``func``: the gradient (recorded) and the
    vector-Jacobian product of that gradient with v; shaped like the inputs."""
    with enable_grad(), Trace() as trace:
        inputs_tuple, inputs = _tupled(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_none(v, inputs, inputs_tuple, "vhp", create_graph,
                       "the input to the user-provided function")
        outputs = _scalar_output(func, inputs, "vhp", strict)
        jac = _grad(outputs, inputs, (None,), True, trace)
        _require(jac, "jacobian", strict)
        grads = _fill(_grad(jac, inputs, v, create_graph, trace), inputs, strict, create_graph,
                      "double_back")
    return _finish(outputs, create_graph)[0], _unpack(_finish(grads, create_graph), inputs_tuple)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), H v)`` for a scalar ``func``, shaped like the inputs.

    As in PyTorch, by the double backward trick: with the gradient g(x) recorded, u -> J_g^T u
    = H^T u is linear in u, and the gradient of <v, H^T u> with respect to u is H v (for a
    twice continuously differentiable f, H is symmetric and this equals :func:`vhp`)."""
    with enable_grad(), Trace() as trace:
        inputs_tuple, inputs = _tupled(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_none(v, inputs, inputs_tuple, "hvp", create_graph,
                       "the input to the user-provided function")
        outputs = _scalar_output(func, inputs, "hvp", strict)
        jac = _grad(outputs, inputs, (None,), True, trace)
        _require(jac, "jacobian", strict)
        u = tuple(Tensor._wrap(get_array_module(x._data).zeros_like(x._data)).requires_grad_()
                  for x in inputs)
        double_back = _grad(jac, inputs, u, True, trace)
        _require(jac, "hessian", strict)
        grads = _fill(_grad(double_back, u, v, create_graph, trace), inputs, strict,
                      create_graph, "double_back_trick")
    return _finish(outputs, create_graph)[0], _unpack(_finish(grads, create_graph), inputs_tuple)

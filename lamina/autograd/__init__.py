"""Reverse-mode automatic differentiation: Tensor, Function, grad mode, gradcheck, graphs."""
from .function import Context, Function, sum_to
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .graph import to_dot
from .tensor import Tensor

__all__ = ["Tensor", "Function", "Context", "sum_to", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "gradcheck", "to_dot", "grad"]


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False):
    """d(outputs)/d(inputs) returned as a tuple, without touching the inputs' ``.grad``."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    saved = [x.grad for x in inputs]
    for x in inputs:
        x.grad = None
    try:
        outputs.backward(grad_outputs, retain_graph=retain_graph)
        return tuple(x.grad for x in inputs)
    finally:
        for x, g in zip(inputs, saved):
            x.grad = g

"""Reverse-mode automatic differentiation: Tensor, Function, grad mode, gradcheck, graphs,
and :mod:`.functional` (jacobian, hessian, vjp, jvp, vhp, hvp of whole functions).

``lamina.autograd.Function`` is PyTorch's user-facing custom Function (forward and backward
on Tensors, :mod:`.custom_function`); lamina's own operations subclass the raw-array base
:class:`lamina.autograd.function.Function` instead (the operation contract).
"""
from __future__ import annotations

from .custom_function import Function, FunctionCtx, once_differentiable
from .context import AccumulateGrad, Context
from .engine import sum_to
from .gradients import backward, grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .graph import to_dot
from .tensor import Tensor
from . import functional  # noqa: E402  (jacobian, hessian, ...: torch.autograd.functional)

__all__ = ["Tensor", "Function", "FunctionCtx", "once_differentiable", "Context",
           "AccumulateGrad", "sum_to", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "gradcheck", "to_dot", "grad", "backward", "functional"]

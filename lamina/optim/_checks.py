"""Checks shared by the newer optimisers: Adam-style ``betas`` and PyTorch's implementation
switches ``foreach``, ``capturable`` and ``differentiable``.

torch.optim's newer optimisers take three flags that choose *how* the update is computed,
not what it is:

* ``foreach`` picks PyTorch's batched multi-tensor kernels over a per-tensor loop. Both
  compute the same update (up to floating-point rounding), so lamina accepts any value
  (None, True, False), keeps it in the parameter group, and ignores it.
* ``capturable=True`` keeps the step counters on the accelerator so that the step can be
  captured in a CUDA graph; PyTorch refuses it for CPU tensors (an AssertionError at the
  first step). lamina computes on the CPU, so it refuses ``True`` at construction.
* ``differentiable=True`` records the update itself in the autograd graph (to
  differentiate through training steps); lamina's optimisers update arrays in place outside
  the graph, so ``True`` is refused rather than silently giving a non-differentiable step.
"""
from __future__ import annotations

from typing import Any

from ..errors import LaminaTypeError, LaminaValueError
from .optimizer import check_hyperparameter

__all__ = ["check_betas", "check_implementation_flags"]


def check_implementation_flags(group: dict[str, Any]) -> None:
    """Raise unless ``group``'s foreach/capturable/differentiable are ones lamina honours."""
    foreach = group.get("foreach")
    if foreach is not None and not isinstance(foreach, bool):
        raise LaminaTypeError(f"foreach must be None, True or False, got {foreach!r}")
    for name in ("capturable", "differentiable"):
        value = group.get(name, False)
        if not isinstance(value, bool):
            raise LaminaTypeError(f"{name} must be True or False, got {value!r}")
    if group.get("capturable", False):
        raise LaminaValueError(
            "capturable=True needs parameters on a CUDA device (for graph capture); lamina "
            "computes on the CPU, where the option has no effect to give: use capturable=False")
    if group.get("differentiable", False):
        raise LaminaValueError(
            "differentiable=True (autograd through the optimizer step) is not supported: "
            "lamina's optimizers update parameters in place outside the graph; use "
            "differentiable=False")


def check_betas(betas) -> None:
    """Raise unless ``betas`` is a pair (beta_1, beta_2) of numbers in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise LaminaTypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_hyperparameter("beta1 (betas[0])", betas[0], 0.0, 1.0)
    check_hyperparameter("beta2 (betas[1])", betas[1], 0.0, 1.0)


def check_adam_family(group: dict[str, Any]) -> None:
    """The checks every Adam-style group shares: betas in [0, 1), eps and weight_decay >= 0,
    and the implementation flags."""
    check_betas(group["betas"])
    check_hyperparameter("eps", group["eps"])
    check_hyperparameter("weight_decay", group["weight_decay"])
    check_implementation_flags(group)

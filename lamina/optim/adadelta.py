"""Adadelta: step sizes from the ratio of two running RMS averages (Zeiler, 2012)."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from ._checks import check_implementation_flags
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, PyTorch's ``torch.optim.Adadelta``.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ..., o the coordinate-wise
    product and square roots taken coordinate-wise:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                          (if weight_decay != 0)
        v^{(k)} = rho v^{(k-1)} + (1 - rho) g^{(k)} o g^{(k)},        v^{(0)} = 0
        Delta^{(k)} = sqrt(u^{(k-1)} + eps) / sqrt(v^{(k)} + eps) o g^{(k)}
        u^{(k)} = rho u^{(k-1)} + (1 - rho) Delta^{(k)} o Delta^{(k)},  u^{(0)} = 0
        w^{(k+1)} = w^{(k)} - alpha Delta^{(k)}

    The numerator, an RMS of past *updates*, gives the step the units of w, so the method
    works with alpha = 1 (the default; alpha only rescales Delta). ``maximize=True``
    replaces g by -g. State per parameter: ``step`` (k), ``square_avg`` (v) and
    ``acc_delta`` (u).

    ``foreach`` is accepted and ignored (it changes how PyTorch batches the arithmetic, not
    the result); ``capturable=True`` and ``differentiable=True`` are refused (see
    :mod:`lamina.optim._checks`).

    >>> opt = lm.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_hyperparameter("rho", group["rho"], 0.0, 1.0, high_inclusive=True)
        check_hyperparameter("eps", group["eps"])
        check_hyperparameter("weight_decay", group["weight_decay"])
        check_implementation_flags(group)

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])

        def new_state(w):
            xp = get_array_module(w)
            return {"step": 0, "square_avg": xp.zeros_like(w), "acc_delta": xp.zeros_like(w)}

        for w, g, entry in self._updates(group, first, new_state):
            xp = get_array_module(w)
            v = entry["square_avg"]
            u = entry["acc_delta"]
            v *= rho
            v += ((1.0 - rho) * g) * g
            std = v + eps
            xp.sqrt(std, out=std)
            delta = u + eps
            xp.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            u *= rho
            u += ((1.0 - rho) * delta) * delta
            delta *= lr
            w -= delta

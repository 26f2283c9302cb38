"""Adagrad: per-coordinate step sizes from the sum of squared gradients (Duchi et al., 2011)."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's ``torch.optim.Adagrad``.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ... and o the coordinate-wise
    (Hadamard) product:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                      (if weight_decay != 0)
        G^{(k)} = G^{(k-1)} + g^{(k)} o g^{(k)},     G^{(0)} = initial_accumulator_value
        alpha^{(k)} = alpha / (1 + (k - 1) lr_decay)
        w^{(k+1)} = w^{(k)} - alpha^{(k)} g^{(k)} / (sqrt(G^{(k)}) + eps)

    Coordinates with large past gradients take small steps and rarely-updated ones large
    steps; since G only grows, the effective step decays like 1/sqrt(k) on its own.
    ``maximize=True`` replaces g by -g. State per parameter: ``step`` (k) and ``sum`` (G).

    >>> opt = lm.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_hyperparameter("lr_decay", group["lr_decay"])
        check_hyperparameter("weight_decay", group["weight_decay"])
        check_hyperparameter("initial_accumulator_value", group["initial_accumulator_value"])
        check_hyperparameter("eps", group["eps"])

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        initial = float(group["initial_accumulator_value"])
        eps = float(group["eps"])
        def new_state(w):
            return {"step": 0, "sum": get_array_module(w).full_like(w, initial)}

        for w, g, entry in self._updates(group, first, new_state):
            xp = get_array_module(w)
            step = entry["step"]
            clr = lr / (1.0 + (step - 1) * lr_decay)
            total = entry["sum"]
            total += g * g
            std = xp.sqrt(total)
            std += eps
            xp.divide(g, std, out=std)
            std *= clr
            w -= std

"""RMSProp: step sizes from a moving average of squared gradients (Hinton's lecture 6e)."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSProp, PyTorch's ``torch.optim.RMSprop``.

    With g^{(k)} the minibatch gradient at step k and o the coordinate-wise product:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                      (if weight_decay != 0)
        v^{(k)} = a v^{(k-1)} + (1 - a) g^{(k)} o g^{(k)},   v^{(0)} = 0   (a = ``alpha``)
        s^{(k)} = v^{(k)}                                       (centered=False)
                = v^{(k)} - gbar^{(k)} o gbar^{(k)},  gbar^{(k)} = a gbar^{(k-1)} + (1 - a) g^{(k)}
                                                                (centered=True: a variance)
        d^{(k)} = g^{(k)} / (sqrt(s^{(k)}) + eps)
        b^{(k)} = mu b^{(k-1)} + d^{(k)},   d^{(k)} <- b^{(k)}         (if momentum mu > 0)
        w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)}

    Unlike Adagrad's growing sum, the moving average forgets old gradients, so the step
    does not shrink to zero. ``maximize=True`` replaces g by -g. State per parameter:
    ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, if momentum > 0) and
    ``grad_avg`` (gbar, if centered).

    >>> opt = lm.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.99)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_hyperparameter("alpha", group["alpha"], 0.0, 1.0, high_inclusive=True)
        check_hyperparameter("eps", group["eps"])
        check_hyperparameter("weight_decay", group["weight_decay"])
        check_hyperparameter("momentum", group["momentum"], 0.0, 1.0)

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        def new_state(w):
            return {"step": 0, "square_avg": get_array_module(w).zeros_like(w)}

        for w, g, entry in self._updates(group, first, new_state):
            xp = get_array_module(w)
            v = entry["square_avg"]
            v *= alpha
            v += ((1.0 - alpha) * g) * g
            if centered:
                gbar = entry.get("grad_avg")
                if gbar is None:
                    gbar = entry["grad_avg"] = xp.zeros_like(w)
                gbar *= alpha
                gbar += (1.0 - alpha) * g
                avg = v - gbar * gbar
                xp.sqrt(avg, out=avg)
            else:
                avg = xp.sqrt(v)
            avg += eps
            if momentum > 0:
                buf = entry.get("momentum_buffer")
                if buf is None:
                    buf = entry["momentum_buffer"] = xp.zeros_like(w)
                buf *= momentum
                xp.divide(g, avg, out=avg)
                buf += avg
                w -= lr * buf
            else:
                xp.divide(g, avg, out=avg)
                avg *= lr
                w -= avg

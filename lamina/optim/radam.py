"""RAdam: Adam with a rectified, variance-controlled warm-up (Liu et al., 2020)."""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..backend import get_array_module
from ._checks import check_adam_family
from .optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam, PyTorch's ``torch.optim.RAdam``.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ... and o the coordinate-wise
    product:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}      (weight_decay, unless decoupled_weight_decay)
        w^{(k)} <- (1 - alpha lambda) w^{(k)}    (decoupled_weight_decay=True, as AdamW)
        m^{(k)} = beta_1 m^{(k-1)} + (1 - beta_1) g^{(k)}            m^{(0)} = 0
        v^{(k)} = beta_2 v^{(k-1)} + (1 - beta_2) g^{(k)} o g^{(k)}  v^{(0)} = 0
        m_hat = m^{(k)} / (1 - beta_1^k)
        rho_inf = 2 / (1 - beta_2) - 1,   rho_k = rho_inf - 2 k beta_2^k / (1 - beta_2^k)

    rho_k is the length of the simple moving average that the exponential one of v
    approximates; while it is short (rho_k <= 5) the variance of 1/sqrt(v) is unbounded, so
    the step is plain momentum SGD, and afterwards Adam's, rectified by r_k:

        w^{(k+1)} = w^{(k)} - alpha m_hat                                    (rho_k <= 5)
        r_k = sqrt((rho_k - 4)(rho_k - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_k))
        w^{(k+1)} = w^{(k)} - alpha r_k m_hat sqrt(1 - beta_2^k) / (sqrt(v^{(k)}) + eps)
                                                                             (rho_k > 5)

    ``maximize=True`` replaces g by -g. State per parameter: ``step`` (k), ``exp_avg`` (m)
    and ``exp_avg_sq`` (v).

    ``foreach`` is accepted and ignored (it changes how PyTorch batches the arithmetic, not
    the result); ``capturable=True`` and ``differentiable=True`` are refused (see
    :mod:`lamina.optim._checks`).

    >>> opt = lm.optim.RAdam(model.parameters(), lr=1e-3, decoupled_weight_decay=True,
    ...                      weight_decay=1e-2)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_adam_family(group)

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        decoupled = bool(group["decoupled_weight_decay"])
        rho_inf = 2.0 / (1.0 - beta2) - 1.0

        def new_state(w):
            xp = get_array_module(w)
            return {"step": 0, "exp_avg": xp.zeros_like(w), "exp_avg_sq": xp.zeros_like(w)}

        for w, g, entry in self._updates(group, first, new_state, coupled_decay=not decoupled):
            xp = get_array_module(w)
            step = entry["step"]
            if decoupled and weight_decay != 0:
                w *= 1.0 - lr * weight_decay
            m = entry["exp_avg"]
            v = entry["exp_avg_sq"]
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += ((1.0 - beta2) * g) * g
            c1 = 1.0 - beta1 ** step
            c2 = 1.0 - beta2 ** step
            rho = rho_inf - 2.0 * step * beta2 ** step / c2
            if rho > 5.0:
                rect = math.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf
                                 / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
                update = xp.sqrt(v)
                update += eps
                xp.divide(m, update, out=update)
                update *= lr * rect * math.sqrt(c2) / c1
            else:
                update = m * (lr / c1)
            w -= update

"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from ._checks import check_adam_family
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam, PyTorch's ``torch.optim.NAdam``.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ..., o the coordinate-wise product
    and psi = ``momentum_decay``, the momentum coefficient follows a warm-up schedule

        mu_k = beta_1 (1 - 0.96^{k psi} / 2),     P_k = mu_1 mu_2 ... mu_k

    and the step looks one momentum step ahead (Nesterov's idea, applied to Adam):

        g^{(k)} <- g^{(k)} + lambda w^{(k)}      (weight_decay, unless decoupled_weight_decay)
        w^{(k)} <- (1 - alpha lambda) w^{(k)}    (decoupled_weight_decay=True, as AdamW)
        m^{(k)} = beta_1 m^{(k-1)} + (1 - beta_1) g^{(k)}            m^{(0)} = 0
        v^{(k)} = beta_2 v^{(k-1)} + (1 - beta_2) g^{(k)} o g^{(k)}  v^{(0)} = 0
        m_hat = mu_{k+1} m^{(k)} / (1 - P_{k+1}) + (1 - mu_k) g^{(k)} / (1 - P_k)
        v_hat = v^{(k)} / (1 - beta_2^k)
        w^{(k+1)} = w^{(k)} - alpha m_hat / (sqrt(v_hat) + eps)

    ``maximize=True`` replaces g by -g. State per parameter: ``step`` (k), ``mu_product``
    (P_k, a Python float: PyTorch keeps it in a scalar tensor of the default dtype, float32
    unless changed, so its results drift from lamina's float64 product by ~1e-7 relative
    unless ``torch.set_default_dtype(torch.float64)``), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    ``foreach`` is accepted and ignored (it changes how PyTorch batches the arithmetic, not
    the result); ``capturable=True`` and ``differentiable=True`` are refused (see
    :mod:`lamina.optim._checks`).

    >>> opt = lm.optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_adam_family(group)
        check_hyperparameter("momentum_decay", group["momentum_decay"])

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        psi = float(group["momentum_decay"])
        decoupled = bool(group["decoupled_weight_decay"])

        def new_state(w):
            xp = get_array_module(w)
            return {"step": 0, "mu_product": 1.0, "exp_avg": xp.zeros_like(w),
                    "exp_avg_sq": xp.zeros_like(w)}

        for w, g, entry in self._updates(group, first, new_state, coupled_decay=not decoupled):
            xp = get_array_module(w)
            step = entry["step"]
            if decoupled and weight_decay != 0:
                w *= 1.0 - lr * weight_decay
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mu_product = float(entry["mu_product"]) * mu
            entry["mu_product"] = mu_product
            m = entry["exp_avg"]
            v = entry["exp_avg_sq"]
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += ((1.0 - beta2) * g) * g
            denom = v / (1.0 - beta2 ** step)
            xp.sqrt(denom, out=denom)
            denom += eps
            # the two terms of m_hat share the denominator
            w -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
            w -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)

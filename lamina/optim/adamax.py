"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2015)."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from ._checks import check_adam_family
from .optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, PyTorch's ``torch.optim.Adamax``.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ... and |.|, max taken
    coordinate-wise:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                        (if weight_decay != 0)
        m^{(k)} = beta_1 m^{(k-1)} + (1 - beta_1) g^{(k)},           m^{(0)} = 0
        u^{(k)} = max(beta_2 u^{(k-1)}, |g^{(k)}| + eps),            u^{(0)} = 0
        w^{(k+1)} = w^{(k)} - alpha m^{(k)} / ((1 - beta_1^k) u^{(k)})

    u is an exponentially weighted infinity norm of the past gradients (the limit p -> inf
    of Adam's L^p average), so it needs no bias correction of its own. ``maximize=True``
    replaces g by -g. State per parameter: ``step`` (k), ``exp_avg`` (m), ``exp_inf`` (u).

    ``foreach`` is accepted and ignored (it changes how PyTorch batches the arithmetic, not
    the result); ``capturable=True`` and ``differentiable=True`` are refused (see
    :mod:`lamina.optim._checks`).

    >>> opt = lm.optim.Adamax(model.parameters(), lr=2e-3, betas=(0.9, 0.999))
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_adam_family(group)

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        eps = float(group["eps"])

        def new_state(w):
            xp = get_array_module(w)
            return {"step": 0, "exp_avg": xp.zeros_like(w), "exp_inf": xp.zeros_like(w)}

        for w, g, entry in self._updates(group, first, new_state):
            xp = get_array_module(w)
            m = entry["exp_avg"]
            u = entry["exp_inf"]
            m *= beta1
            m += (1.0 - beta1) * g
            u *= beta2
            norm = xp.abs(g)
            norm += eps
            xp.maximum(u, norm, out=u)
            update = xp.divide(m, u, out=norm)
            update *= lr / (1.0 - beta1 ** entry["step"])
            w -= update

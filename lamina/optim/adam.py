"""Adam and AdamW: adaptive moment estimation (Kingma & Ba, 2015; Loshchilov & Hutter, 2019)."""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..backend import get_array_module
from ..errors import LaminaTypeError
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam, PyTorch's ``torch.optim.Adam``: momentum plus a per-coordinate step size.

    With g^{(k)} the minibatch gradient at step k = 1, 2, ..., products and powers of
    vectors taken coordinate-wise (the Hadamard product of Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks):

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                      (if weight_decay != 0)
        m^{(k)} = beta_1 m^{(k-1)} + (1 - beta_1) g^{(k)}          (first moment, m^{(0)} = 0)
        v^{(k)} = beta_2 v^{(k-1)} + (1 - beta_2) g^{(k)} o g^{(k)}  (second moment, v^{(0)} = 0)
        m_hat = m^{(k)} / (1 - beta_1^k),   v_hat = v^{(k)} / (1 - beta_2^k)   (bias correction)
        w^{(k+1)} = w^{(k)} - alpha m_hat / (sqrt(v_hat) + eps)

    so each coordinate's step is scaled by the inverse root of its recent squared
    gradients. ``amsgrad=True`` uses the running maximum v_max^{(k)} = max(v_max^{(k-1)},
    v^{(k)}) in place of v^{(k)}; ``maximize=True`` replaces g by -g. State per parameter:
    ``step`` (k), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``.

    >>> opt = lm.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    """

    # AdamW sets this: weight decay applied to w directly instead of added to g.
    _decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise LaminaTypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        check_hyperparameter("beta1 (betas[0])", betas[0], 0.0, 1.0)
        check_hyperparameter("beta2 (betas[1])", betas[1], 0.0, 1.0)
        check_hyperparameter("eps", group["eps"])
        check_hyperparameter("weight_decay", group["weight_decay"])

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        decoupled = self._decoupled

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
            if amsgrad:
                v_max = entry.get("max_exp_avg_sq")
                if v_max is None:  # first step, or amsgrad switched on mid-run
                    v_max = entry["max_exp_avg_sq"] = xp.zeros_like(w)
                xp.maximum(v_max, v, out=v_max)
                v = v_max
            # alpha m_hat / (sqrt(v_hat) + eps) = (alpha sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2))
            # with c_i = 1 - beta_i^k: the bias corrections fold into two scalars, one array
            # operation fewer per step.
            c2_sqrt = math.sqrt(1.0 - beta2 ** step)
            denom = xp.sqrt(v)
            denom += eps * c2_sqrt
            xp.divide(m, denom, out=denom)
            denom *= lr * c2_sqrt / (1.0 - beta1 ** step)
            w -= denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay, PyTorch's ``torch.optim.AdamW``.

    The decay shrinks the weights directly instead of entering the moments:

        w^{(k)} <- (1 - alpha lambda) w^{(k)},   then the Adam step of :class:`Adam` with
        the plain gradient g^{(k)},

    so the decay is not rescaled by 1/sqrt(v_hat) (Loshchilov & Hutter, 2019). The default
    ``weight_decay`` is 1e-2, as in PyTorch.

    >>> opt = lm.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    _decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

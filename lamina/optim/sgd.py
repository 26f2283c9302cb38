"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import Any, Iterable

from ..backend import get_array_module
from ..errors import LaminaValueError
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""(Minibatch) stochastic gradient descent, PyTorch's ``torch.optim.SGD``.

    With g^{(k)} the gradient of the minibatch loss at w^{(k)} (an unbiased estimate of the
    full gradient, Grohs, Introduction to (Convolutional) Neural Networks), weight decay lambda, momentum mu and dampening tau:

        g^{(k)} <- g^{(k)} + lambda w^{(k)}                       (if weight_decay != 0)
        b^{(k)}  = mu b^{(k-1)} + (1 - tau) g^{(k)},   b^{(1)} = g^{(1)}   (if momentum != 0)
        d^{(k)}  = b^{(k)}                  (heavy-ball momentum)
                 = g^{(k)} + mu b^{(k)}     (nesterov=True)
                 = g^{(k)}                  (momentum == 0: plain SGD)
        w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)}                  (u.1)

    with alpha^{(k)} the group's ``lr`` (constant, or changed by a scheduler from
    :mod:`lamina.optim.lr_scheduler`, e.g. ``InverseTimeLR`` for alpha^{(k)} = 1/k).
    ``maximize=True`` ascends: g^{(k)} is replaced by -g^{(k)}. State per parameter:
    ``momentum_buffer`` (b^{(k)}), only when momentum != 0.

    >>> opt = lm.optim.SGD(model.parameters(), lr=3.0)     # Nielsen's MNIST setting
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_hyperparameter("momentum", group["momentum"], 0.0, 1.0)
        check_hyperparameter("dampening", group["dampening"], 0.0, 1.0, high_inclusive=True)
        check_hyperparameter("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise LaminaValueError(
                f"Nesterov momentum requires momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _step_group(self, group: dict[str, Any], first: int) -> None:
        # Python floats keep float32 arrays float32 (a NumPy float64 scalar would promote).
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        state = self.state
        for index, p in enumerate(group["params"], first):
            grad = p.grad
            if grad is None:
                continue
            w = p._data
            d = grad._data
            # `fresh` tells whether d is an array of our own, which may then be scaled in
            # place; the gradient array itself is never written to (it may be shared).
            fresh = False
            if maximize:
                d = -d
                fresh = True
            if weight_decay != 0:
                d = d + weight_decay * w
                fresh = True
            if momentum != 0:
                entry = state.get(index)
                buf = None if entry is None else entry.get("momentum_buffer")
                if buf is None:  # b^{(1)} = g^{(1)}
                    buf = get_array_module(w).array(d, dtype=w.dtype, copy=True)
                    state[index] = {"momentum_buffer": buf}
                else:
                    buf *= momentum
                    buf += d if dampening == 0 else (1.0 - dampening) * d
                if nesterov:
                    d = d + momentum * buf
                    fresh = True
                else:
                    d = buf
                    fresh = False
            if fresh:
                d *= lr
                w -= d
            else:
                w -= lr * d
            p._vc[0] += 1  # p._version += 1 (step runs unobserved: see replayed)

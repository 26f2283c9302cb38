"""Learning-rate schedules: the step size alpha^{(k)} of w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)}.

Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks lists the choices: constant alpha^{(k)} = c, decaying alpha^{(k)} = 1/k or
1/sqrt(k) (:class:`InverseTimeLR`), and adaptive methods (the optimisers themselves). The
schedulers follow PyTorch's ``torch.optim.lr_scheduler`` exactly (same values, same
recursive formulas): call ``scheduler.step()`` after ``optimizer.step()``, once per epoch
or once per iteration, and each parameter group's ``'lr'`` is updated; ``last_epoch``
counts the calls. Creating a scheduler records each group's starting rate as
``'initial_lr'`` (the ``base_lrs``).

>>> opt = lm.optim.SGD(params, lr=0.1)
>>> sched = lm.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
>>> for epoch in range(90):
...     train_one_epoch(opt)
...     sched.step()
"""
from __future__ import annotations

import abc
import math
import types
from typing import Any, Callable, Iterable

from ..errors import LaminaTypeError, LaminaValueError
from ..autograd.observers import replayed
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "InverseTimeLR", "ReduceLROnPlateau"]


class LRScheduler(abc.ABC):
    """Base class: sets each group's ``'lr'`` to :meth:`get_lr`'s value at every :meth:`step`.

    ``last_epoch=-1`` (the default) starts a new schedule: every group gets
    ``'initial_lr'`` (its current ``'lr'``, unless already set) and the first rate is
    applied at once. To resume, prefer ``load_state_dict``; a ``last_epoch >= 0`` needs
    ``'initial_lr'`` in every group already.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise LaminaTypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise LaminaValueError(
                        f"param 'initial_lr' is not specified in param_groups[{number}] when "
                        f"resuming a scheduler with last_epoch={last_epoch}; load the optimizer's "
                        "state dict first, or use last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    @abc.abstractmethod
    def get_lr(self) -> list[float]:
        """The rates for ``last_epoch`` (already advanced), one per parameter group."""

    @replayed
    def step(self) -> None:
        """Advance ``last_epoch`` by one and set every group's ``'lr'`` to the new rate."""
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates most recently set by this scheduler, one per group."""
        return self._last_lr

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimiser (save it with ``lm.save``)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`."""
        self.__dict__.update(state_dict)


def _per_group(name: str, value, optimizer: Optimizer) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise LaminaValueError(f"expected {len(optimizer.param_groups)} {name} (one per group), "
                                   f"got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LambdaLR(LRScheduler):
    """alpha^{(k)} = alpha_0 * lr_lambda(k), with k = ``last_epoch``.

    ``lr_lambda`` is one function of the epoch, or a list with one per group. Plain
    functions and lambdas are not saved by :meth:`state_dict` (the attributes of callable
    objects are).

    >>> sched = LambdaLR(opt, lambda k: 0.95 ** k)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list,
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _per_group("lr_lambda functions", lr_lambda, optimizer)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise LaminaTypeError(f"lr_lambda must be callable, got {fn!r}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
                               else dict(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("lr_lambdas", None) or []
        self.__dict__.update(state_dict)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class StepLR(LRScheduler):
    """alpha^{(k)} = alpha_0 * gamma^floor(k / step_size): decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if not isinstance(step_size, int) or isinstance(step_size, bool) or step_size < 1:
            raise LaminaValueError(f"step_size must be a positive integer, got {step_size!r}")
        check_hyperparameter("gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class MultiStepLR(LRScheduler):
    """alpha^{(k)} = alpha_0 * gamma^(number of milestones <= k): decay at the listed epochs.

    A milestone listed n times multiplies by gamma^n there, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        counts: dict[int, int] = {}
        for milestone in sorted(milestones):
            if not isinstance(milestone, int) or isinstance(milestone, bool):
                raise LaminaTypeError(f"milestones must be integers, got {milestone!r}")
            counts[milestone] = counts.get(milestone, 0) + 1
        check_hyperparameter("gamma", gamma)
        self.milestones = counts  # a dict {epoch: multiplicity}, like PyTorch's Counter
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        count = self.milestones.get(self.last_epoch)
        if count is None:
            return self._current()
        return [lr * self.gamma ** count for lr in self._current()]


class ExponentialLR(LRScheduler):
    """alpha^{(k)} = alpha_0 * gamma^k (each step multiplies the rate by ``gamma``)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        check_hyperparameter("gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from alpha_0 down to ``eta_min`` over ``T_max`` steps (SGDR).

    The closed form is

        alpha^{(k)} = eta_min + (alpha_0 - eta_min) (1 + cos(pi k / T_max)) / 2,

    which PyTorch computes recursively, so that changes made to the rate by others are
    respected:

        alpha^{(k)} = eta_min + (alpha^{(k-1)} - eta_min) (1 + cos(pi k / T_max)) / (1 + cos(pi (k-1) / T_max)),

    with an additive step where the denominator vanishes (k - 1 = T_max modulo 2 T_max),
    after which the rate climbs back along the cosine. lamina uses the same recursion,
    giving the same values as PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_max, int) or isinstance(T_max, bool) or T_max < 1:
            raise LaminaValueError(f"T_max must be a positive integer, got {T_max!r}")
        check_hyperparameter("eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        k, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and k > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(k * math.pi / T_max)) / 2
                    for base_lr in self.base_lrs]
        if (k - 1 - T_max) % (2 * T_max) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current())]
        return [(1 + math.cos(math.pi * k / T_max)) / (1 + math.cos(math.pi * (k - 1) / T_max))
                * (lr - eta_min) + eta_min for lr in self._current()]


class InverseTimeLR(LRScheduler):
    r"""alpha^{(k)} = alpha_0 / (k + offset)^power, the decaying step sizes of Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks.

    k = ``last_epoch`` counts the calls to :meth:`step` (0 before the first). With the
    default ``offset=1`` the n-th optimiser step (n = k + 1 = 1, 2, ...) uses

        power=1:    alpha^{(n)} = alpha_0 / n          (the lecture's alpha^{(k)} = 1/k)
        power=0.5:  alpha^{(n)} = alpha_0 / sqrt(n)    (the lecture's alpha^{(k)} = 1/sqrt(k))

    for alpha_0 = 1. A lamina extra (PyTorch has no such class; ``LambdaLR(opt, lambda k:
    (k + 1) ** -power)`` is the same schedule). ``offset`` > 0 delays the decay:
    alpha_0 / (k + offset)^power, so the first rate is alpha_0 / offset^power.

    >>> sched = InverseTimeLR(opt, power=0.5)      # alpha^{(k)} = alpha_0 / sqrt(k)
    """

    def __init__(self, optimizer: Optimizer, power: float = 1.0, offset: float = 1,
                 last_epoch: int = -1) -> None:
        check_hyperparameter("power", power)
        check_hyperparameter("offset", offset)
        if offset <= 0:
            raise LaminaValueError(f"invalid offset: {offset!r} (expected a value > 0)")
        self.power = power
        self.offset = offset
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        denominator = (self.last_epoch + self.offset) ** self.power
        return [base_lr / denominator for base_lr in self.base_lrs]


from .plateau import ReduceLROnPlateau  # noqa: E402  (its own module; listed here at torch's path)

"""``ReduceLROnPlateau``: lower the step size when a watched quantity stops improving.

Unlike the schedules of :mod:`.lr_scheduler`, alpha^{(k)} here depends on the training: after
``patience`` calls of ``step(metric)`` without an improvement of the metric (better than the
best so far by more than ``threshold``, relatively or absolutely), every group's rate becomes
max(alpha * factor, min_lr); then ``cooldown`` calls are ignored. PyTorch's semantics exactly.
"""
from __future__ import annotations

import math

from ..errors import LaminaTypeError, LaminaValueError
from ..autograd.observers import replayed
from .optimizer import Optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau:
    """``ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
    threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)``; call ``step(val_loss)``.

    >>> sched = ReduceLROnPlateau(opt, patience=2)
    >>> for epoch in range(50):
    ...     sched.step(validate(model))
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise LaminaTypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise LaminaValueError(f"Factor should be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise LaminaValueError(f"mode {mode!r} is unknown (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise LaminaValueError(f"threshold mode {threshold_mode!r} is unknown (expected 'rel' or 'abs')")
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise LaminaValueError(f"expected {len(groups)} min_lrs, got {len(min_lr)}")
            self.min_lrs = [float(v) for v in min_lr]
        else:
            self.min_lrs = [float(min_lr)] * len(groups)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.cooldown_counter = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            bound = best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return a < bound
        bound = best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold
        return a > bound

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    @replayed
    def step(self, metrics) -> None:
        """Record one value of the watched metric (a number or a one-element tensor)."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

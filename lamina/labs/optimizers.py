"""Step sizes and adaptive optimisers on the same problem from the same start (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks).

Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks ("Practical Issues"): every method is ``w^{(k+1)} = w^{(k)} - alpha^{(k)} d^{(k)}``
and the step size ("learning rate") alpha^{(k)} is chosen

    constant:  alpha^{(k)} = c (c small),
    decaying:  alpha^{(k)} = 1/k,  alpha^{(k)} = 1/sqrt(k),
    adaptive:  ADAM, ADAGRAD, RMSProp,

with SGD with momentum (Schwing & Telgarsky, Deep Neural Networks) in between. The lab runs each of them on two problems:

1. a small MLP (64 -> 32 -> 10, ReLU, cross-entropy) on the embedded digits, minibatches of
   32 in the same order and from the same initial weights for every optimiser; the curve
   is the loss on the whole training set;
2. an ill-conditioned convex quadratic f(w) = 1/2 (w - w*)^T H (w - w*) in two dimensions,
   H with eigenvalues 1 and 100 (condition number 100) along axes turned by 30 degrees, so
   that no method gets the per-coordinate scaling for free; full gradients, f* = 0.

For the decaying steps the lecture's alpha^{(k)} = 1/k and 1/sqrt(k) are used as they stand
on the MLP (alpha_0 = 1) and scaled to alpha_0 = 1/L = 1/100 on the quadratic, where any
step above 2/L diverges.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import Digits
from ..models import mlp
from ..nn import functional as F
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..optim.lr_scheduler import InverseTimeLR
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "Setting", "mlp_settings", "quadratic_settings", "TARGET_LOSS"]

TARGET_LOSS = 0.3  # the MLP's training loss to reach (chance level is ln 10 = 2.30)
TARGET_QUADRATIC = 1e-3  # f(w) to reach on the quadratic (f(w_0) = 50.5)


@dataclasses.dataclass(frozen=True)
class Setting:
    """An optimiser, its hyper-parameters in words, and how to build it (with a schedule)."""

    name: str
    hyper: str
    make: Callable  # params -> (optimizer, scheduler or None)


def _constant(cls, **kwargs) -> Callable:
    return lambda params: (cls(params, **kwargs), None)


def _inverse_time(lr: float, power: float) -> Callable:
    def make(params):
        optimizer = SGD(params, lr=lr)
        return optimizer, InverseTimeLR(optimizer, power=power)
    return make


def mlp_settings() -> list[Setting]:
    """The optimisers for the MLP. The adaptive methods' alpha is the best of a coarse grid
    for the 300-step run ({1e-3, 3e-3, 1e-2} for Adam and RMSProp, {0.01, 0.05, 0.1} for
    Adagrad): at Adam's usual 1e-3 it needs more steps than the quick run has."""
    return [
        Setting("SGD", "alpha = 0.1", _constant(SGD, lr=0.1)),
        Setting("SGD + momentum", "alpha = 0.1, beta = 0.9", _constant(SGD, lr=0.1, momentum=0.9)),
        Setting("Adagrad", "alpha = 0.1", _constant(Adagrad, lr=0.1)),
        Setting("RMSProp", "alpha = 0.01, rho = 0.99", _constant(RMSprop, lr=0.01)),
        Setting("Adam", "alpha = 0.01, betas = (0.9, 0.999)", _constant(Adam, lr=0.01)),
        Setting("SGD, 1/k", "alpha_k = 1/k", _inverse_time(1.0, 1.0)),
        Setting("SGD, 1/sqrt(k)", "alpha_k = 1/sqrt(k)", _inverse_time(1.0, 0.5)),
    ]


def quadratic_settings() -> list[Setting]:
    """The optimisers for the quadratic (L = 100: constant SGD steps must stay below 2/L)."""
    return [
        Setting("SGD", "alpha = 1/L = 0.01", _constant(SGD, lr=0.01)),
        Setting("SGD + momentum", "alpha = 0.01, beta = 0.9",
                _constant(SGD, lr=0.01, momentum=0.9)),
        Setting("Adagrad", "alpha = 1", _constant(Adagrad, lr=1.0)),
        Setting("RMSProp", "alpha = 0.1, rho = 0.99", _constant(RMSprop, lr=0.1)),
        Setting("Adam", "alpha = 0.1, betas = (0.9, 0.999)", _constant(Adam, lr=0.1)),
        Setting("SGD, 1/k", "alpha_k = 0.01/k", _inverse_time(0.01, 1.0)),
        Setting("SGD, 1/sqrt(k)", "alpha_k = 0.01/sqrt(k)", _inverse_time(0.01, 0.5)),
    ]


def _first_below(curve: list, target: float) -> int | None:
    """The first step whose recorded loss is <= target (None if never)."""
    return next((step for step, loss in curve if loss <= target), None)


def _train_mlp(setting: Setting, initial: list, x: np.ndarray, y: np.ndarray,
               batches: np.ndarray, every: int) -> list:
    """Minibatch training; returns [(step, loss on the whole training set)]."""
    model = mlp([64, 32, 10], "relu")
    with no_grad():
        for param, value in zip(model.parameters(), initial):
            param._data[...] = value
    optimizer, scheduler = setting.make(model.parameters())
    xs, ys = Tensor._wrap(x), Tensor._wrap(y)

    def full_loss() -> float:
        with no_grad():
            return F.cross_entropy(model(xs), ys).item()

    curve = [(0, full_loss())]
    for step, chosen in enumerate(batches, 1):
        loss = F.cross_entropy(model(Tensor._wrap(x[chosen])), Tensor._wrap(y[chosen]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()  # per iteration: the k of alpha^{(k)} counts steps
        if step % every == 0 or step == len(batches):
            value = full_loss()
            curve.append((step, value))
            if not math.isfinite(value):
                break
    return curve


def _quadratic() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, w*, w_0) of the test quadratic: eigenvalues 1 and 100, axes turned by 30 degrees."""
    turn = math.radians(30.0)
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    hessian = rotation @ np.diag([1.0, 100.0]) @ rotation.T
    return hessian, np.array([1.0, 1.0]), np.array([1.0, 1.0]) + rotation @ np.array([10.0, 0.1])


def _train_quadratic(setting: Setting, steps: int) -> list:
    """Full-gradient descent on f(w) = 1/2 (w - w*)^T H (w - w*); returns [(step, f)]."""
    hessian, optimum, start = _quadratic()
    h, w_star = Tensor._wrap(hessian), Tensor._wrap(optimum)
    w = Tensor._wrap(start.copy())
    w.requires_grad_(True)
    optimizer, scheduler = setting.make([w])
    curve = []
    for step in range(steps + 1):
        d = w - w_star
        f = 0.5 * (d @ (h @ d))
        curve.append((step, f.item()))
        if step == steps or not math.isfinite(curve[-1][1]):
            break
        optimizer.zero_grad()
        f.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return curve


def _plot(curves: dict, quad: dict, out: str, report: Report) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    # log10 on linear axes: matplotlib's log-axis labels cost seconds to typeset
    for name, curve in curves.items():
        steps, losses = zip(*curve)
        axes[0].plot(steps, np.log10(losses), label=name)
    for name, curve in quad.items():
        steps, losses = zip(*curve)
        axes[1].plot(steps, np.log10(np.maximum(losses, 1e-16)), label=name)
    axes[0].axhline(np.log10(TARGET_LOSS), color="k", linestyle=":", linewidth=1)
    axes[0].set_title("MLP on Digits: log10 training cross-entropy")
    axes[1].set_title("Quadratic, condition number 100: log10 (f(w) - f*)")
    for ax in axes:
        ax.set_xlabel("step k")
        ax.legend(fontsize=8)
    fig.suptitle("Ghauch & Ghadikolaei's step sizes and adaptive methods, same start, same batches")
    fig.subplots_adjust(left=0.05, right=0.98, top=0.85, bottom=0.12, wspace=0.15)
    save_figure(fig, out, "loss_curves.png", report)


def _table(report: Report, title: str, settings: list, curves: dict, target: float) -> dict:
    table = report.table(title, ["optimiser", "hyper-parameters", "initial loss", "final loss",
                                 f"steps to loss <= {target:g}"])
    data = {}
    for setting in settings:
        curve = curves[setting.name]
        reached = _first_below(curve, target)
        data[setting.name] = {"initial": curve[0][1], "final": curve[-1][1], "reached": reached,
                              "curve": curve}
        table.add(setting.name, setting.hyper, curve[0][1], curve[-1][1],
                  "not reached" if reached is None else reached)
    return data


def run(quick: bool = False, out: str = "lab-optimizers") -> Report:
    """Train the digits MLP and descend the quadratic with each optimiser; compare the curves.

    Quick: 300 minibatch steps (6.7 epochs) and 300 quadratic steps; full: 1,500 and 1,000."""
    started = time.perf_counter()
    steps, quad_steps, every = (300, 300, 10) if quick else (1500, 1000, 25)
    batch, seed = 32, 0
    x, y = Digits(train=True).arrays()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(seed)
    epochs = math.ceil(steps * batch / len(y))
    stream = np.concatenate([order.permutation(len(y)) for _ in range(epochs)])
    batches = stream[:steps * batch].reshape(steps, batch)
    _random.manual_seed(seed)
    initial = [p._data.copy() for p in mlp([64, 32, 10], "relu").parameters()]

    settings, quad_set = mlp_settings(), quadratic_settings()
    with one_blas_thread():
        curves = {s.name: _train_mlp(s, initial, x, y, batches, every) for s in settings}
        quad = {s.name: _train_quadratic(s, quad_steps) for s in quad_set}

    report = Report("optimizers")
    report.data = {
        "mlp": _table(report, f"MLP [64, 32, 10] on the {len(y)} training digits: {steps} "
                      f"steps, minibatches of {batch} (loss on the whole training set, "
                      f"checked every {every} steps)", settings, curves, TARGET_LOSS),
        "quadratic": _table(report, f"Quadratic f(w) = 1/2 (w - w*)^T H (w - w*), eigenvalues "
                            f"1 and 100, full gradients, {quad_steps} steps", quad_set, quad,
                            TARGET_QUADRATIC)}
    report.notes.append(
        "Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks: alpha^{(k)} constant, 1/k or 1/sqrt(k), or adaptive (Adam, Adagrad, "
        "RMSProp). 1/k steps add up to only ln k, so plain SGD with alpha = 1/k soon stops "
        "moving; 1/sqrt(k) decays more gently. Every optimiser sees the same "
        "sequence of minibatches from the same initial weights; the adaptive methods' alpha "
        "was picked from a coarse grid (see mlp_settings), the others are common values. On "
        "the quadratic the constant-step SGD creeps along the flat direction at the rate "
        "1 - alpha lambda_min = 0.99 per step, which momentum (and the adaptive methods' "
        "rescaling) overcome. 'Steps to' is the first check at which the target was met; "
        "with a constant alpha RMSProp can leave it again, as its step alpha g / sqrt(v) "
        "stays about alpha long after the gradient g has shrunk (v, the running mean of "
        "g^2, lags behind).")
    _plot(curves, quad, out, report)
    report.notes.append(f"Data: the embedded Digits (lamina.data.Digits); "
                        f"{time.perf_counter() - started:.1f} s.")
    return report

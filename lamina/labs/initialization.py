"""How the initial weights decide whether a deep network can learn (Schwing & Telgarsky, Deep Neural Networks, Grohs, Introduction to (Convolutional) Neural Networks §6).

Schwing & Telgarsky, Deep Neural Networks, "Initialization": it "matters", "needs to break symmetry", and two recipes:

    random uniform:      W_ij ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))      (PyTorch's Linear default)
    Glorot and Bengio:   W_ij ~ U(-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out)))

against which the lab sets N(0, 1) for every weight and bias (Nielsen's ``network.py``, the
initialisation of Grohs's MNIST networks) and, for ReLU, Kaiming's N(0, 2/fan_in). The
variance argument: a unit's pre-activation z = sum_j W_ij a_j + b_i has Var z = fan_in Var W
E[a^2] + Var b, so N(0, 1) weights make z about sqrt(fan_in) = 8 times wider than its inputs
-- sigmoid and tanh units saturate (sigma'(z) ~ 0) and a ReLU network's activations grow by
sqrt(fan_in / 2) per layer -- while Var W = 1/(3 fan_in) (uniform) shrinks the signal and
Glorot's 2/(fan_in + fan_out) (Kaiming's 2/fan_in for ReLU) keeps it. Backward, every layer
multiplies the gradient by W^T and by sigma'(z); with sigma' <= 1/4 a deep sigmoid network
loses its gradient (Grohs, Introduction to (Convolutional) Neural Networks §6, vanishing gradients) under any recipe that keeps
fan_in Var W near 1, and the lab shows that too.

For a 10-layer network of width 64 on the embedded digits the lab measures, at
initialisation, the standard deviation of every hidden layer's activations, the fraction of
saturated units, and the norm of the loss gradient at every layer; then it trains each
network briefly with the same SGD and reports its loss and accuracy.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import nn
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import Digits
from ..models import mlp
from ..nn import functional as F
from ..optim import SGD
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "CONFIGS", "layer_statistics"]

# (activation, init name in lamina.models.mlp, label): uniform = PyTorch's default. The
# sigmoid also gets Glorot's range times 4, the gain Glorot and Bengio derive for it from
# sigma'(0) = 1/4 (PyTorch's calculate_gain('sigmoid') is 1).
_UNIFORM = ("default", "uniform 1/sqrt(fan_in)")
_GLOROT = ("xavier", "Glorot")
_NORMAL = ("normal", "N(0,1)")
CONFIGS: tuple[tuple[str, str, str], ...] = tuple(
    (activation, init, label)
    for activation, inits in (
        ("sigmoid", (_UNIFORM, _GLOROT, ("xavier4", "Glorot, gain 4"), _NORMAL)),
        ("tanh", (_UNIFORM, _GLOROT, _NORMAL)),
        ("relu", (_UNIFORM, ("kaiming", "Kaiming N(0,2/fan_in)"), _NORMAL)))
    for init, label in inits)


def _build(sizes: list, activation: str, init: str) -> nn.Sequential:
    """``mlp(sizes, activation, init)``; ``'xavier4'`` is Glorot's uniform with gain 4."""
    if init != "xavier4":
        return mlp(sizes, activation, init=init)
    model = mlp(sizes, activation, init="xavier")
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight, gain=4.0)
    return model


# A unit is saturated where its activation's derivative is below 1% of its maximum:
# sigmoid' = a(1 - a) < 0.0025 (a within 0.0025 of 0 or 1), tanh' = 1 - a^2 < 0.01
# (|a| > 0.995); for ReLU, "dead" units (a = 0) are counted instead.
_SATURATED = {
    "sigmoid": lambda a: a * (1 - a) < 0.01 * 0.25,
    "tanh": lambda a: 1 - a * a < 0.01,
    "relu": lambda a: a <= 0,
}


def layer_statistics(model: nn.Sequential, activation: str, x: np.ndarray,
                     y: np.ndarray) -> dict:
    """Forward ``x`` through ``model`` layer by layer and backpropagate the cross-entropy.

    Returns ``std`` (per hidden layer, the standard deviation of its activations over the
    batch and units), ``saturated`` (per hidden layer, the fraction of saturated units, see
    ``_SATURATED``), ``grad_norm`` (per Linear layer, the Frobenius norm of dLoss/dW) and the
    initial ``loss``."""
    hidden = []
    h = Tensor._wrap(x)
    layers = list(model)
    for i, layer in enumerate(layers):
        h = layer(h)
        if i < len(layers) - 1 and not isinstance(layer, (nn.Linear, nn.Flatten)):
            hidden.append(h._data)
    loss = F.cross_entropy(h, Tensor._wrap(y))
    model.zero_grad()
    loss.backward()
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    saturated = _SATURATED[activation]
    return {"std": [float(a.std()) for a in hidden],
            "saturated": [float(np.mean(saturated(a))) for a in hidden],
            "grad_norm": [float(np.linalg.norm(layer.weight.grad._data)) for layer in linears],
            "loss": float(loss.item())}


def _train(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int, batch: int,
           lr: float, seed: int) -> tuple[float, bool]:
    """Minibatch SGD (momentum 0.9); returns (mean loss of the last 20 steps, diverged)."""
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    order = np.random.default_rng(seed)
    epochs = -(-steps * batch // len(y))
    stream = np.concatenate([order.permutation(len(y)) for _ in range(epochs)])
    losses = []
    for chosen in stream[:steps * batch].reshape(steps, batch):
        with np.errstate(over="ignore", invalid="ignore"):  # N(0,1) ReLU nets overflow
            loss = F.cross_entropy(model(Tensor._wrap(x[chosen])), Tensor._wrap(y[chosen]))
        value = loss.item()
        if not math.isfinite(value):
            return value, True
        losses.append(value)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(np.mean(losses[-20:])), False


def _evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        out = model(Tensor._wrap(x))
        loss = F.cross_entropy(out, Tensor._wrap(y)).item()
    return float(np.mean(out._data.argmax(axis=1) == y)), loss


def _plot(stats: dict, out: str, report: Report) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    activations = ("sigmoid", "tanh", "relu")
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for column, activation in enumerate(activations):
        for (act, _, label), s in stats.items():
            if act != activation:
                continue
            # log10 on linear axes: matplotlib's log-axis labels cost seconds to typeset
            layers = np.arange(1, len(s["std"]) + 1)
            axes[0, column].plot(layers, np.log10(np.maximum(s["std"], 1e-30)), "o-", label=label)
            axes[1, column].plot(np.arange(1, len(s["grad_norm"]) + 1),
                                 np.log10(np.maximum(s["grad_norm"], 1e-30)), "o-", label=label)
        axes[0, column].set_title(f"{activation}: log10 activation std, hidden layers", fontsize=10)
        axes[1, column].set_title(f"{activation}: log10 |dLoss/dW| per layer", fontsize=10)
        axes[1, column].set_xlabel("layer")
        axes[0, column].legend(fontsize=8)
    fig.suptitle("Per-layer statistics at initialisation: Schwing & Telgarsky's uniform recipes against "
                 "N(0,1), 256 training digits")
    fig.subplots_adjust(left=0.05, right=0.98, top=0.9, bottom=0.07, hspace=0.3, wspace=0.2)
    save_figure(fig, out, "layers.png", report)


def _conclusions(data: dict) -> list[str]:
    """What the table shows, in words, with the run's own numbers."""
    def pct(key):
        return f"{100 * float(np.mean(data[key]['saturated'])):.0f}%"

    def acc(key):
        return "diverged" if data[key]["diverged"] else f"{data[key]['test_acc']:.2f}"

    sn, sg = ("sigmoid", "normal"), ("sigmoid", "xavier")
    tn, tg, tu = ("tanh", "normal"), ("tanh", "xavier"), ("tanh", "default")
    rn, rk, ru = ("relu", "normal"), ("relu", "kaiming"), ("relu", "default")
    return [
        f"Sigmoid: N(0,1) saturates {pct(sn)} of the hidden units (Glorot {pct(sg)}) and "
        f"widens the activations (std {data[sn]['std'][0]:.2f} against "
        f"{data[sg]['std'][0]:.2f}). Yet at this depth sigma' <= 1/4 per layer dominates: "
        f"with Glorot the first layer's gradient is {data[sg]['grad_ratio']:.1e} of the "
        f"last layer's (Grohs's vanishing gradient), with N(0,1) "
        f"{data[sn]['grad_ratio']:.1e}, its 8 times larger weights offsetting the 1/4 "
        f"(gain 4 does the same without saturating). Test accuracy after training: Glorot "
        f"{acc(sg)}, N(0,1) {acc(sn)}.",
        f"Tanh: Glorot keeps the units in their linear range and learns (test acc "
        f"{acc(tg)}); N(0,1) saturates {pct(tn)} of them, the gradient explodes "
        f"(|dL/dW_1| = {data[tn]['grad_norm'][0]:.3g}) and the net does not learn "
        f"({acc(tn)}); the uniform recipe shrinks the signal (last/first std "
        f"{data[tu]['std_ratio']:.2f}) and learns slowly ({acc(tu)}).",
        f"ReLU: Kaiming's N(0, 2/fan_in) keeps the activations' scale (last/first std "
        f"{data[rk]['std_ratio']:.2f}, test acc {acc(rk)}); the uniform recipe fades "
        f"({data[ru]['std_ratio']:.2f}, {acc(ru)}); N(0,1) multiplies them by about "
        f"sqrt(fan_in / 2) = 5.7 per layer ({data[rn]['std_ratio']:.2g}) and training "
        f"{'diverges' if data[rn]['diverged'] else 'ends at test acc ' + acc(rn)}.",
        "Schwing & Telgarsky, Deep Neural Networks gives the two uniform recipes; N(0,1) (weights and biases) is Nielsen's "
        "network.py initialisation, used for Grohs's networks.",
    ]


def run(quick: bool = False, out: str = "lab-initialization") -> Report:
    """Measure every (activation, initialisation) pair at initialisation and after training.

    Quick: width 64, 150 SGD steps of 64 images; full: 600 steps. The network always has 10
    Linear layers (9 hidden), so the effects compound over depth as the lecture warns."""
    started = time.perf_counter()
    depth, width = 10, 64
    steps, batch, lr, seed = (150, 64, 0.05, 0) if quick else (600, 64, 0.05, 0)
    x, y = Digits(train=True).arrays()
    x_test, y_test = Digits(train=False).arrays()
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    probe = np.random.default_rng(seed).permutation(len(y))[:256]
    sizes = [64] + [width] * (depth - 1) + [10]

    report = Report("initialization")
    table = report.table(
        f"A {depth}-layer MLP {sizes[:3]}...{sizes[-2:]} at initialisation and after {steps} "
        f"SGD steps (lr {lr}, momentum 0.9, batch {batch}) on Digits",
        ["activation", "init", "std layer 1", f"std layer {depth - 1}", "std ratio last/first",
         "saturated units", "|dL/dW_1|", f"|dL/dW_1| / |dL/dW_{depth}|", "initial loss",
         "train loss (last 20 steps)", "test acc"])
    report.data = {}
    stats = {}
    with one_blas_thread():
        for activation, init, label in CONFIGS:
            _random.manual_seed(seed)
            model = _build(sizes, activation, init)
            s = layer_statistics(model, activation, x[probe], y[probe])
            stats[(activation, init, label)] = s
            final_loss, diverged = _train(model, x, y, steps, batch, lr, seed)
            test_acc, _ = _evaluate(model, x_test, y_test)
            if diverged:
                test_acc = float("nan")
            grads = s["grad_norm"]
            ratio = s["std"][-1] / s["std"][0] if s["std"][0] > 0 else float("nan")
            grad_ratio = grads[0] / grads[-1] if grads[-1] > 0 else float("nan")
            report.data[(activation, init)] = dict(s, final_loss=final_loss, diverged=diverged,
                                                   test_acc=test_acc, std_ratio=ratio,
                                                   grad_ratio=grad_ratio)
            share = f"{100 * float(np.mean(s['saturated'])):.0f}%"
            table.add(activation, label, s["std"][0], s["std"][-1], ratio,
                      "-" if activation == "relu" else share, grads[0], grad_ratio,
                      s["loss"], "diverged" if diverged else final_loss,
                      "-" if diverged else test_acc)
    report.notes.append(
        "std: standard deviation of a hidden layer's activations over 256 training digits "
        "and its units. Saturated: the share of hidden units (all layers) whose derivative is "
        "below 1% of its maximum (sigmoid a(1-a) < 0.0025, tanh 1 - a^2 < 0.01); a ReLU "
        "never saturates on the positive side (and zeroes about half its inputs whatever the "
        "initialisation). |dL/dW_l|: Frobenius norm of the gradient of the "
        "initial cross-entropy with respect to layer l's weights. Test acc on the 360 "
        "held-out digits (chance 0.1).")
    report.notes.extend(_conclusions(report.data))
    _plot(stats, out, report)
    report.notes.append(f"Data: the embedded Digits (lamina.data.Digits); "
                        f"{time.perf_counter() - started:.1f} s.")
    return report

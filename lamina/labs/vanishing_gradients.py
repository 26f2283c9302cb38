"""Vanishing gradients: per-layer gradient norms of a deep sigmoid network against ReLU.

Grohs, Introduction to (Convolutional) Neural Networks, §6 "Going Deep (?)": for a chain of sigmoid units the gradient with respect to an
early bias is bounded by

    |d Phi(x) / d b_1| <= 2 * prod_{l=2}^{L} |w_l| * e^{-sum_{l=1}^{L-1} |z_l|},

because backpropagation multiplies the error by W_l^T diag(sigma'(z_l)) once per layer and
sigma' = sigma (1 - sigma) <= 1/4: "bottom layers will learn *much* slower than top layers and
not contribute to learning". The remedy the lecture names is an activation with a 'large'
gradient, the ReLU (derivative 1 where it is active).

The lab trains two networks that differ only in the hidden activation: 64 inputs (the 8x8
digits), 6 hidden layers of 30 units, 10 outputs, Glorot-uniform weights and zero biases,
cross-entropy, minibatch SGD (eta = 0.1, K = 10). After every step it records the Frobenius
norm ||dC/dW_l|| of each layer's weight gradient.
"""
from __future__ import annotations

import numpy as np

import lamina as lm

from .. import nn, optim
from ..data import DataLoader, Digits
from ..models import mlp
from ..nn import functional as F
from ..train import evaluate
from .report import Report, save_figure

__all__ = ["run", "HIDDEN", "train_and_record"]

HIDDEN = [30] * 6
LEARNING_RATE = 0.1
BATCH_SIZE = 10


def train_and_record(activation: str, epochs: int, seed: int = 0) -> dict:
    """Train the [64, 30 x 6, 10] network with ``activation``; record per-step gradient norms.

    Returns ``{"norms": (steps, layers) array of ||dC/dW_l||, "steps_per_epoch": int,
    "accuracy": test accuracy, "shapes": weight shapes}``.
    """
    lm.manual_seed(seed)
    train, test = Digits(train=True), Digits(train=False)
    # The same initialisation for both networks, so that only the activation differs.
    model = mlp([64] + HIDDEN + [10], activation=activation, init="xavier")
    linears = [m for m in model if isinstance(m, nn.Linear)]
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, seed=seed)
    norms = []
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            norms.append([float(np.linalg.norm(layer.weight.grad.numpy())) for layer in linears])
            optimizer.step()
    result = evaluate(model, DataLoader(test, batch_size=len(test)), F.cross_entropy)
    return {"norms": np.array(norms), "steps_per_epoch": len(loader),
            "accuracy": result["accuracy"], "shapes": [tuple(m.weight.shape) for m in linears]}


def run(quick: bool = False, out: str = "lab-vanishing-gradients") -> Report:
    """Per-layer gradient norms at the start and end of training, sigmoid against ReLU."""
    epochs = 3 if quick else 30
    runs = {act: train_and_record(act, epochs) for act in ("sigmoid", "relu")}
    report = Report("vanishing-gradients")
    per_epoch = runs["sigmoid"]["steps_per_epoch"]
    # "start" and "end": means over the first and the last epoch, since single steps are noisy.
    stats = {}
    for act, r in runs.items():
        norms = r["norms"]
        stats[act] = {"start": norms[:per_epoch].mean(axis=0),
                      "end": norms[-per_epoch:].mean(axis=0)}
    layers = report.table(
        f"||dC/dW_l|| (mean over the first / last epoch of {epochs}), [64, 30 x 6, 10], "
        "Glorot init, SGD eta=0.1, K=10, digits",
        ["layer", "W_l shape", "sigmoid start", "sigmoid end", "sigmoid end / last layer",
         "relu start", "relu end", "relu end / last layer"])
    count = len(runs["sigmoid"]["shapes"])
    s, r = stats["sigmoid"], stats["relu"]
    for i in range(count):
        shape = "x".join(map(str, runs["sigmoid"]["shapes"][i]))
        name = f"{i + 1}" + (" (input)" if i == 0 else " (output)" if i == count - 1 else "")
        layers.add(name, shape, float(s["start"][i]), float(s["end"][i]),
                   float(s["end"][i] / s["end"][-1]), float(r["start"][i]), float(r["end"][i]),
                   float(r["end"][i] / r["end"][-1]))
    summary = report.table(
        "first layer against last layer: ||dC/dW_1|| / ||dC/dW_L||",
        ["network", "ratio at start", "ratio at end", "test accuracy", "Grohs, Introduction to (Convolutional) Neural Networks §6"])
    report.data = {"epochs": epochs, "steps_per_epoch": per_epoch}
    claims = {"sigmoid": "bottom layers learn much slower", "relu": "the remedy: ReLU"}
    for act, r in runs.items():
        start = float(stats[act]["start"][0] / stats[act]["start"][-1])
        end = float(stats[act]["end"][0] / stats[act]["end"][-1])
        summary.add(act, start, end, r["accuracy"], claims[act])
        report.data[act] = {"norms": r["norms"], "start": stats[act]["start"],
                            "end": stats[act]["end"], "ratio_start": start, "ratio_end": end,
                            "accuracy": r["accuracy"]}
    sig, relu = report.data["sigmoid"], report.data["relu"]
    report.notes.append(
        "Backpropagation multiplies the error by W_l^T diag(sigma'(z_l)) at every layer; "
        "sigma' <= 1/4 for the sigmoid, so with Glorot-sized weights each sigmoid layer divides "
        f"the gradient by about 4: here the first layer's gradient is {sig['ratio_end']:.1e} "
        f"times the last layer's, against {relu['ratio_end']:.2g} with ReLU, whose derivative "
        "is 1 on its active units. In the same number of steps the ReLU network reaches "
        f"{100 * relu['accuracy']:.1f}% test accuracy and the sigmoid network "
        f"{100 * sig['accuracy']:.1f}% (chance: 10%).")
    _plot(report, runs, out)
    return report


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    """A running mean over ``width`` steps along the first axis, for a readable plot."""
    width = max(1, min(width, len(values)))
    kernel = np.ones(width) / width
    return np.stack([np.convolve(values[:, j], kernel, mode="valid")
                     for j in range(values.shape[1])], axis=1)


def _plot(report: Report, runs: dict, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (act, r) in zip(axes, runs.items()):
        norms = _smooth(r["norms"], 20)
        cmap = plt.get_cmap("viridis")
        count = norms.shape[1]
        for i in range(count):
            ax.plot(norms[:, i], color=cmap(i / max(1, count - 1)), lw=1.2, label=f"layer {i + 1}")
        ax.set_yscale("log")
        ax.set_xlabel("SGD step (running mean over 20 steps)")
        ax.set_title(f"{act}: test accuracy {100 * r['accuracy']:.1f}%")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("||dC/dW_l||")
    axes[1].legend(fontsize=8, loc="lower right")
    fig.suptitle("Grohs, Introduction to (Convolutional) Neural Networks §6: the vanishing gradient problem ([64, 30 x 6, 10], Glorot init)")
    fig.tight_layout()
    save_figure(fig, out, "gradient_norms.png", report)

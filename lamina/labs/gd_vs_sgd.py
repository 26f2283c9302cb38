"""Full gradient descent against SGD and minibatch SGD; the minibatch gradient's variance.

Grohs, Introduction to (Convolutional) Neural Networks, §4 "Stochastic Gradient Descent": one gradient descent step on
F = sum_{i=1}^m F_i costs m backpropagations; SGD instead steps along nabla F_{i*} for one
i* drawn uniformly at random, an unbiased estimate of the full gradient. The lecture's
figure compares the two with "m steps of SGD counted as one iteration": "Initially very fast
convergence, followed by stagnation!" Minibatch SGD averages K sampled gradients; the
sample mean has standard deviation sigma / sqrt(K), so its variance falls as 1/K.

The problem here is multinomial logistic regression (``lamina.models.mlp([64, 10])``, a
softmax over one affine layer, cross-entropy loss) on the embedded 8x8 digits, the same
starting point and the same step size eta for every method.
"""
from __future__ import annotations

import math

import numpy as np

import lamina as lm

from .. import optim
from ..autograd.grad_mode import no_grad
from ..data import ArrayDataset, DataLoader, Digits
from ..models import mlp
from ..nn import functional as F
from ..random import generator
from .report import Report, save_figure

__all__ = ["run", "train_curve", "minibatch_gradient_variance"]

ETA = 0.5


def _problem(quick: bool):
    """The training set (a 600-image head of the digits with --quick) and the initial model."""
    digits = Digits(train=True)
    if quick:
        digits = ArrayDataset(digits.data[:600], digits.targets[:600], scale=float(digits.scale))
    lm.manual_seed(0)
    model = mlp([64, 10])  # no hidden layer: multinomial logistic regression
    return digits, model


def _full_loss(model, x, y) -> float:
    with no_grad():
        return F.cross_entropy(model(x), y).item()


def train_curve(dataset, model, batch_size: int, epochs: int, lr: float = ETA,
                seed: int = 1, evals_per_epoch: int = 10) -> dict:
    """Train ``model`` in place by minibatch SGD with batch ``batch_size`` (m: full GD).

    The full training loss F(u) is recorded every m / ``evals_per_epoch`` gradient
    evaluations (every step for GD), so that all methods share the x axis "epochs", one epoch
    being m gradient evaluations (the lecture's "m steps of SGD counted as one iteration").
    """
    m = len(dataset)
    x_all, y_all = (lm.tensor(a) for a in dataset.arrays())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=batch_size < m, seed=seed)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    every = max(1, math.ceil(m / evals_per_epoch))
    seen, next_eval, steps = 0, every, 0
    epochs_axis, updates_axis, losses = [0.0], [0], [_full_loss(model, x_all, y_all)]
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(y)
            steps += 1
            if seen >= next_eval or seen % m == 0:
                next_eval = (seen // every + 1) * every
                epochs_axis.append(seen / m)
                updates_axis.append(steps)
                losses.append(_full_loss(model, x_all, y_all))
    return {"epochs": np.array(epochs_axis), "updates": np.array(updates_axis),
            "loss": np.array(losses), "updates_per_epoch": len(loader)}


def _flat_grad(model) -> np.ndarray:
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()]).astype(np.float64)


def sample_gradients(dataset, model, index=None) -> np.ndarray:
    """Row i: the flattened gradient nabla F_i(u) of sample i's loss, one backward pass each
    (``index``: the samples to use; default all). Gradients are float64 copies."""
    x_all, y_all = dataset.arrays()
    rows = range(len(y_all)) if index is None else index
    out = []
    for i in rows:
        model.zero_grad()
        F.cross_entropy(model(lm.tensor(x_all[i:i + 1])), lm.tensor(y_all[i:i + 1])).backward()
        out.append(_flat_grad(model))
    return np.stack(out)


def minibatch_gradient_variance(dataset, model, sizes: list[int], draws: int) -> dict:
    """E ||g_K - nabla F||^2 against K at fixed parameters u.

    g_K = (1/K) sum_{l=1}^K nabla F_{i_l}(u) with i_1..i_K drawn independently and uniformly
    from {1..m} (lamina's generator), the lecture's unbiased estimator of
    nabla F = (1/m) sum_i nabla F_i; its variance is exactly sigma^2 / K with
    sigma^2 = (1/m) sum_i ||nabla F_i - nabla F||^2. The m per-sample gradients come from m
    lamina backward passes; each g_K is then the mean of K of them (the gradient of a
    minibatch's mean loss is the mean of its samples' gradients). K = 1 is measured exactly,
    over all m samples; each K > 1 over ``draws`` random minibatches.
    """
    grads = sample_gradients(dataset, model)
    m = grads.shape[0]
    full = grads.mean(axis=0)
    centred = grads - full
    rng = generator()
    variance = []
    for k in sizes:
        if k == 1:
            variance.append(float(np.mean(np.sum(centred ** 2, axis=1))))
            continue
        # Row r of `weights` puts 1/K on each draw of minibatch r, so weights @ centred is
        # g_K - nabla F for every minibatch at once.
        weights = np.zeros((draws, m))
        np.add.at(weights, (np.arange(draws)[:, None], rng.integers(0, m, (draws, k))), 1.0 / k)
        variance.append(float(np.mean(np.sum((weights @ centred) ** 2, axis=1))))
    variance = np.array(variance)
    slope, _ = np.polyfit(np.log(sizes), np.log(variance), 1)
    return {"sizes": np.array(sizes), "variance": variance, "slope": float(slope), "m": m}


def run(quick: bool = False, out: str = "lab-gd-vs-sgd") -> Report:
    """Loss curves of GD, SGD and minibatch SGD; the variance of g_K against K."""
    dataset, initial = _problem(quick)
    m = len(dataset)
    epochs = 4 if quick else 30
    start = {k: v.numpy().copy() for k, v in initial.state_dict().items()}
    methods = [("GD (K = m)", m), ("SGD (K = 1)", 1), ("minibatch K = 10", 10),
               ("minibatch K = 100", 100)]
    curves = {}
    for name, k in methods:
        initial.load_state_dict(start)
        curves[name] = dict(train_curve(dataset, initial, k, epochs), K=k)
    report = Report("gd-vs-sgd")
    table = report.table(
        f"training loss F(u) of logistic regression on {m} digits, eta = {ETA}, same start "
        f"(F(u_0) = {curves[methods[0][0]]['loss'][0]:.3f}); one epoch = m = {m} gradient "
        "evaluations",
        ["method", "K", "updates per epoch", "F after 1/10 epoch", "F after 1 epoch",
         f"F after {epochs} epochs"])
    for name, k in methods:
        c = curves[name]
        # GD has not moved yet a tenth of an epoch in: its first update needs all m samples.
        tenth = f"{c['loss'][0]:.4g} (no update yet)" if k >= m else \
            float(c["loss"][np.searchsorted(c["epochs"], 0.1)])
        after_one = c["loss"][np.searchsorted(c["epochs"], 1.0)]
        table.add(name, k, c["updates_per_epoch"], tenth, float(after_one), float(c["loss"][-1]))

    initial.load_state_dict(start)
    sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    draws = 1000 if quick else 4000
    var = minibatch_gradient_variance(dataset, initial, sizes, draws=draws)
    v1 = var["variance"][0]
    vt = report.table(
        "variance of the minibatch gradient at u_0, E||g_K - grad F||^2 (K = 1: exact over all "
        f"m samples; K > 1: {draws} minibatches of K independent uniform draws)",
        ["K", "measured variance", "Var(K=1) / K", "std(K=1) / std(K)",
         "sqrt(K) (Grohs, Introduction to (Convolutional) Neural Networks: sigma/sqrt(n))"])
    for k, v in zip(sizes, var["variance"]):
        vt.add(k, float(v), float(v1 / k), float(math.sqrt(v1 / v)), float(math.sqrt(k)))
    report.data = {"curves": curves, "variance": var, "m": m, "epochs": epochs}
    gd, sgd = curves["GD (K = m)"], curves["SGD (K = 1)"]
    report.notes.append(
        f"Fitted slope of log Var against log K: {var['slope']:.3f} (1/K predicts -1). Drawing "
        "the K indices without replacement, as a shuffled epoch does, multiplies the variance "
        "by (m-K)/(m-1) on top of 1/K.")
    one = np.searchsorted(sgd["epochs"], 1.0)
    report.notes.append(
        f"After {epochs} epochs (the same {epochs * m} gradient evaluations) SGD is at F = "
        f"{sgd['loss'][-1]:.3g} and GD at F = {gd['loss'][-1]:.3g}: GD has made {epochs} "
        f"updates, SGD {epochs * m}. SGD's loss fell from {sgd['loss'][0]:.3g} to "
        f"{sgd['loss'][one]:.3g} in its first epoch and only to {sgd['loss'][-1]:.3g} in the "
        f"{epochs - 1} after it, fluctuating from step to step with the gradient noise: the "
        "lecture's 'initially very fast convergence, followed by stagnation'.")
    report.notes.append(
        "Grohs, Introduction to (Convolutional) Neural Networks says 'increasing the batch size by a factor 100 yields an improvement of the "
        "variance by a factor 10'; the factor 10 is that of the standard deviation sigma/sqrt(K) "
        "(column std(K=1)/std(K)), the variance itself falls by a factor 100.")
    _plot(report, curves, var, out)
    return report


def _plot(report: Report, curves: dict, var: dict, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, c in curves.items():
        style = dict(marker="o", ms=4) if c["K"] == max(cc["K"] for cc in curves.values()) else {}
        axes[0].plot(c["epochs"], c["loss"], label=name, **style)
        axes[1].plot(np.maximum(c["updates"], 1), c["loss"], label=name, **style)
    axes[0].set_xlabel("epochs (m gradient evaluations; m SGD steps = one iteration)")
    axes[1].set_xlabel("parameter updates")
    axes[1].set_xscale("log")
    for ax in axes[:2]:
        ax.set_yscale("log")
        ax.set_ylabel("training loss F(u)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_title("Grohs, Introduction to (Convolutional) Neural Networks: GD against SGD")
    axes[1].set_title("the same runs against updates")
    k, v = var["sizes"], var["variance"]
    axes[2].loglog(k, v, "o-", label=f"measured (slope {var['slope']:.2f})")
    axes[2].loglog(k, v[0] / k, "--", label="Var(K=1) / K")
    axes[2].set_xlabel("minibatch size K")
    axes[2].set_ylabel("E ||g_K - grad F||^2")
    axes[2].set_title("variance of the minibatch gradient")
    axes[2].grid(alpha=0.3, which="both")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out, "gd_vs_sgd.png", report)

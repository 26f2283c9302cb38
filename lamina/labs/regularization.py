"""Regularisation against overfitting, and the sparsity of Lp penalties with p <= 1 (Grohs, Introduction to (Convolutional) Neural Networks).

Grohs, Introduction to (Convolutional) Neural Networks, "Dealing with Overfitting: Regularization": rather than minimising
``sum_i L(f, x_i, y_i)``, minimise ``sum_i L(f, x_i, y_i) + lambda Omega((W_l)_l)`` with
``Omega = sum_{l,i,j} |(W_l)_{ij}|^p``, whose gradient adds
``lambda p |(W_l)_{ij}|^{p-1} sgn((W_l)_{ij})`` to the update; since
``lim_{p -> 0} Omega = #nonzero weights``, "regularization with p <= 1 promotes sparse
connectivity". The lecture's other remedies are dropout ("drop nodes with probability p"),
noise on the weights ("to favour 'robust' stationary points") and "use invariances in
dataset to generate more data".

The lab trains one over-parameterised ReLU network (64 -> H -> H -> 10, a hundred times
more parameters than training images) on a small subset of the embedded digits, from the
same initial weights, once per remedy, and tabulates training and test accuracy and loss,
the gaps between them, and the fraction of near-zero weights. Every method uses full-batch
SGD with momentum 0.9 and a cosine-annealed step: unlike Adam, SGD does not rescale the
penalty's gradient per weight, so the penalties act exactly as the lecture's update says,
and the annealed step lets a weight that the penalty pins at zero settle there instead of
jumping across zero by ``lr * lambda * p |w|^{p-1}`` at every step.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from .. import nn
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import Digits
from ..data import transforms as T
from ..models import mlp
from ..nn import functional as F
from ..optim import SGD
from ..optim.lr_scheduler import CosineAnnealingLR
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "METHODS", "Method", "near_zero_fraction", "NEAR_ZERO"]

# A weight counts as "near zero" when |w| < NEAR_ZERO. The initial weights are uniform on
# +-1/sqrt(fan_in) (+-0.06 to +-0.125 here), so an unregularised network has about 1% of its
# weights below 1e-3, and training alone does not move them there; a weight the L1 penalty
# pins at zero oscillates about it by lr_t * lambda / (1 - momentum), which the cosine
# schedule takes from 1e-3 down to 0 by the last step. Pixels lie in [0, 1] and the used
# weights are around 0.05, so a weight below 1e-3 hardly moves its unit: the table checks
# this by setting all of them to zero ("pruned") and measuring the test accuracy again.
NEAR_ZERO = 1e-3

# "Use invariances in dataset to generate more data": a digit moved by one pixel (of 8) or
# turned by a few degrees is the same digit. Mirroring is not an invariance of digits.
AUGMENT = (T.RandomShift(1), T.RandomRotation(10.0))


@dataclasses.dataclass(frozen=True)
class Method:
    """One remedy: an Lp penalty ``lam * sum |W|^p`` on the weight matrices, dropout,
    N(0, noise^2) noise on every parameter when the gradient is taken, or augmentation."""

    name: str
    setting: str
    p: float | None = None
    lam: float = 0.0
    dropout: float = 0.0
    noise: float = 0.0
    augment: bool = False


METHODS: tuple[Method, ...] = (
    Method("none", "-"),
    Method("L2 (weight decay)", "p=2, lambda=1e-3", p=2.0, lam=1e-3),
    Method("L1", "p=1, lambda=1e-3", p=1.0, lam=1e-3),
    Method("Lp, p=0.5", "p=0.5, lambda=1e-3", p=0.5, lam=1e-3),
    Method("dropout", "p=0.5 after each hidden layer", dropout=0.5),
    Method("weight noise", "N(0, 0.1^2) on all parameters", noise=0.1),
    Method("augmentation", "shift +-1 px, rotate +-10 deg", augment=True),
)
_SPARSITY = ("none", "L2 (weight decay)", "L1", "Lp, p=0.5")


def near_zero_fraction(model: nn.Module, threshold: float = NEAR_ZERO) -> float:
    """The fraction of entries of the weight matrices (not biases) with ``|w| < threshold``."""
    weights = [p._data for name, p in model.named_parameters() if name.endswith("weight")]
    small = sum(int(np.count_nonzero(np.abs(w) < threshold)) for w in weights)
    return small / sum(w.size for w in weights)


def _scores(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in evaluation mode on (x, y)."""
    model.eval()
    with no_grad():
        out = model(Tensor._wrap(x))
        loss = F.cross_entropy(out, Tensor._wrap(y)).item()
    model.train()
    return float(np.mean(out._data.argmax(axis=1) == y)), loss


def _pruned_accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy with every weight-matrix entry below NEAR_ZERO set to 0 (then restored)."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    saved = [p._data.copy() for p in weights]
    with no_grad():
        for p in weights:
            p._data[np.abs(p._data) < NEAR_ZERO] = 0
    accuracy = _scores(model, x, y)[0]
    with no_grad():
        for p, value in zip(weights, saved):
            p._data[...] = value
    return accuracy


def _train(method: Method, initial: list, sizes: list, x: np.ndarray, y: np.ndarray,
           steps: int, lr: float, seed: int) -> nn.Module:
    """Full-batch SGD (momentum 0.9, cosine-annealed step) from the ``initial`` parameters."""
    model = mlp(sizes, "relu", dropout=method.dropout)
    params = list(model.parameters())
    with no_grad():  # copied in order: dropout layers shift the Sequential's indices
        for param, value in zip(params, initial):
            param._data[...] = value
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    optimizer = SGD(params, lr=lr, momentum=0.9)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    augment = T.Compose(AUGMENT)
    rng = np.random.default_rng(seed)  # augmentation draws
    _random.manual_seed(seed)  # dropout masks and weight noise
    targets = Tensor._wrap(y)
    for _ in range(steps):
        inputs = augment(x, rng) if method.augment else x
        if method.noise:
            # The gradient is taken at noisy weights w + eps and applied to w: descent on
            # E_eps L(w + eps), whose minima are the 'robust' ones, flat in every direction.
            clean = [p._data.copy() for p in params]
            nn.utils.add_weight_noise_(params, method.noise)
        loss = F.cross_entropy(model(Tensor._wrap(inputs)), targets)
        if method.p is not None:
            loss = loss + method.lam * nn.utils.lp_penalty(weights, p=method.p)
        optimizer.zero_grad()
        loss.backward()
        if method.noise:
            with no_grad():
                for p, value in zip(params, clean):
                    p._data[...] = value
        optimizer.step()
        schedule.step()
    return model



def _plot(models: dict, out: str, report: Report) -> None:
    """Histogram of log10 |w| for the penalties: p <= 1 piles weights up below the threshold."""
    plt = report.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(-7, 0, 71)
    for name in _SPARSITY:
        w = np.concatenate([p._data.ravel() for key, p in models[name].named_parameters()
                            if key.endswith("weight")])
        ax.hist(np.log10(np.maximum(np.abs(w), 1e-7)), bins=bins, histtype="step", label=name)
    ax.axvline(np.log10(NEAR_ZERO), color="k", linestyle=":", label=f"|w| = {NEAR_ZERO:g}")
    ax.set_xlabel("log10 |w|  (weights below 1e-7 in the first bin)")
    ax.set_ylabel("number of weights")
    ax.set_title("Weights after training: p <= 1 sends many to zero (Grohs, Introduction to (Convolutional) Neural Networks)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    save_figure(fig, out, "weights.png", report)


def run(quick: bool = False, out: str = "lab-regularization") -> Report:
    """Train the same over-parameterised MLP with each remedy of Grohs, Introduction to (Convolutional) Neural Networks and compare.

    Quick: 200 training digits, hidden width 128, 200 steps, one training subset. Full: 300
    digits, width 256, 500 steps, averaged over three random training subsets (and initial
    weights). The test set is always the 360 held-out digits.
    """
    started = time.perf_counter()
    n_train, hidden, steps, seeds = (200, 128, 200, (0,)) if quick else (300, 256, 500, (0, 1, 2))
    lr = 0.1
    x_all, y_all = Digits(train=True).arrays()
    x_test, y_test = Digits(train=False).arrays()
    sizes = [64, hidden, hidden, 10]
    rows = {m.name: [] for m in METHODS}
    models = {}
    with one_blas_thread():
        for seed in seeds:
            chosen = np.random.default_rng(seed).permutation(len(y_all))[:n_train]
            x, y = x_all[chosen], y_all[chosen]
            _random.manual_seed(seed)
            initial = [p._data.copy() for p in mlp(sizes, "relu").parameters()]
            for method in METHODS:
                model = _train(method, initial, sizes, x, y, steps, lr, seed)
                train_acc, train_loss = _scores(model, x, y)
                test_acc, test_loss = _scores(model, x_test, y_test)
                rows[method.name].append((train_acc, test_acc, train_loss, test_loss,
                                          near_zero_fraction(model),
                                          _pruned_accuracy(model, x_test, y_test)))
                models[method.name] = model

    report = Report("regularization")
    averaged = "" if len(seeds) == 1 else f", mean of {len(seeds)} training subsets"
    table = report.table(
        f"Regularisation: {n_train} training digits, the {len(y_test)} held-out for testing "
        f"(MLP {sizes}, ReLU, {steps} full-batch SGD steps{averaged})",
        ["method", "setting", "train acc", "test acc", "acc gap", "train loss", "test loss",
         "loss gap", f"|w| < {NEAR_ZERO:g}", "test acc, those set to 0"])
    report.data = {}
    for method in METHODS:
        train_acc, test_acc, train_loss, test_loss, fraction, pruned = np.mean(rows[method.name],
                                                                               axis=0)
        report.data[method.name] = {
            "train_acc": float(train_acc), "test_acc": float(test_acc),
            "gap": float(train_acc - test_acc), "train_loss": float(train_loss),
            "test_loss": float(test_loss), "loss_gap": float(test_loss - train_loss),
            "near_zero": float(fraction), "pruned_test_acc": float(pruned)}
        table.add(method.name, method.setting, float(train_acc), float(test_acc),
                  float(train_acc - test_acc), float(train_loss), float(test_loss),
                  float(test_loss - train_loss), f"{100 * fraction:.1f}%", float(pruned))
    n_params = sum(p.numel() for p in mlp(sizes).parameters())
    report.notes.append(
        f"{n_params} parameters for {n_train} images; every method starts from the same "
        "initial weights. Gaps: train minus test accuracy, test minus train cross-entropy. "
        "Weight noise: at every step fresh noise is added to the parameters, the gradient is "
        "taken there, and the noise is removed before the update. "
        "Grohs, Introduction to (Convolutional) Neural Networks: 'regularization with p <= 1 promotes sparse connectivity' -- compare the "
        f"sparsity columns: L1 and p = 0.5 put {100 * report.data['L1']['near_zero']:.0f}% "
        f"and {100 * report.data['Lp, p=0.5']['near_zero']:.0f}% of the weights below "
        f"{NEAR_ZERO:g}, and setting those to zero leaves the test accuracy as it was (the "
        "lecture's 'small memory requirements'); L2 only shrinks the weights, leaving "
        f"{100 * report.data['L2 (weight decay)']['near_zero']:.1f}% there, against "
        f"{100 * report.data['none']['near_zero']:.1f}% with no penalty (weights.png).")
    report.notes.append(
        "On digits this small most methods still fit the training set; the remedies show "
        "mostly in the test loss (an overfitted net is over-confident on the test digits it "
        "gets wrong) and by a few test images in accuracy.")
    _plot(models, out, report)
    report.notes.append(f"Data: the embedded Digits (lamina.data.Digits); "
                        f"{time.perf_counter() - started:.1f} s.")
    return report

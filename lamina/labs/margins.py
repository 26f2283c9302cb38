"""From cross-entropy to the hinge: the epsilon-smoothed framework of Schwing & Telgarsky,
"Deep Neural Networks" (recap of "our earlier framework"):

    min_w  C/2 ||w||^2 + sum_i ( eps ln sum_yhat exp((L(y_i, yhat) + F(w, x_i, yhat)) / eps)
                                 - F(w, x_i, y_i) ).

The lecture gets logistic regression, the binary SVM, multiclass regression and the
multiclass SVM from this one objective: eps = 1 with L = 0 is the cross-entropy (logistic
regression for a linear F); eps -> 0 with the 0-1 task loss is the (multiclass) hinge.
And "a deep net with a single fully connected layer is equivalent to logistic regression".

Part (a) evaluates :func:`lamina.nn.functional.smooth_structured_hinge_loss` on fixed scores
as eps goes 1, 0.5, 0.1, 0.01, 0, beside the two limits computed independently
(``F.cross_entropy``, and the Crammer-Singer and binary hinges written out in NumPy), and
checks the bound 0 <= loss(eps) - loss(0) <= eps ln C. Part (b) fits, on three 2-D Gaussian
classes, ``lamina.classic.LogisticRegression`` and ``LinearSVC`` and a one-layer lamina net
(``nn.Linear``) trained on the lecture's objective at eps = 1 (L = 0, L-BFGS) and eps = 0
(L = 0-1, subgradient descent), with the same C; the net and the classic model should reach
the same objective value, hence the same classifier. Pictures: margins.png (decision
regions) and smoothing.png (the loss against the margin, and against eps).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import lamina as lm

from .. import nn, optim
from ..classic import LinearSVC, LogisticRegression
from ..nn import functional as F
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "EPSILONS", "fixed_scores", "three_blobs", "objective"]

EPSILONS = (1.0, 0.5, 0.1, 0.01, 0.0)
DARK, LIGHT = ["#d62728", "#1f77b4", "#2ca02c"], ["#f7c6c6", "#c6dbef", "#c7e9c0"]  # per class
C_SKLEARN = 1.0   # scikit-learn's C; the lecture's C is 1 / C_SKLEARN (see lamina.classic.linear)


def fixed_scores() -> tuple[np.ndarray, np.ndarray]:
    """Six samples' scores F (6, 4) for four classes, and their labels (fixed, seeded)."""
    rng = np.random.default_rng(9)
    return 1.5 * rng.standard_normal((6, 4)), np.array([0, 1, 2, 3, 1, 2])


def three_blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping Gaussian classes in the plane (centres on a triangle, sd 0.75)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 1.2], [-1.1, -0.7], [1.1, -0.7]])
    y = rng.integers(0, 3, n)
    return centres[y] + 0.75 * rng.standard_normal((n, 2)), y


def _crammer_singer(F, y):
    """max(0, 1 + max_{j != y} F_j - F_y), the multiclass SVM hinge, directly."""
    other = np.where(np.arange(F.shape[1]) == y[:, None], -np.inf, F)
    return np.maximum(0.0, 1.0 + other.max(axis=1) - F[np.arange(len(y)), y])


def objective(W, b, X, y, epsilon: float, task_loss: str, penalise_bias: bool) -> float:
    """The lecture's objective C/2 ||w||^2 + sum_i loss_i for the linear scores X W^T + b
    (C = 1 / C_SKLEARN; w includes b when ``penalise_bias``, as in LinearSVC)."""
    scores = lm.tensor(X @ np.asarray(W).T + np.asarray(b))
    data = F.smooth_structured_hinge_loss(scores, lm.tensor(y), task_loss, epsilon, "sum").item()
    norm = float(np.sum(np.square(W)) + (np.sum(np.square(b)) if penalise_bias else 0.0))
    return data + norm / (2 * C_SKLEARN)


# ----------------------------------------------------------------- (a) the two limits
def _smoothing(report: Report) -> None:
    scores, labels = fixed_scores()
    n_classes = scores.shape[1]
    loss = lambda s, t, task, eps: F.smooth_structured_hinge_loss(  # noqa: E731
        lm.tensor(s), lm.tensor(t), task, eps, "none").numpy()
    hinge = loss(scores, labels, "zero_one", 0.0)
    table = report.table(
        f"(a) the smoothed loss on fixed scores ({len(labels)} samples, C = {n_classes} "
        "classes), mean over samples",
        ["epsilon", "L = 0-1", "minus the hinge (eps = 0)", "bound eps ln C", "L = 0"])
    rows = []
    for eps in EPSILONS:
        zero_one, zero = loss(scores, labels, "zero_one", eps), loss(scores, labels, "zero", eps)
        gaps = zero_one - hinge
        rows.append({"epsilon": eps, "zero_one": float(zero_one.mean()), "zero": float(zero.mean()),
                     "gap_min": float(gaps.min()), "gap_max": float(gaps.max()),
                     "bound": eps * math.log(n_classes)})
        table.add(eps, rows[-1]["zero_one"], float(gaps.mean()), rows[-1]["bound"],
                  rows[-1]["zero"])
    # the limits, against independent computations
    ce = F.cross_entropy(lm.tensor(scores), lm.tensor(labels), reduction="none").numpy()
    two = scores[:, :2]
    t2 = labels % 2
    sign, margin = 2.0 * t2 - 1, two[:, 1] - two[:, 0]
    limits = [
        ("eps = 1, L = 0", "logistic regression", loss(scores, labels, "zero", 1.0),
         "F.cross_entropy", ce),
        ("eps = 0, L = 0-1", "multiclass SVM", hinge,
         "max(0, 1 + max_{j != y} F_j - F_y) (NumPy)", _crammer_singer(scores, labels)),
        ("eps = 0, L = 0-1, 2 classes", "binary SVM", loss(two, t2, "zero_one", 0.0),
         "max(0, 1 - y f), f = F_1 - F_0 (NumPy)", np.maximum(0.0, 1 - sign * margin)),
    ]
    lim = report.table("(a) the limits of the smoothed loss, against direct computations",
                       ["setting", "lecture (Schwing & Telgarsky)", "smoothed loss (mean)",
                        "reference", "reference (mean)", "max |difference|"])
    report.data["limits"] = {}
    for setting, claim, ours, what, ref in limits:
        diff = float(np.max(np.abs(ours - ref)))
        lim.add(setting, claim, float(ours.mean()), what, float(ref.mean()), diff)
        report.data["limits"][claim] = {"ours": float(ours.mean()), "reference": float(ref.mean()),
                                        "max_abs_diff": diff}
    report.data["smoothing"] = rows


# ----------------------------------------------------------------- (b) classic vs one layer
def _train_net(X, y, epsilon: float, task_loss: str, penalise_bias: bool, steps: int):
    """nn.Linear trained on (C/2 ||w||^2 + sum_i loss_i) / n from W = 0: L-BFGS for the smooth
    eps > 0 objective, subgradient descent with momentum and steps 0.5 / sqrt(k) at eps = 0."""
    model = nn.Linear(X.shape[1], int(y.max()) + 1).double()
    with lm.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    inputs, labels = lm.tensor(X), lm.tensor(y)
    criterion = nn.SmoothStructuredHingeLoss(task_loss, epsilon, reduction="sum")
    history = []

    def scaled_objective():
        norm = (model.weight ** 2).sum()
        if penalise_bias:
            norm = norm + (model.bias ** 2).sum()
        return (criterion(model(inputs), labels) + norm / (2 * C_SKLEARN)) / len(y)

    if epsilon > 0:
        opt = optim.LBFGS(model.parameters(), lr=1, max_iter=steps, tolerance_grad=1e-10,
                          tolerance_change=1e-14, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            value = scaled_objective()
            value.backward()
            history.append(value.item() * len(y))
            return value
        opt.step(closure)
    else:
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        for k in range(steps):
            for group in opt.param_groups:
                group["lr"] = 0.5 / math.sqrt(k + 1)
            opt.zero_grad()
            value = scaled_objective()
            value.backward()
            opt.step()
            history.append(value.item() * len(y))
    return model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy(), history


def _compare(report: Report, quick: bool) -> None:
    n_train, n_test, steps = (300, 600, 300) if quick else (1000, 4000, 3000)
    X, y = three_blobs(n_train, seed=1)
    Xt, yt = three_blobs(n_test, seed=2)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    X, Xt = (X - mean) / sd, (Xt - mean) / sd
    predict = lambda W, b, A: np.argmax(A @ W.T + b, axis=1)  # noqa: E731
    fitted = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lr = LogisticRegression(C=C_SKLEARN, max_iter=100, tol=1e-8).fit(X, y)
        svc = LinearSVC(C=C_SKLEARN, max_iter=1000, tol=1e-5, random_state=0).fit(X, y)
    fitted["LogisticRegression"] = (lr.coef_, lr.intercept_, 1.0, "zero", False, "Newton")
    fitted["LinearSVC"] = (svc.coef_, svc.intercept_, 0.0, "zero_one", True, "Pegasos SGD")
    net1 = _train_net(X, y, 1.0, "zero", False, 200)
    net0 = _train_net(X, y, 0.0, "zero_one", True, steps)
    fitted["net, eps = 1, L = 0"] = (net1[0], net1[1], 1.0, "zero", False, "L-BFGS")
    fitted["net, eps = 0, L = 0-1"] = (net0[0], net0[1], 0.0, "zero_one", True,
                                       f"subgradient, {steps} steps")
    table = report.table(
        f"(b) three 2-D Gaussian classes ({n_train} train / {n_test} test), C = {C_SKLEARN:g} "
        "(scikit-learn's), the same objective for a classic model and a one-layer net",
        ["model", "objective (eps, L)", "trained by", "objective value", "train acc (%)",
         "test acc (%)", "test predictions equal to the classic model's (%)"])
    rows = {}
    partner = {"net, eps = 1, L = 0": "LogisticRegression", "net, eps = 0, L = 0-1": "LinearSVC"}
    for name, (W, b, eps, task, pen, how) in fitted.items():
        value = objective(W, b, X, y, eps, task, pen)
        same = (100.0 * float(np.mean(predict(W, b, Xt) == predict(*fitted[partner[name]][:2], Xt)))
                if name in partner else None)
        accuracy = lambda A, labels: 100 * float(np.mean(predict(W, b, A) == labels))  # noqa: E731
        rows[name] = {"objective": value, "train_accuracy": accuracy(X, y),
                      "test_accuracy": accuracy(Xt, yt),
                      "agreement": same, "W": np.asarray(W).tolist(), "b": np.asarray(b).tolist()}
        table.add(name, f"eps = {eps:g}, L = {'0' if task == 'zero' else '0-1'}"
                  + (", b penalised" if pen else ""), how, value, rows[name]["train_accuracy"],
                  rows[name]["test_accuracy"],
                  "-" if same is None else f"{same:.2f} ({partner[name]})")
    report.data["models"] = rows
    report.data["net_histories"] = {"eps=1": net1[2], "eps=0": net0[2]}
    report.data["weight_gap_logistic"] = float(np.max(np.abs(net1[0] - lr.coef_)))
    report.data["data"] = {"X": X, "y": y, "Xt": Xt, "yt": yt}
    report.notes.append(
        "The lecture's remark \"a deep net with a single fully connected layer is equivalent to "
        "logistic regression\": the one-layer net trained on the eps = 1, L = 0 objective "
        f"reaches the objective {rows['net, eps = 1, L = 0']['objective']:.6f} against "
        f"LogisticRegression's {rows['LogisticRegression']['objective']:.6f}; their weights "
        f"differ by at most {report.data['weight_gap_logistic']:.2e}. At eps = 0, L = 0-1 the "
        "net minimises LinearSVC's objective (the bias penalised, as liblinear does) by "
        "subgradient descent; both solvers are approximate on this non-smooth objective, and "
        "the lower objective value is the better solution.")
    if caught:
        report.notes.append("warnings while fitting: " + "; ".join(sorted({str(w.message)
                                                                           for w in caught})))


# ----------------------------------------------------------------- pictures
def _plot(report: Report, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    # smoothing.png: the two-class loss against the margin m = F_y - F_other; the mean vs eps
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    m = np.linspace(-2.5, 3.5, 301)
    scores = np.stack([np.zeros_like(m), m], axis=1)
    target = np.ones(len(m), dtype=np.int64)
    for eps in EPSILONS:
        value = F.smooth_structured_hinge_loss(lm.tensor(scores), lm.tensor(target), "zero_one",
                                               eps, "none").numpy()
        left.plot(m, value, lw=2 if eps == 0 else 1.3,
                  label=f"eps = {eps:g}, L = 0-1" + (" (hinge max(0, 1 - m))" if eps == 0 else ""))
    logistic = F.smooth_structured_hinge_loss(lm.tensor(scores), lm.tensor(target), "zero", 1.0,
                                              "none").numpy()
    left.plot(m, logistic, "k--", lw=1.3, label="eps = 1, L = 0 (logistic ln(1 + e^-m))")
    left.set_xlabel("margin m = F(x, y) - F(x, other class)")
    left.set_ylabel("loss")
    left.set_title("two classes: smoothing the hinge")
    left.grid(alpha=0.3)
    left.legend(fontsize=7)
    rows = report.data["smoothing"]
    hinge = rows[-1]["zero_one"]
    eps_grid = np.logspace(-3, 0.3, 60)
    s, t = fixed_scores()
    curve = [F.smooth_structured_hinge_loss(lm.tensor(s), lm.tensor(t), "zero_one", e).item()
             for e in eps_grid]
    right.semilogx(eps_grid, curve, label="mean loss, L = 0-1")
    right.fill_between(eps_grid, hinge, hinge + eps_grid * math.log(s.shape[1]), alpha=0.2,
                       label="hinge + [0, eps ln C]")
    right.axhline(hinge, color="k", lw=0.8, label=f"eps = 0 (hinge) {hinge:.3f}")
    right.plot([r["epsilon"] for r in rows[:-1]], [r["zero_one"] for r in rows[:-1]], "o", ms=4)
    right.set_xlabel("epsilon")
    right.set_ylabel("mean loss on the fixed scores")
    right.set_title("eps -> 0 converges to the multiclass hinge")
    right.grid(alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle("Schwing & Telgarsky, Deep Neural Networks: eps ln sum exp((L + F) / eps) - F_y",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, out, "smoothing.png", report)

    # margins.png: decision regions of the four models, test points on top
    data = report.data["data"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    both = np.concatenate([data["X"], data["Xt"]])
    lo, hi = both.min(axis=0), both.max(axis=0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for ax, (name, row) in zip(axes, report.data["models"].items()):
        W, b = np.asarray(row["W"]), np.asarray(row["b"])
        region = np.argmax(grid @ W.T + b, axis=1).reshape(gx.shape)
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5, 2.5], colors=LIGHT)
        ax.scatter(data["Xt"][:, 0], data["Xt"][:, 1], c=[DARK[k] for k in data["yt"]], s=4)
        ax.set_title(f"{name}\ntest {row['test_accuracy']:.1f}%, objective {row['objective']:.2f}",
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("logistic regression, linear SVM and one-layer nets on the lecture's objective",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, out, "margins.png", report)


def run(quick: bool = False, out: str = "lab-margins") -> Report:
    """Tabulate the smoothed loss between its limits and compare the four linear classifiers."""
    report = Report("margins")
    with one_blas_thread():
        _smoothing(report)
        _compare(report, quick)
        _plot(report, out)
    del report.data["data"]      # arrays, for the pictures only
    return report

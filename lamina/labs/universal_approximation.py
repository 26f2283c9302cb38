"""Universal approximation: one hidden layer of sigmoid units, and why sigma must not be a
polynomial.

Grohs, Introduction to (Convolutional) Neural Networks, §2 "Universal Approximation": if sigma is continuous and not a polynomial, then
for every continuous f on a compact K and every eps > 0 there is a width N_1 and a network
Phi(x) = sum_{i=1}^{N_1} c_i sigma(w_i . x - b_i) (plus an output bias) with
sup_{x in K} |f(x) - Phi(x)| <= eps. If sigma is a polynomial of degree r, sigma(A x) is a
polynomial of degree <= r for every affine A, so every such network is a polynomial of degree
<= r and its error cannot fall below that of the best polynomial of degree r, whatever the
width.

Methods (the tables' columns name them):

* least squares: the hidden layer A_1 is drawn at random (w_i ~ N(0, S^2) per coordinate,
  b_i = w_i . p_i for a point p_i uniform in K, so that every unit's transition crosses K)
  and the output layer (c, bias) is the least-squares solution over a training grid (the
  minimiser of the quadratic cost for that hidden layer; a 1e-12 ridge on the normalised
  columns keeps the solve stable, so errors bottom out near 1e-6). The network is a lamina
  ``nn.Sequential`` in float64: the features come from its forward pass and the solution is
  written into its output ``Linear``.
* Adam (1-D only): every layer trained by full-batch Adam in lamina from the same random
  hidden layer, minimising the mean squared error on the training grid.

Errors are measured on a grid finer than the training grid (10 times per axis in 1-D, 4
times in 2-D): the sup error max |f - Phi| and the mean error mean |f - Phi|.
"""
from __future__ import annotations

import math

import numpy as np

import lamina as lm

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..random import generator
from .report import Report, save_figure

__all__ = ["run", "Power", "f_1d", "f_2d", "fit_least_squares", "fit_adam",
           "polynomial_floor", "POLY_DEGREE"]

POLY_DEGREE = 3
WEIGHT_SCALE = 10.0  # S: the standard deviation of the random hidden weights


def f_1d(x: np.ndarray) -> np.ndarray:
    """f(x) = sin(2 pi x) + x^2 on [0, 1]; ``x`` has shape (n, 1)."""
    return np.sin(2 * np.pi * x[:, 0]) + x[:, 0] ** 2


def f_2d(x: np.ndarray) -> np.ndarray:
    """A bump on [0, 1]^2: f(x, y) = exp(-10 ((x - 0.4)^2 + (y - 0.6)^2))."""
    return np.exp(-10.0 * ((x[:, 0] - 0.4) ** 2 + (x[:, 1] - 0.6) ** 2))


def _grid(points: int, dim: int) -> np.ndarray:
    """A regular grid of ``points`` per axis on [0, 1]^dim, shape (points^dim, dim)."""
    axes = np.meshgrid(*[np.linspace(0.0, 1.0, points)] * dim, indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


class Power(nn.Module):
    """The polynomial activation sigma(t) = t^degree, elementwise."""

    def __init__(self, degree: int) -> None:
        super().__init__()
        self.degree = degree

    def forward(self, x):
        return x ** self.degree

    def extra_repr(self) -> str:
        return f"degree={self.degree}"


def _network(dim: int, width: int, activation: str):
    """Phi = A_2 sigma(A_1 x) in float64, A_1 random as described in the module docstring."""
    rng = generator()
    sigma = nn.Sigmoid() if activation == "sigmoid" else Power(POLY_DEGREE)
    net = nn.Sequential(nn.Linear(dim, width), sigma, nn.Linear(width, 1)).double()
    w = rng.normal(0.0, WEIGHT_SCALE, (width, dim))
    p = rng.uniform(0.0, 1.0, (width, dim))
    net[0].weight._data[...] = w
    net[0].bias._data[...] = -np.sum(w * p, axis=1)
    return net


def _errors(net, x: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    with no_grad():
        values = net(lm.tensor(x, dtype=lm.float64)).numpy()[:, 0]
    err = np.abs(values - target)
    return float(err.max()), float(err.mean()), values


def fit_least_squares(net, x: np.ndarray, y: np.ndarray, ridge: float = 1e-12) -> None:
    """Set the output layer of ``net`` to the least-squares solution over (x, y).

    With the design matrix H = [sigma(A_1 x), 1] and its columns scaled to unit norm
    (H = H_n D), c = D^{-1} (H_n^T H_n + ridge I)^{-1} H_n^T y: the normal equations with a
    tiny ridge, which keeps the rank-deficient polynomial designs solvable and is much faster
    than an SVD-based solver on a shared machine.
    """
    with no_grad():
        features = net[1](net[0](lm.tensor(x, dtype=lm.float64))).numpy()
    design = np.column_stack([features, np.ones(len(x))])
    scale = np.linalg.norm(design, axis=0)
    scale[scale == 0] = 1.0
    design /= scale
    gram = design.T @ design
    gram[np.diag_indices_from(gram)] += ridge
    coef = np.linalg.solve(gram, design.T @ y) / scale
    net[2].weight._data[...] = coef[None, :-1]
    net[2].bias._data[...] = coef[-1:]


def fit_adam(net, x: np.ndarray, y: np.ndarray, steps: int, lr: float = 0.03) -> None:
    """Train every layer of ``net`` by full-batch Adam on the mean squared error, with the
    learning rate annealed to 0 along a cosine."""
    inputs = lm.tensor(x, dtype=lm.float64)
    targets = lm.tensor(y[:, None], dtype=lm.float64)
    optimizer = optim.Adam(net.parameters(), lr=lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        loss = F.mse_loss(net(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()


def polynomial_floor(x: np.ndarray, target: np.ndarray, degree: int) -> float:
    """min over polynomials p of degree <= ``degree`` of the RMS of f - p on the grid ``x``.

    Every network with activation t^degree and one hidden layer is such a polynomial, and
    its sup error on the grid is at least its RMS error there, so this number bounds the sup
    error of every one of them from below, at every width.
    """
    dim = x.shape[1]
    exponents = [e for e in np.ndindex(*(degree + 1,) * dim) if sum(e) <= degree]
    design = np.column_stack([np.prod(x ** np.array(e), axis=1) for e in exponents])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return float(math.sqrt(np.mean((design @ coef - target) ** 2)))


def _study(report: Report, dim: int, widths: list[int], train_points: int,
           adam_steps: int) -> dict:
    """One table: width against the errors of the sigmoid and polynomial networks."""
    f = f_1d if dim == 1 else f_2d
    x_train, x_eval = _grid(train_points, dim), _grid(10 * (train_points - 1) + 1, dim)
    if dim == 2:  # a 10x finer grid in 2-D would be 10^2 times larger: 4x finer suffices
        x_eval = _grid(4 * (train_points - 1) + 1, dim)
    y_train, y_eval = f(x_train), f(x_eval)
    floor = polynomial_floor(x_eval, y_eval, POLY_DEGREE)
    columns = ["width N_1", "sigmoid sup error", "sigmoid mean error"]
    if adam_steps:
        columns += [f"sigmoid, Adam {adam_steps} steps: sup error", "Adam: mean error"]
    columns += [f"t^{POLY_DEGREE} sup error", f"t^{POLY_DEGREE} mean error"]
    name = "f(x) = sin(2 pi x) + x^2 on [0, 1]" if dim == 1 else \
        "f(x, y) = exp(-10 ((x - 0.4)^2 + (y - 0.6)^2)) on [0, 1]^2"
    table = report.table(
        f"{name}: one hidden layer of width N_1; output layer by least squares over "
        f"{len(x_train)} grid points, errors on {len(x_eval)} grid points", columns)
    result = {"widths": widths, "sigmoid_sup": [], "sigmoid_mean": [], "adam_sup": [],
              "adam_mean": [], "poly_sup": [], "poly_mean": [], "floor": floor,
              "x_eval": x_eval, "y_eval": y_eval, "fits": {}}
    for width in widths:
        row: list = [width]
        sig = _network(dim, width, "sigmoid")
        start = {k: v.numpy().copy() for k, v in sig.state_dict().items()}
        fit_least_squares(sig, x_train, y_train)
        sup, mean, values = _errors(sig, x_eval, y_eval)
        result["sigmoid_sup"].append(sup)
        result["sigmoid_mean"].append(mean)
        result["fits"][("sigmoid", width)] = values
        row += [sup, mean]
        if adam_steps:
            sig.load_state_dict(start)  # the same random hidden layer, before least squares
            fit_adam(sig, x_train, y_train, adam_steps)
            sup, mean, values = _errors(sig, x_eval, y_eval)
            result["adam_sup"].append(sup)
            result["adam_mean"].append(mean)
            result["fits"][("adam", width)] = values
            row += [sup, mean]
        poly = _network(dim, width, "poly")
        fit_least_squares(poly, x_train, y_train)
        sup, mean, values = _errors(poly, x_eval, y_eval)
        result["poly_sup"].append(sup)
        result["poly_mean"].append(mean)
        result["fits"][("poly", width)] = values
        table.add(*row, sup, mean)
    report.notes.append(
        f"{name}: the sigmoid network's sup error falls from {result['sigmoid_sup'][0]:.3g} "
        f"(N_1 = {widths[0]}) to {result['sigmoid_sup'][-1]:.3g} (N_1 = {widths[-1]}); the "
        f"network with sigma(t) = t^{POLY_DEGREE} is a polynomial of degree {POLY_DEGREE} at "
        f"every width, so its sup error stays at or above {floor:.3g}, the RMS error of the "
        f"best degree-{POLY_DEGREE} polynomial on the grid (it is {min(result['poly_sup']):.3g} "
        "at best).")
    return result


def run(quick: bool = False, out: str = "lab-universal-approximation") -> Report:
    """The sup error against the width in 1-D and 2-D, sigmoid against t^3."""
    lm.manual_seed(0)
    report = Report("universal-approximation")
    one = _study(report, 1, [2, 4, 8, 16, 32] if quick else [2, 4, 8, 16, 32, 64, 128],
                 201, adam_steps=600 if quick else 3000)
    two = _study(report, 2, [4, 16, 64, 256] if quick else [4, 8, 16, 32, 64, 128, 256, 512],
                 26 if quick else 41, adam_steps=0)
    report.data = {"1d": one, "2d": two}
    adam, widths = one["adam_sup"], one["widths"]
    report.notes.append(
        f"Method: hidden weights w_i ~ N(0, {WEIGHT_SCALE:g}^2) with biases placing each unit's "
        "transition at a random point of the domain; output layer (c_i and the bias) by least "
        "squares (normal equations, 1e-12 ridge), the minimiser of the quadratic cost given "
        "the hidden layer: the error of the best output layer for that width. The Adam "
        "column (1-D) trains all layers, the hidden one included, by gradient descent in "
        f"lamina from the same start: its sup error goes from {adam[0]:.3g} (N_1 = "
        f"{widths[0]}) to {adam[-1]:.3g} (N_1 = {widths[-1]}), and past a few units it is "
        "limited by the number of optimisation steps rather than by the width. Grohs, Introduction to (Convolutional) Neural Networks §2: "
        "'one hidden layer is enough if the number of nodes is sufficient', provided sigma is "
        "not a polynomial.")
    _plot(report, one, two, out)
    return report


def _plot(report: Report, one: dict, two: dict, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    # fixed margins: a layout engine would re-measure every label several times (slow)
    fig.subplots_adjust(left=0.06, right=0.9, bottom=0.06, top=0.92, wspace=0.3, hspace=0.3)
    x = one["x_eval"][:, 0]
    ax = axes[0, 0]
    ax.plot(x, one["y_eval"], "k", lw=3, alpha=0.35, label="f")
    for width in one["widths"][:3]:
        ax.plot(x, one["fits"][("sigmoid", width)], lw=1, label=f"sigmoid, N_1 = {width}")
    big = one["widths"][-1]
    ax.plot(x, one["fits"][("poly", big)], "--", lw=1.5,
            label=f"t^{POLY_DEGREE}, N_1 = {big}")
    ax.set_title("1-D fits (least squares output layer)")
    ax.legend(fontsize=8)
    for ax, data, title in ((axes[0, 1], one, "1-D"), (axes[0, 2], two, "2-D")):
        w = data["widths"]
        ax.loglog(w, data["sigmoid_sup"], "o-", label="sigmoid, least squares")
        if data["adam_sup"]:
            ax.loglog(w, data["adam_sup"], "s-", label="sigmoid, Adam")
        ax.loglog(w, data["poly_sup"], "^-", label=f"t^{POLY_DEGREE}, least squares")
        ax.axhline(data["floor"], color="gray", ls=":",
                   label=f"degree-{POLY_DEGREE} floor {data['floor']:.2g}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(w, [str(v) for v in w], minor=False)
        ax.minorticks_off()
        ax.set_xlabel("width N_1")
        ax.set_ylabel("sup |f - Phi|")
        ax.set_title(f"{title}: sup error against width")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    side = int(round(math.sqrt(len(two["y_eval"]))))
    mid = two["widths"][len(two["widths"]) // 2]
    big = two["widths"][-1]
    images = [(two["y_eval"], "f (a bump)"),
              (two["fits"][("sigmoid", mid)], f"sigmoid, N_1 = {mid}"),
              (two["fits"][("poly", big)], f"t^{POLY_DEGREE}, N_1 = {big}")]
    for ax, (values, title) in zip(axes[1], images):
        shown = ax.imshow(values.reshape(side, side).T, origin="lower", extent=(0, 1, 0, 1),
                          vmin=-0.2, vmax=1.0, cmap="viridis")
        ax.set_title(f"2-D: {title}")
    fig.colorbar(shown, cax=fig.add_axes((0.92, 0.06, 0.015, 0.38)))
    fig.suptitle("Grohs, Introduction to (Convolutional) Neural Networks §2: universal approximation needs a non-polynomial sigma")
    save_figure(fig, out, "universal_approximation.png", report)

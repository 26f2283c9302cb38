"""Block-coordinate descent against gradient descent on a deep linear network; why the problem
is not convex (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks).

The lecture, "Training DNNs" and "Strategies for training DNNs": the empirical risk

    f(W_1, ..., W_J) = (1/N) sum_i || y_i - W_J ... W_2 W_1 x_i ||_2^2        (2), sigma_j = I

of a deep linear network is "not jointly convex in set of all weights ... due to composition
and coupling among each layer" ("simple two layer linear NN example"), yet in each W_j alone
it is a least-squares problem: "Block-coordinate descent (BCD): Optimize layer j, W_j, while
fixing others ... suitable for DNN without activation func (deep linear networks)". And
"Practical Issues": the step size alpha^{(k)} of the per-layer gradient step (u.2) is
constant (alpha = c), or decays as 1/k or 1/sqrt(k).

The lab

1. fits a deep linear network [8, 4, 4, 6] (a bottleneck of width 4, so the best map has rank
   4 and f* comes from reduced-rank regression, computed by an SVD) to N = 200 noisy samples
   of a random linear map, from one initialisation, by
   - exact BCD (``lamina.optim.BlockCoordinateDescent`` with a ``DeepLinearLeastSquares``
     problem): each iteration k sets W_1, W_2, W_3 in turn to W_j = A^+ Y B^+;
   - gradient BCD: one gradient step per layer in turn, alpha_j = 1/L_j per layer (L_j, the
     Lipschitz constant of df/dW_j, a parameter group's ``lr``);
   - full gradient descent (all layers at once) with alpha^{(k)} = c, c/k and c/sqrt(k);
   and tabulates f(W^{(k)}) - f* (one iteration = every layer updated once);
2. computes Hessians with ``lamina.autograd.functional.hessian``: the lecture's two-layer
   example f(w_1, w_2) = (y - w_2 w_1 x)^2 at x = y = 1 and w = 0 (eigenvalues -2 and 2: a
   saddle, and f(1, 1) = f(-1, -1) = 0 < f(0, 0) = 1 breaks convexity), a small two-layer
   linear network's loss at W = 0 and at a random point (eigenvalues of both signs), and,
   for contrast, the one-layer least-squares loss, whose Hessian (2/N) X^T X (x) I is
   positive semi-definite everywhere.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from .. import random as _random
from ..autograd.functional import hessian
from ..autograd.tensor import Tensor
from ..models import mlp
from ..optim import SGD, BlockCoordinateDescent, DeepLinearLeastSquares
from ..optim.lr_scheduler import InverseTimeLR
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "SIZES", "STEP", "reduced_rank_optimum", "hessian_matrix"]

SIZES = (8, 4, 4, 6)   # d_0, d_1, d_2, d_3: three layers, rank <= 4 < 6 outputs
SAMPLES = 200
STEP = 0.1             # c of the gradient-descent step sizes c, c/k, c/sqrt(k)
NOISE = 0.1
LECTURE = "Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks"


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, SIZES[0]))
    target = rng.standard_normal((SIZES[0], SIZES[-1])) / np.sqrt(SIZES[0])
    return x, x @ target + NOISE * rng.standard_normal((SAMPLES, SIZES[-1]))


def reduced_rank_optimum(x: np.ndarray, y: np.ndarray, rank: int) -> float:
    """min f over affine maps of rank <= ``rank``: the least-squares fit with intercept, its
    centred fitted values cut to their ``rank`` leading singular directions (Eckart-Young)."""
    xa = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    fitted = xa @ np.linalg.lstsq(xa, y, rcond=None)[0]
    mean = fitted.mean(axis=0)
    u, s, vt = np.linalg.svd(fitted - mean, full_matrices=False)
    best = mean + (u[:, :rank] * s[:rank]) @ vt[:rank]
    return float(((y - best) ** 2).sum() / len(x))


def _exact_bcd(problem, iterations: int) -> list:
    bcd = BlockCoordinateDescent(problem.blocks(), exact=problem)
    curve = [problem.loss()]
    for _ in range(iterations):
        bcd.sweep()
        curve.append(problem.loss())
    return curve


def _gradient_bcd(problem, iterations: int) -> list:
    bcd = BlockCoordinateDescent(problem.blocks())
    curve = [problem.loss()]
    for _ in range(iterations):
        for _ in range(len(problem.layers)):
            j = bcd.current_block
            bcd.param_groups[j]["lr"] = 1.0 / problem.block_lipschitz(j)  # alpha_j = 1/L_j
            bcd.zero_grad()
            problem.loss_tensor().backward()
            bcd.step()
        curve.append(problem.loss())
    return curve


def _gradient_descent(problem, iterations: int, power: float | None) -> list:
    params = [p for layer in problem.layers for p in layer.parameters()]
    optimizer = SGD(params, lr=STEP)
    schedule = None if power is None else InverseTimeLR(optimizer, power=power)
    curve = [problem.loss()]
    for _ in range(iterations):
        optimizer.zero_grad()
        problem.loss_tensor().backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        curve.append(problem.loss())
    return curve


METHODS = (  # name, step size in words, how to run it
    ("exact BCD", "W_j = A^+ Y B^+", _exact_bcd),
    ("gradient BCD", "alpha_j = 1/L_j per layer", _gradient_bcd),
    ("gradient descent", f"alpha = c = {STEP:g}", lambda p, n: _gradient_descent(p, n, None)),
    ("gradient descent, 1/k", f"alpha_k = {STEP:g}/k", lambda p, n: _gradient_descent(p, n, 1.0)),
    ("gradient descent, 1/sqrt(k)", f"alpha_k = {STEP:g}/sqrt(k)",
     lambda p, n: _gradient_descent(p, n, 0.5)),
)


def hessian_matrix(func, inputs: tuple) -> np.ndarray:
    """The Hessian of ``func`` at ``inputs`` (a tuple of Tensors) as one symmetric matrix over
    all their entries, from the blocks H[i][j] that ``hessian`` returns."""
    blocks = hessian(func, inputs)
    sizes = [t.numel() for t in inputs]
    return np.block([[blocks[i][j].numpy().reshape(sizes[i], sizes[j])
                      for j in range(len(inputs))] for i in range(len(inputs))])


def example(w: Tensor) -> Tensor:
    """The lecture's "simple two layer linear NN example": f(w_1, w_2) = (y - w_2 w_1 x)^2 with
    x = y = 1."""
    return (1 - w[1] * w[0]) ** 2


def _example_at(w1: float, w2: float) -> float:
    return float(example(Tensor._wrap(np.array([w1, w2]))).item())


SHORT_NAMES = ("example,\nw = 0", "2-layer,\nW = 0", "2-layer,\nrandom W", "1-layer,\nrandom W")


def _hessians(seed: int) -> list:
    """(what, where, eigenvalues, lecture's claim) for the lecture's example and the nets."""
    rng = np.random.default_rng(seed)
    n = 50
    x = Tensor._wrap(rng.standard_normal((n, 3)))
    y = Tensor._wrap(rng.standard_normal((n, 2)))

    def two_layer(w1, w2):               # (1/N) ||Y - X W_1^T W_2^T||_F^2
        d = x @ w1.t() @ w2.t() - y
        return (d * d).sum() / n

    def one_layer(w):                    # (1/N) ||Y - X W^T||_F^2: convex least squares
        d = x @ w.t() - y
        return (d * d).sum() / n

    zeros = (Tensor._wrap(np.zeros((2, 3))), Tensor._wrap(np.zeros((2, 2))))
    point = (Tensor._wrap(rng.standard_normal((2, 3))), Tensor._wrap(rng.standard_normal((2, 2))))
    rows = [
        ("lecture's example (1 - w_2 w_1)^2", "w = (0, 0)",
         hessian_matrix(example, (Tensor._wrap(np.zeros(2)),)), "not jointly convex"),
        ("two-layer linear net, 3 -> 2 -> 2", "W = 0", hessian_matrix(two_layer, zeros),
         "not jointly convex"),
        ("two-layer linear net, 3 -> 2 -> 2", "random W", hessian_matrix(two_layer, point),
         "not jointly convex"),
        ("one-layer least squares, 3 -> 2", "random W",
         hessian_matrix(one_layer, (Tensor._wrap(rng.standard_normal((2, 3))),)),
         "convex (least squares)"),
    ]
    analytic = 2.0 / n * np.kron(np.eye(2), x._data.T @ x._data)  # (2/N) I (x) X^T X
    return rows, analytic


def _plot(report: Report, curves: dict, fstar: float, spectra: list, out: str) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for name, curve in curves.items():
        gap = np.maximum(np.asarray(curve) - fstar, 1e-16)
        axes[0].plot(range(len(curve)), np.log10(gap), label=name)
    axes[0].set_xlabel("iteration k (every layer updated once)")
    axes[0].set_title(f"deep linear net {list(SIZES)}: log10 (f(W^(k)) - f*)")
    axes[0].legend(fontsize=8)
    for row, (what, where, eig, _) in enumerate(spectra):
        axes[1].scatter(eig, np.full(len(eig), row), s=18,
                        c=["tab:red" if e < -1e-9 else "tab:blue" for e in eig])
    axes[1].axvline(0.0, color="k", linewidth=0.8)
    axes[1].set_yticks(range(len(spectra)), list(SHORT_NAMES), fontsize=8)
    axes[1].set_xlabel("eigenvalue")
    axes[1].set_title("Hessian eigenvalues (red: negative)")
    w = np.linspace(-2, 2, 201)
    w1, w2 = np.meshgrid(w, w)
    axes[2].contour(w1, w2, np.log10((1 - w1 * w2) ** 2 + 1e-3), levels=15)
    axes[2].plot([0], [0], "rx")
    axes[2].plot([1, -1], [1, -1], "o", color="white", markeredgecolor="k")
    axes[2].set_xlabel("w_1")
    axes[2].set_ylabel("w_2")
    axes[2].set_title("lecture's example: log10 (1 - w_2 w_1)^2\nsaddle at 0 (x), minima on "
                      "w_1 w_2 = 1 (dots: (1, 1), (-1, -1))", fontsize=10)
    fig.suptitle(f"{LECTURE}: block-coordinate descent and non-convexity")
    fig.subplots_adjust(left=0.04, right=0.98, top=0.84, bottom=0.12, wspace=0.45)
    save_figure(fig, out, "bcd.png", report)


def run(quick: bool = False, out: str = "lab-block-coordinate-descent", seed: int = 0) -> Report:
    """Exact BCD, gradient BCD and gradient descent on one deep linear least-squares problem;
    Hessian eigenvalues of two-layer and one-layer losses. Quick: 30 iterations, else 300."""
    started = time.perf_counter()
    iterations = 30 if quick else 300
    x, y = _data(seed)
    xs, ys = Tensor._wrap(x), Tensor._wrap(y)
    _random.manual_seed(seed)
    initial = mlp(list(SIZES), "identity").double()
    fstar = reduced_rank_optimum(x, y, min(SIZES[1:-1]))
    curves = {}
    with one_blas_thread():
        for name, _, method in METHODS:
            model = copy.deepcopy(initial)  # every method starts from the same weights
            curves[name] = method(DeepLinearLeastSquares(model, xs, ys), iterations)
        spectra_rows, analytic = _hessians(seed)
    report = Report("block-coordinate-descent")
    checkpoints = [k for k in (0, 1, 2, 5, 10, 20, 30, 100, 300) if k <= iterations]
    table = report.table(
        f"deep linear network {list(SIZES)} (identity activations), N = {SAMPLES}: "
        f"f(W^(k)) - f* at iteration k, f* = {fstar:.4f} (best rank-{min(SIZES[1:-1])} map)",
        ["method", "step size"] + [f"k={k}" for k in checkpoints])
    for name, step, _ in METHODS:
        table.add(name, step, *[float(curves[name][k] - fstar) for k in checkpoints])
    spectra = [(what, where, np.linalg.eigvalsh(h), claim)
               for what, where, h, claim in spectra_rows]
    hess = report.table("Hessians by lamina.autograd.functional.hessian: extreme eigenvalues",
                        ["loss", "at", "lambda_min", "lambda_max", "lamina: convex here?",
                         f"lecture ({LECTURE})"])
    for what, where, eig, claim in spectra:
        hess.add(what, where, float(eig[0]), float(eig[-1]),
                 "yes (PSD)" if eig[0] >= -1e-10 else "no (indefinite)", claim)
    report.data = {
        "sizes": list(SIZES), "fstar": fstar, "iterations": iterations,
        "curves": {name: [float(v) for v in curve] for name, curve in curves.items()},
        "hessians": [{"loss": what, "at": where, "eigenvalues": [float(e) for e in eig]}
                     for what, where, eig, _ in spectra],
        "one_layer_hessian_error": float(np.abs(spectra_rows[3][2] - analytic).max()),
        "example_values": {"f(1,1)": _example_at(1, 1), "f(-1,-1)": _example_at(-1, -1),
                           "f(0,0)": _example_at(0, 0)},
    }
    report.notes.append(
        f"{LECTURE}, \"Strategies for training DNNs\": BCD optimises one layer with the others "
        "fixed, which for a deep linear network is a least-squares problem solved exactly by "
        "W_j = A^+ Y B^+ (A, B the products of the layers after and before j), so f never "
        "increases. Here it reaches f* within a few sweeps, while gradient descent with the "
        f"same start needs many more iterations; with alpha_k = {STEP:g}/k the steps add up "
        f"to only about {STEP:g} ln k and descent stalls, {STEP:g}/sqrt(k) decays more gently "
        "(\"Practical Issues\"). Gradient BCD uses one step size per layer, alpha_j = 1/L_j, "
        "as the parameter group's lr.")
    report.notes.append(
        "\"Training DNNs\": f is not jointly convex. The lecture's two-layer example "
        "f(w_1, w_2) = (1 - w_2 w_1)^2 has f(1, 1) = f(-1, -1) = 0 but f(0, 0) = 1 > 0 at their "
        "midpoint, and its Hessian at 0 has eigenvalues -2 and 2 (a saddle); a two-layer "
        "linear network's loss has Hessian eigenvalues of both signs, the one-layer loss's "
        f"Hessian is (2/N) I (x) X^T X >= 0 (lamina's equals it to "
        f"{report.data['one_layer_hessian_error']:.1e}).")
    _plot(report, curves, fstar, spectra, out)
    report.notes.append(f"{time.perf_counter() - started:.1f} s.")
    return report

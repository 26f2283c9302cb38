"""The learning rules before backpropagation, computed (Dehaqani, "Introduction to Neural
Networks").

- "Hebbian Learning": w_i <- w_i + eta x_i y "is fundamentally unstable ... learning is
  unbounded". With y = w . x the norm grows geometrically; the growth per epoch is the
  spectral radius of the product of the per-sample maps (I + eta x x^T). Oja's rule (not in
  the lecture) adds the missing weight decay and stays at ||w|| = 1.
- "History: ADALINE": the LMS / delta rule descends the squared error of the linear output,
  so the mean squared error per epoch falls to the least-squares optimum (NumPy's lstsq).
- "Multilayer perceptron: MADALINE; training": MRII (flip the unit whose z is closest to 0)
  trains two Adalines and an OR gate to compute XOR.
- "RBF networks as universal approximators": one RBF unit makes the "cylinder" that the
  linear perceptrons need N -> infinity units for; sums of scaled and shifted cylinders,
  thinner and thinner, approximate a function.
- "McCulloch and Pitts Model": N3(t) = N1(t-1) or N2(t-1) and the other delayed
  propositions; "networks with loops can remember" (a latch); "Reducing a Boolean Function".
"""
from __future__ import annotations

import numpy as np

from ..classic import (REDUCTION_SLIDE_TERMS, REDUCTION_SLIDE_VARIABLES, UNIVERSAL_BOOLEAN_TABLE,
                       Adaline, Hebbian, Madaline, circle_network, delayed_gate, dnf_expression,
                       dnf_network, dnf_truth_table, memory_latch, rbf_design, reduce_dnf,
                       reduced_dnf_network, truth_table)
from .report import Report, one_blas_thread, save_figure

__all__ = ["run"]

LECTURE = "Dehaqani, Introduction to Neural Networks"


def _grid(lo: float, hi: float, n: int) -> np.ndarray:
    g = np.linspace(lo, hi, n)
    return np.stack([a.ravel() for a in np.meshgrid(g, g)], axis=1)


def _hebb(report: Report, epochs: int) -> dict:
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0.0, 0.0], [[2.0, 1.2], [1.2, 1.0]], size=50)
    lr, n = 0.01, len(X)
    hebb = Hebbian(lr=lr, epochs=epochs, random_state=0).fit(X)
    oja = Hebbian(lr=lr, epochs=epochs, random_state=0, rule="oja").fit(X)
    A = np.concatenate([np.ones((n, 1)), X], axis=1)  # the bias as a weight, as Hebbian does
    M = np.eye(3)
    for x in A:  # one epoch of Hebb's rule is the linear map P_n ... P_1, P_i = I + eta x_i x_i^T
        M = (np.eye(3) + lr * np.outer(x, x)) @ M
    predicted = float(np.max(np.abs(np.linalg.eigvals(M))))
    measured = float(hebb.weight_norms_[-1] / hebb.weight_norms_[-1 - n])
    top = np.linalg.eigh(A.T @ A / n)[1][:, -1]
    w_oja = np.concatenate([[oja.intercept_], oja.coef_])
    cosine = float(abs(w_oja @ top) / np.linalg.norm(w_oja))
    steps = [s for s in (1, 10, 50, 100, 250, 500, 1000, 2000, 5000) if s <= n * epochs]
    table = report.table(f"Hebb's rule w <- w + eta x y with y = w . x ({LECTURE}, 'Hebbian "
                         f"Learning'), eta = {lr}, {n} correlated 2-D points, {epochs} epochs",
                         ["update", "||w|| Hebb", "||w|| Oja: w <- w + eta y (x - y w)"])
    for s in steps:
        table.add(s, float(hebb.weight_norms_[s - 1]), float(oja.weight_norms_[s - 1]))
    report.notes.append(
        f"Hebb: 'learning is unbounded' (the lecture). ||w|| is multiplied by {measured:.4f} per "
        f"epoch; the spectral radius of one epoch's map prod_i (I + eta x_i x_i^T) is "
        f"{predicted:.4f}. Oja's rule ends at ||w|| = {oja.weight_norms_[-1]:.4f}, and |cos| "
        f"between its w and the leading eigenvector of E[x x^T] is {cosine:.4f}.")
    return {"steps": steps, "hebb_norms": hebb.weight_norms_.tolist(),
            "oja_norms": oja.weight_norms_.tolist(), "growth_measured": measured,
            "growth_predicted": predicted, "oja_final_norm": float(oja.weight_norms_[-1]),
            "oja_cosine": cosine}


def _lms(report: Report, epochs: int) -> dict:
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal([-1.0, -0.5], 1.0, (50, 2)), rng.normal([1.0, 0.5], 1.0, (50, 2))])
    y = np.repeat([0, 1], 50)
    order = rng.permutation(100)  # sorted classes would bias the online rule's last updates
    X, y = X[order], y[order]
    A, d = np.concatenate([np.ones((100, 1)), X], axis=1), 2.0 * y - 1.0  # Adaline's targets
    w_star = np.linalg.lstsq(A, d, rcond=None)[0]
    optimum = float(np.mean((d - A @ w_star) ** 2))
    H = A.T @ A / len(A)  # MSE(w) = MSE(w*) + (w - w*)^T H (w - w*)
    batch_lr, online_lr = 0.1, 0.003
    batch = Adaline(lr=batch_lr, epochs=epochs, batch=True).fit(X, y)
    online = Adaline(lr=online_lr, epochs=epochs).fit(X, y)
    mse_batch, mse_online = 2.0 * batch.cost_, 2.0 * online.cost_  # cost_ is 1/2 mean (d - z)^2
    # Batch LMS from w = 0 is w_k - w* = (I - eta H)^k (0 - w*): its excess MSE in closed form.
    error, theory = -w_star, []
    for _ in range(epochs):
        error = error - batch_lr * H @ error
        theory.append(optimum + float(error @ H @ error))
    table = report.table(f"ADALINE / LMS ({LECTURE}, 'History: ADALINE'): mean squared error of "
                         "the linear output z per epoch, 100 points of two classes, d = -1/+1",
                         ["epoch", f"batch LMS (eta = {batch_lr})",
                          "batch, theory: w* + (I - eta H)^k (w_0 - w*)",
                          f"online LMS, the lecture's rule (eta = {online_lr})",
                          "least-squares optimum (np.linalg.lstsq)"])
    for e in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if e <= epochs:
            table.add(e, *(f"{v:.8f}" for v in (mse_batch[e - 1], theory[e - 1],
                                                 mse_online[e - 1], optimum)))
    w_batch = np.concatenate([[batch.intercept_], batch.coef_])
    lam_min = float(np.linalg.eigvalsh(H)[0])
    report.notes.append(
        f"LMS: batch LMS ends {mse_batch[-1] - optimum:.2e} above the least-squares MSE "
        f"{optimum:.6f} (weights within {np.abs(w_batch - w_star).max():.1e} of lstsq's), on the "
        f"curve the linear theory predicts; its excess shrinks at last by (1 - eta lambda_min)^2 = "
        f"{(1 - batch_lr * lam_min) ** 2:.4f} per epoch. The online rule with a fixed eta hovers "
        f"{mse_online[-1] - optimum:.1e} above it.")
    return {"optimum": optimum, "mse_batch": mse_batch.tolist(), "mse_online": mse_online.tolist(),
            "mse_theory": theory, "weight_error": float(np.abs(w_batch - w_star).max())}


def _madaline(report: Report, seeds: int) -> dict:
    X = 2 * truth_table(2) - 1  # Widrow's bipolar inputs
    y = np.array([0, 1, 1, 0])
    net = Madaline(hidden_units=2, lr=1.0, epochs=200, output="or", random_state=0).fit(X, y)
    h = net.hidden_outputs(X)
    z = X @ net.coef_.T + net.intercept_
    table = report.table(f"MADALINE on XOR, trained by MRII ({LECTURE}): 2 Adalines, fixed OR "
                         f"output, converged after {net.n_epochs_} epochs",
                         ["x1", "x2", "XOR", "z1", "z2", "h1", "h2", "output"])
    output = net.predict(X)
    for i in range(4):
        table.add(int(X[i, 0]), int(X[i, 1]), int(y[i]), float(z[i, 0]), float(z[i, 1]),
                  int(h[i, 0]), int(h[i, 1]), int(output[i]))
    runs = [Madaline(2, 1.0, 200, random_state=s).fit(X, y) for s in range(seeds)]
    solved = sum(bool(r.converged_ and (r.predict(X) == y).all()) for r in runs)
    report.notes.append(
        f"MADALINE: trained, not wired; MRII solved XOR from {solved} of {seeds} random starts "
        f"(seeds 0..{seeds - 1}), in {np.mean([r.n_epochs_ for r in runs]):.1f} epochs on average. "
        "The lecture calls the underlying search NP-complete: MRII is a heuristic.")
    return {"correct": bool((output == y).all()), "converged": bool(net.converged_),
            "solved": solved, "seeds": seeds, "outputs": output.tolist()}


def _rbf(report: Report, resolution: int, sizes: tuple, plots: dict) -> dict:
    P = _grid(-1.5, 1.5, resolution)
    cell = (3.0 / (resolution - 1)) ** 2
    disk = (P ** 2).sum(1) <= 1.0  # the cylinder of radius 1 over the plane
    table = report.table(f"A cylinder of radius 1 ({LECTURE}, 'RBF networks as universal "
                         "approximators'): threshold perceptrons against one RBF unit",
                         ["units", "construction", "area outside the cylinder (grid)",
                          "area outside, exact: N tan(pi/N) - pi"])
    errors = {}
    for N in (4, 8, 16, 64):
        errors[N] = float((circle_network(n=N).predict(P) != disk).sum() * cell)
        table.add(N + 1, f"{N} half-planes + AND (N-gon)", errors[N], N * np.tan(np.pi / N) - np.pi)
    beta = float(np.log(2.0))  # exp(-beta r^2) = 1/2 at r = 1: the half-height contour is the circle
    rbf_unit = rbf_design(P, np.zeros((1, 2)), beta)[:, 0]
    errors["rbf"] = float(((rbf_unit >= 0.5) != disk).sum() * cell)
    table.add(1, "one RBF unit exp(-beta ||x||^2) >= 1/2", errors["rbf"], 0.0)

    def g(Q):  # a smooth target surface over [-2, 2]^2
        return np.sin(2 * Q[:, 0]) * np.cos(1.5 * Q[:, 1]) + 0.5 * np.exp(-4 * ((Q - 0.5) ** 2).sum(1))

    train, test = _grid(-2, 2, 41), _grid(-2, 2, 61)
    fits = report.table("Sums of scaled and shifted cylinders: K x K Gaussian RBF units on a grid, "
                        "width = spacing (thinner as K grows), heights by least squares",
                        ["K x K units", "width", "RMS error on a 61 x 61 grid",
                         "perceptron units for the same cylinders as 64-gons"])
    rms = []
    for K in sizes:
        c = np.linspace(-2, 2, K)
        C = np.stack([a.ravel() for a in np.meshgrid(c, c)], axis=1)
        width = c[1] - c[0]
        heights = np.linalg.lstsq(rbf_design(train, C, 1 / width ** 2), g(train), rcond=None)[0]
        approx = rbf_design(test, C, 1 / width ** 2) @ heights
        rms.append(float(np.sqrt(np.mean((approx - g(test)) ** 2))))
        fits.add(K * K, float(width), rms[-1], K * K * 65)
    plots["rbf"] = (P, rbf_unit, disk, test, g(test), approx, resolution)
    return {"area_error": {str(k): v for k, v in errors.items()}, "rms": rms, "sizes": list(sizes)}


def _memory(report: Report, plots: dict) -> dict:
    rng = np.random.default_rng(2)
    T = 10
    x = rng.integers(0, 2, (T, 2))
    gates = {kind: delayed_gate(kind).run(x)[:, 0] for kind in ("or", "and", "and not")}
    table = report.table(f"McCulloch-Pitts units with a one-step synaptic delay ({LECTURE})",
                         ["t", "N1(t)", "N2(t)", "N3(t) = N1(t-1) or N2(t-1)",
                          "N1(t-1) and N2(t-1)", "N1(t-1) and ~N2(t-1)"])
    for t in range(T):
        table.add(t, int(x[t, 0]), int(x[t, 1]), *(int(gates[k][t]) for k in gates))
    prev = np.vstack([[0, 0], x[:-1]])  # the inputs are silent before t = 0
    truth = {"or": prev[:, 0] | prev[:, 1], "and": prev[:, 0] & prev[:, 1],
             "and not": prev[:, 0] & (1 - prev[:, 1])}
    pulses = {"set": np.zeros(T, int), "reset": np.zeros(T, int)}
    pulses["set"][1], pulses["reset"][6] = 1, 1
    latch = memory_latch().run(pulses)[:, 0]
    memory = report.table("Networks with loops can remember: M(t) = (set(t-1) or M(t-1)) and "
                          "~reset(t-1), M feeding back into itself, reset inhibitory",
                          ["t", "set(t)", "reset(t)", "M(t)"])
    for t in range(T):
        memory.add(t, int(pulses["set"][t]), int(pulses["reset"][t]), int(latch[t]))
    plots["memory"] = (x, gates, pulses, latch)
    return {"gates_match": {k: bool((gates[k] == truth[k]).all()) for k in gates},
            "latch": latch.tolist()}


def _reduction(report: Report) -> dict:
    slide_table = dnf_truth_table(REDUCTION_SLIDE_TERMS)
    slide_terms = reduce_dnf(slide_table)
    table5 = UNIVERSAL_BOOLEAN_TABLE
    terms5 = reduce_dnf(table5)
    X4, X5 = truth_table(4), truth_table(5)
    ok4 = bool((reduced_dnf_network(slide_table).predict(X4) == slide_table[:, -1]).all())
    ok5 = bool((reduced_dnf_network(table5).predict(X5) == dnf_network(table5).predict(X5)).all())
    table = report.table(f"Reducing a Boolean function ({LECTURE}): merge true rows that differ "
                         "in one variable (Quine-McCluskey), then the fewest groups that cover",
                         ["function", "hidden units: full DNF", "reduced DNF (lamina)",
                          "hidden units: reduced", "lecture"])
    table.add("the slide's Karnaugh map (W, X, Y, Z)", int(slide_table[:, -1].sum()),
              dnf_expression(slide_terms, REDUCTION_SLIDE_VARIABLES), len(slide_terms),
              dnf_expression(REDUCTION_SLIDE_TERMS, REDUCTION_SLIDE_VARIABLES) + ": 3 units")
    table.add("the 5-input truth table (X1..X5)", len(table5), dnf_expression(terms5), len(terms5),
              "6 units (not reduced)")
    literals = lambda terms: sum(len(t) - t.count("-") for t in terms)  # noqa: E731
    rows = table5[:, :-1]
    neighbours = [" and ".join("".join(map(str, rows[k])) for k in (i, j))
                  for i in range(len(rows)) for j in range(i + 1, len(rows))
                  if (rows[i] != rows[j]).sum() == 1]
    report.notes.append(
        f"Reduction: the slide's map needs {len(slide_terms)} hidden units (the lecture: 3); "
        f"lamina's cover has {literals(slide_terms)} literals, the slide's "
        f"{literals(REDUCTION_SLIDE_TERMS)}. In the 5-input table only the true rows "
        f"{'; '.join(neighbours) or 'none'} differ in one variable, so its minimal DNF has "
        f"{len(terms5)} terms. Both reduced networks equal their truth tables on every input: "
        f"{ok4 and ok5}.")
    return {"slide_units": len(slide_terms), "table5_units": len(terms5), "correct": ok4 and ok5}


def _plots(report: Report, out: str, plots: dict) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    hebb, lms = report.data["hebb"], report.data["lms"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(hebb["hebb_norms"], label="Hebb: w <- w + eta x y")
    ax.semilogy(hebb["oja_norms"], label="Oja: w <- w + eta y (x - y w)")
    ax.set(xlabel="update (presentation of one point)", ylabel="||w||",
           title="Hebb's rule: 'learning is unbounded' (Dehaqani)")
    ax.grid(alpha=0.3), ax.legend()
    fig.tight_layout()
    save_figure(fig, out, "hebb.png", report)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(lms["mse_batch"]) + 1)
    for key, label in (("mse_batch", "batch LMS"), ("mse_online", "online LMS")):
        left.plot(epochs, lms[key], label=label)
        right.semilogy(epochs, np.maximum(np.array(lms[key]) - lms["optimum"], 1e-16), label=label)
    left.axhline(lms["optimum"], color="k", ls="--", label="lstsq optimum")
    left.set(xlabel="epoch", ylabel="mean squared error", title="ADALINE / LMS")
    right.set(xlabel="epoch", ylabel="MSE - optimum", title="distance to the least-squares optimum")
    for ax in (left, right):
        ax.grid(alpha=0.3), ax.legend()
    fig.tight_layout()
    save_figure(fig, out, "lms.png", report)

    P, unit, disk, test, target, approx, res = plots["rbf"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    square, box = (res, res), (-1.5, 1.5, -1.5, 1.5)
    axes[0].imshow(circle_network(n=8).predict(P).reshape(square), origin="lower", extent=box)
    axes[0].set_title("8 perceptrons + AND: an octagon")
    axes[1].imshow(unit.reshape(square), origin="lower", extent=box)
    axes[1].contour(P[:, 0].reshape(square), P[:, 1].reshape(square), disk.reshape(square),
                    [0.5], colors="w")
    axes[1].set_title("one RBF unit; white: exp(-beta r^2) = 1/2")
    n = int(round(np.sqrt(len(test))))
    units = report.data["rbf"]["sizes"][-1] ** 2
    for ax, img, title in ((axes[2], target, "target surface"),
                           (axes[3], approx, f"sum of {units} Gaussian cylinders")):
        ax.imshow(img.reshape(n, n), origin="lower", extent=(-2, 2, -2, 2),
                  vmin=target.min(), vmax=target.max())
        ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, out, "rbf.png", report)

    x, gates, pulses, latch = plots["memory"]
    rows = [x[:, 0], x[:, 1]] + [gates[k] for k in gates] + [pulses["set"], pulses["reset"], latch]
    labels = ["N1", "N2", "N1(t-1) or N2(t-1)", "N1(t-1) and N2(t-1)", "N1(t-1) and ~N2(t-1)",
              "set", "reset", "M (latch)"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.imshow(np.array(rows), cmap="Greys", aspect="auto", vmin=0, vmax=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.axhline(4.5, color="tab:red", lw=1)  # the gates above, the latch below
    ax.set(xlabel="time step t", title="McCulloch-Pitts units with delay: who fires when")
    fig.tight_layout()
    save_figure(fig, out, "memory.png", report)


def run(quick: bool = False, out: str = "lab-classic-rules") -> Report:
    """Hebb, ADALINE/LMS, MADALINE on XOR, RBF cylinders, delayed McCulloch-Pitts memory."""
    report = Report("classic-rules")
    plots: dict = {}  # arrays the pictures need, kept out of report.data (plain values only)
    with one_blas_thread():
        report.data = {"hebb": _hebb(report, epochs=20 if quick else 40),
                       "lms": _lms(report, epochs=100 if quick else 300),
                       "madaline": _madaline(report, seeds=20 if quick else 200)}
        report.data["rbf"] = _rbf(report, resolution=151 if quick else 301,
                                  sizes=(3, 5, 9) if quick else (3, 5, 9, 13), plots=plots)
        report.data["memory"] = _memory(report, plots)
        report.data["reduction"] = _reduction(report)
        _plots(report, out, plots)
    return report

"""Decision boundaries composed from perceptrons by hand, and learned by an MLP (Dehaqani, Introduction to Neural Networks).

Dehaqani, Introduction to Neural Networks ("Composing complicated decision boundaries"): a perceptron on real inputs fires on
one side of a line; the AND of N half-plane perceptrons (an output unit with threshold N)
fires inside a convex polygon: "Composing a square decision boundary", a pentagon, a
hexagon. "Increasing the number of sides reduces the area outside the polygon that have
N/2 < Sum < N", and "in the limit" the polygon becomes a circle. An OR of polygons needs a
third layer ("The need for depth"). Every network below is wired by hand from threshold
units (:mod:`lamina.classic.perceptron`), without training; the last table trains a lamina
MLP on two 2-D data sets and draws its boundary.
"""
from __future__ import annotations

import numpy as np

import lamina as lm

from ..classic import circle_network, polygon_network, union_network
from ..models import mlp
from ..nn import functional as F
from ..random import generator
from .report import Report, save_figure

__all__ = ["run", "regular_polygon", "two_moons", "two_circles", "train_mlp"]

EXTENT = 1.5  # the pictures and grids cover [-EXTENT, EXTENT]^2


def regular_polygon(n: int, center=(0.0, 0.0), radius: float = 1.0) -> np.ndarray:
    """The n vertices of a regular polygon (counter-clockwise), one vertex at angle 90 deg."""
    theta = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    return np.asarray(center) + radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _grid(points: int, extent: float = EXTENT) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-extent, extent, points)
    xx, yy = np.meshgrid(axis, axis)
    return axis, np.stack([xx.ravel(), yy.ravel()], axis=1)


def two_moons(n: int, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (drawn with lamina's generator), labels 0 and 1."""
    rng = generator()
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([x - 0.5, y - 0.25], axis=1) + noise * rng.normal(size=(n, 2))
    return X.astype(np.float32), label


def two_circles(n: int, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Concentric circles of radii 1 (label 0) and 0.5 (label 1), with Gaussian noise."""
    rng = generator()
    t = rng.uniform(0, 2 * np.pi, n)
    label = rng.integers(0, 2, n)
    radius = np.where(label == 0, 1.0, 0.5)
    X = radius[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1) + noise * rng.normal(size=(n, 2))
    return X.astype(np.float32), label


def train_mlp(X: np.ndarray, y: np.ndarray, steps: int):
    """A [2, 16, 16, 2] tanh MLP trained by full-batch Adam (lr 0.02) on the cross-entropy."""
    net = mlp([2, 16, 16, 2], activation="tanh")
    optimizer = lm.optim.Adam(net.parameters(), lr=0.02)
    inputs, targets = lm.tensor(X), lm.tensor(y.astype(np.int64))
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(inputs), targets).backward()
        optimizer.step()
    return net


def _predict(net, X: np.ndarray) -> np.ndarray:
    with lm.no_grad():
        return net(lm.tensor(X.astype(np.float32))).numpy().argmax(axis=1)


def _polygons(report: Report, grid: np.ndarray, cell: float) -> dict:
    shapes = {
        "square": polygon_network(regular_polygon(4)),
        "pentagon": polygon_network(regular_polygon(5)),
        "hexagon": polygon_network(regular_polygon(6)),
    }
    exact = {"square": 2.0, "pentagon": 2.5 * np.sin(2 * np.pi / 5),
             "hexagon": 3 * np.sqrt(3) / 2}  # (n/2) r^2 sin(2 pi / n) with r = 1
    left = polygon_network(regular_polygon(4, (-0.6, 0.0), 0.5))
    right = polygon_network(regular_polygon(5, (0.6, 0.2), 0.6))
    shapes["square OR pentagon"] = union_network([left, right])
    exact["square OR pentagon"] = 2 * 0.5 ** 2 + 2.5 * 0.6 ** 2 * np.sin(2 * np.pi / 5)
    table = report.table("Polygons as the AND of half-plane perceptrons, wired by hand "
                         "(Dehaqani, Introduction to Neural Networks)", ["region", "layers", "perceptrons",
                                        "area on the grid", "exact area"])
    regions = {}
    for name, net in shapes.items():
        inside = net.predict(grid)
        regions[name] = inside
        units = sum(W.shape[0] for W, _ in net.layers)
        table.add(name, len(net.layers), units, f"{inside.sum() * cell:.3f}", f"{exact[name]:.3f}")
    return regions


def _circle(report: Report, grid: np.ndarray, sides: list) -> dict:
    table = report.table("A circle (r = 1) as the AND of N half-planes: the circumscribed "
                         "N-gon (Dehaqani, Introduction to Neural Networks, 'In the limit: composing a circle')",
                         ["N sides", "perceptrons", "grid accuracy vs the circle",
                          "excess area / circle area (exact)", "sum / N at distance 2r",
                          "sum / N at distance 10r"])
    inside = np.hypot(grid[:, 0], grid[:, 1]) <= 1.0
    angles = 2 * np.pi * np.arange(720) / 720
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    accuracy, sums, far = {}, {}, {}
    for n in sides:
        net = circle_network((0.0, 0.0), 1.0, n)
        total = net.hidden_sum(grid)
        accuracy[n] = float(np.mean((total == n) == inside))  # the output unit fires iff sum = N
        sums[n] = total
        excess = (n * np.tan(np.pi / n) - np.pi) / np.pi
        far[n] = [float(net.hidden_sum(d * ring).mean() / n) for d in (2.0, 10.0)]
        table.add(n, n + 1, f"{accuracy[n]:.4f}", f"{excess:.4f}", f"{far[n][0]:.3f}",
                  f"{far[n][1]:.3f}")
    return {"accuracy": accuracy, "sums": sums, "far": far}


def run(quick: bool = False, out: str = "lab-decision-boundaries") -> Report:
    """Polygons, a circle from N perceptrons, and a trained MLP's boundaries; one PNG."""
    lm.manual_seed(0)
    report = Report("decision-boundaries")
    points = 201 if quick else 401
    axis, grid = _grid(points)
    cell = (axis[1] - axis[0]) ** 2
    regions = _polygons(report, grid, cell)
    sides = [3, 4, 5, 6, 7, 16, 64, 1000]
    circle = _circle(report, grid, sides)

    table = report.table("A trained lamina MLP [2, 16, 16, 2] (tanh, Adam, full batch)",
                         ["data set", "train / test points", "Adam steps", "train accuracy",
                          "test accuracy"])
    n, steps = (200, 300) if quick else (1000, 1500)
    learned = {}
    for name, make in (("two moons", two_moons), ("two circles", two_circles)):
        X, y = make(n)
        X_test, y_test = make(n)
        net = train_mlp(X, y, steps)
        train_acc = float(np.mean(_predict(net, X) == y))
        test_acc = float(np.mean(_predict(net, X_test) == y_test))
        table.add(name, f"{n} / {n}", steps, f"{train_acc:.3f}", f"{test_acc:.3f}")
        learned[name] = {"X": X, "y": y, "grid": _predict(net, grid), "train": train_acc,
                         "test": test_acc}
    report.data = {"circle_accuracy": circle["accuracy"], "circle_far_sum": circle["far"],
                   "mlp": {k: {"train": v["train"], "test": v["test"]} for k, v in learned.items()},
                   "areas": {k: float(v.sum() * cell) for k, v in regions.items()}}
    report.notes.append(
        f"The grid covers [-1.5, 1.5]^2 with {points} x {points} points. The circumscribed "
        "N-gon's excess area is r^2 (N tan(pi/N) - pi), which falls like pi^3 / (3 N^2): the "
        "AND of N half-planes converges to the circle. Dehaqani, Introduction to Neural Networks: 'Sum is N inside the circle, "
        "N/2 outside almost everywhere'. Measured: the fraction of half-planes containing a point "
        f"at distance d > r tends (for large N) to 1 - arccos(r/d)/pi, {1 - np.arccos(0.5) / np.pi:.3f} "
        f"at d = 2r and {1 - np.arccos(0.1) / np.pi:.3f} at d = 10r, so sum/N reaches 1/2 only far "
        "from the circle; near it, more than N/2 but not all units fire (see the N = 16 panel).")
    _plot(report, out, axis, regions, circle["sums"], learned)
    return report


def _plot(report: Report, out: str, axis: np.ndarray, regions: dict, sums: dict,
          learned: dict) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    side = len(axis)
    extent = (axis[0], axis[-1], axis[0], axis[-1])
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    panels = [(name, region) for name, region in regions.items()]
    for ax, (name, region) in zip(axes[0], panels):
        ax.imshow(region.reshape(side, side), origin="lower", extent=extent, cmap="Purples",
                  vmin=0, vmax=1.4)
        ax.set_title(name + " (hand-wired)")
    ax = axes[1, 0]
    shown = ax.imshow(sums[16].reshape(side, side), origin="lower", extent=extent, cmap="viridis")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title("N = 16: number of half-planes firing")
    ax = axes[1, 1]
    ax.imshow((sums[1000] == 1000).reshape(side, side), origin="lower", extent=extent,
              cmap="Purples", vmin=0, vmax=1.4)
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="k", ls="--"))
    ax.set_title("N = 1000: the circle")
    for ax, (name, data) in zip(axes[1, 2:], learned.items()):
        ax.imshow(data["grid"].reshape(side, side), origin="lower", extent=extent,
                  cmap="coolwarm", alpha=0.35)
        ax.scatter(data["X"][:, 0], data["X"][:, 1], c=data["y"], cmap="coolwarm", s=6)
        ax.set_title(f"MLP on {name} (test acc {data['test']:.2f})")
    for ax in axes.ravel():
        ax.set_xlim(axis[0], axis[-1])
        ax.set_ylim(axis[0], axis[-1])
        ax.set_aspect("equal")
    fig.subplots_adjust(left=0.03, right=0.98, bottom=0.04, top=0.95, wspace=0.25, hspace=0.25)
    save_figure(fig, out, "decision_boundaries.png", report)

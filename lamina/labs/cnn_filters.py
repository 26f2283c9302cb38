"""Convolutional filters: Grohs's vertical-edge filter, and what a small CNN learns.

Seed 000, "Example: Detecting Vertical Edges", gives the 'vertical-edge-detection-filter'

    W = [[-1, 2, -1],
         [-1, 2, -1],
         [-1, 2, -1]]

(rows top to bottom): a vertical line of 2s between two vertical lines of -1s. Each row sums
to zero, so a patch that is constant along each row -- any horizontal structure, or a flat
region -- gives exactly 0, while a bright vertical line one pixel wide gives 3 (2 - 0 - 0)
times its brightness. The lecture defines Z = X * W with the flipped kernel
(Z[i, j] = sum_{k,l} X[i-k, j-l] W[k, l]); ``conv2d``, like every deep-learning library,
correlates without flipping, which for this W (symmetric under a half turn) is the same.

The lab applies W with :func:`lamina.nn.functional.conv2d` to a digit and to vertical and
horizontal stripes, then trains a small CNN (conv 8 filters 3x3 -> ReLU -> max-pool 2 ->
linear) briefly and shows its first-layer filters beside the lecture's.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

from .. import nn
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import Digits, FashionMNIST
from ..errors import DataError
from ..nn import functional as F
from ..optim import Adam
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "VERTICAL_EDGE", "stripes", "small_cnn"]

#: Seed 000's vertical-edge filter, rows top to bottom (conv2d's weight[0, 0] layout).
VERTICAL_EDGE = np.array([[-1.0, 2.0, -1.0],
                          [-1.0, 2.0, -1.0],
                          [-1.0, 2.0, -1.0]], dtype=np.float32)

_FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def stripes(size: int, vertical: bool) -> np.ndarray:
    """A (size, size) float32 image of one-pixel stripes, 1 on even columns (vertical) or
    even rows (horizontal), 0 elsewhere."""
    line = (np.arange(size) % 2 == 0).astype(np.float32)
    return np.tile(line, (size, 1)) if vertical else np.tile(line[:, None], (1, size))


def _respond(image: np.ndarray, padding: int = 0) -> np.ndarray:
    """``conv2d`` of one (H, W) image with the vertical-edge filter: the (H', W') response."""
    x = Tensor._wrap(image[None, None].astype(np.float32))
    w = Tensor._wrap(VERTICAL_EDGE[None, None])
    return F.conv2d(x, w, padding=padding)._data[0, 0]


def small_cnn(side: int, filters: int = 8) -> nn.Sequential:
    """conv(1 -> filters, 3x3, padding 1) -> ReLU -> max-pool 2 -> flatten -> linear(-> 10)."""
    return nn.Sequential(nn.Conv2d(1, filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(filters * (side // 2) ** 2, 10))


def _data(quick: bool, notes: list) -> tuple[str, tuple, tuple]:
    """(name, (x, y) train, (x, y) test): Digits for --quick, else Fashion-MNIST if present."""
    if not quick and os.path.isdir(_FASHION_DIR):
        try:
            train, test = FashionMNIST(train=True), FashionMNIST(train=False)
            return "Fashion-MNIST", train.arrays(), test.arrays()
        except DataError as exc:
            notes.append(f"Fashion-MNIST could not be read ({exc}); using Digits instead.")
    elif not quick:
        notes.append(f"Fashion-MNIST is not in {_FASHION_DIR}; using Digits instead.")
    return "Digits", Digits(train=True).arrays(), Digits(train=False).arrays()


def _train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, batch: int,
           seed: int) -> None:
    """Adam (lr 0.01) on shuffled minibatches."""
    optimizer = Adam(model.parameters(), lr=0.01)
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        index = order.permutation(len(y))
        for start in range(0, len(y) - batch + 1, batch):
            chosen = index[start:start + batch]
            loss = F.cross_entropy(model(Tensor._wrap(x[chosen])), Tensor._wrap(y[chosen]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 2000) -> float:
    model.eval()
    correct = 0
    with no_grad():
        for start in range(0, len(y), batch):
            out = model(Tensor._wrap(x[start:start + batch]))
            correct += int(np.sum(out._data.argmax(axis=1) == y[start:start + batch]))
    model.train()
    return correct / len(y)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.vdot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _plot(demos: list, filters: np.ndarray, data_name: str, out: str, report: Report) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(2, len(demos), figsize=(3.0 * len(demos), 6.4))
    limit = max(float(np.abs(response).max()) for _, _, response in demos)
    for column, (name, image, response) in enumerate(demos):
        axes[0, column].imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
        axes[0, column].set_title(f"input: {name}", fontsize=9)
        shown = axes[1, column].imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].set_title("response to W", fontsize=9)
    fig.colorbar(shown, ax=list(axes[1]), fraction=0.02)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Seed 000's vertical-edge filter W = [[-1,2,-1]] x 3 applied with conv2d "
                 "(no padding; responses on one colour scale)")
    save_figure(fig, out, "vertical_edge.png", report)

    kernels = [("Grohs's W", VERTICAL_EDGE)]
    kernels += [(f"filter {i + 1}", kernel) for i, kernel in enumerate(filters)]
    columns = min(len(kernels), 5)
    rows = math.ceil(len(kernels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.7 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, kernel) in zip(axes.ravel(), kernels):
        limit = max(float(np.abs(kernel).max()), 1e-6)
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(name, fontsize=9)
    fig.suptitle(f"First-layer 3x3 filters of the CNN trained on {data_name} (red +, blue -)")
    fig.tight_layout()
    save_figure(fig, out, "filters.png", report)


def run(quick: bool = False, out: str = "lab-cnn-filters") -> Report:
    """The vertical-edge filter on stripes and a digit; a small CNN's learned filters.

    Quick: the CNN trains 10 epochs on the 1,437 training digits (8x8); full: 2 epochs on
    Fashion-MNIST (28x28, 60,000 images) when it is installed, else 30 epochs on Digits."""
    started = time.perf_counter()
    report = Report("cnn-filters")
    report.data = {}

    digits_x, digits_y = Digits(train=False).arrays()
    one = digits_x[int(np.flatnonzero(digits_y == 1)[0]), 0]
    flat = np.full((8, 8), 0.5, np.float32)
    images = [("vertical stripes", stripes(12, True)), ("horizontal stripes", stripes(12, False)),
              ("a digit 1", one), ("the 1 turned 90 degrees", np.rot90(one).copy()),
              ("a flat grey image", flat)]
    expected = {"vertical stripes": "+-6 everywhere (3 x (2 - 0 - 0) on a line)",
                "horizontal stripes": "0 (every row of W sums to 0)",
                "a digit 1": "large along the vertical stroke",
                "the 1 turned 90 degrees": "smaller: the stroke now runs across W's rows",
                "a flat grey image": "0"}
    table = report.table(
        "Seed 000's vertical-edge filter W = [[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]] applied "
        "with conv2d (no padding)",
        ["input", "mean |response|", "max |response|", "expected from W"])
    demos = []
    for name, image in images:
        response = _respond(image)
        magnitude = np.abs(response)
        stats = {"mean_abs": float(magnitude.mean()), "max_abs": float(magnitude.max())}
        report.data[name] = stats
        table.add(name, stats["mean_abs"], stats["max_abs"], expected[name])
        demos.append((name, image, response))

    data_name, (x, y), (x_test, y_test) = _data(quick, report.notes)
    side = x.shape[-1]
    epochs = 10 if quick else (2 if data_name == "Fashion-MNIST" else 30)
    batch = 64 if data_name == "Digits" else 128
    _random.manual_seed(0)
    model = small_cnn(side)
    train_started = time.perf_counter()
    with one_blas_thread():
        _train(model, x, y, epochs, batch, seed=0)
        seconds = time.perf_counter() - train_started
        test_acc = _accuracy(model, x_test, y_test)
    report.data["cnn"] = {"data": data_name, "test_acc": test_acc, "chance": 0.1, "epochs": epochs}
    cnn = report.table(f"The small CNN {side}x{side} -> conv 8@3x3 -> ReLU -> max-pool 2 -> linear",
                       ["data", "train images", "epochs", "test images", "test acc", "chance",
                        "train seconds"])
    cnn.add(data_name, len(y), epochs, len(y_test), test_acc, 0.1, seconds)

    filters = model[0].weight._data[:, 0]
    horizontal = VERTICAL_EDGE.T
    learned = report.table(
        "Learned first-layer filters against the edge filters (cosine similarity)",
        ["filter", "cos(vertical W)", "cos(horizontal W^T)", "row sums (0 = blind to horizontal)"])
    for i, kernel in enumerate(filters):
        learned.add(f"filter {i + 1}", _cosine(kernel, VERTICAL_EDGE), _cosine(kernel, horizontal),
                    " ".join(f"{v:+.2f}" for v in kernel.sum(axis=1)))
    report.notes.append(
        "W is the lecture's matrix as written (rows top to bottom), conv2d's weight[0, 0]. "
        "Stripes are one pixel wide on a 12x12 image; without padding every response is "
        "interior. The digit is the first 1 among the held-out Digits (8x8).")
    vertical_cos = [abs(_cosine(k, VERTICAL_EDGE)) for k in filters]
    horizontal_cos = [abs(_cosine(k, horizontal)) for k in filters]
    report.data["filters"] = {"cos_vertical": vertical_cos, "cos_horizontal": horizontal_cos}
    report.notes.append(
        f"Learned filters: training finds its own detectors rather than the lecture's W "
        f"(largest |cos| with W {max(vertical_cos):.2f}, with W^T {max(horizontal_cos):.2f}; "
        "see filters.png). A filter whose three row sums are all near 0 is, like W, blind "
        "to horizontal structure; the others respond to it too.")
    _plot(demos, filters, data_name, out, report)
    report.notes.append(f"CNN data: {data_name}; {time.perf_counter() - started:.1f} s in all.")
    return report

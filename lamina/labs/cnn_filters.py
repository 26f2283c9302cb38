"""Convolutional filters: Grohs's vertical-edge filter, what a small CNN learns, and what
conv2d computes (Grohs, "Introduction to (Convolutional) Neural Networks", "Convolutional
Neural Networks").

The lecture defines, for X, Y in R^{n x n}, the convolution Z = X * Y by

    Z[i, j] = sum_{k,l=0}^{n-1} X[i-k, j-l] Y[k, l]

"where periodization or zero-padding of X, Y is used if i - k or j - l is not in
{0, ..., n-1}", and says "A convolutional layer can be written as a conventional neural
network layer!". Its "vertical-edge-detection-filter"

    W = [[-1, 2, -1],
         [-1, 2, -1],
         [-1, 2, -1]]

(rows top to bottom) has every row summing to zero, so a patch constant along each row -- any
horizontal structure, or a flat region -- gives exactly 0, while a bright vertical line one
pixel wide gives 3 (2 - 0 - 0) times its brightness.

What this lab shows, each figure computed:

* ``conv2d`` (lamina's, like every deep-learning library's) is *cross-correlation*,
  Z[i, j] = sum_{k,l} X[i+k, j+l] K[k, l], not the lecture's flipped sum. Grohs's W is
  unchanged by a half turn, so with it the two agree and the flip is invisible; with the
  asymmetric kernel ``ASYMMETRIC`` they differ, and conv2d with K turned 180 degrees gives the
  lecture's convolution (float64, to 1e-12).
* A convolution is a matrix product: with periodization, vec(X * K) = C vec(X) for the
  doubly block circulant matrix C[(i,j), (p,q)] = K[(i-p) mod n, (j-q) mod n] (built here
  from K alone, not from conv2d); with zero padding, the valid part of conv2d is a doubly
  block Toeplitz matrix times vec(X). That is the lecture's "conventional layer": a
  fully connected layer whose weight matrix is sparse and shares its entries.
* W applied with conv2d to stripes and digits; a small CNN (conv 8 filters 3x3 -> ReLU ->
  max-pool 2 -> linear) trained briefly, its first-layer filters (each drawn on its own
  min-max scale, so a filter with small weights is as readable as a large one) and the
  feature maps they make of one image.
* Without ``--quick``: AlexNet's parameter counts (the lecture's ~160m against the 61M of
  the 224x224 ImageNet configuration), from :mod:`lamina.models.alexnet`.
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
from ..models.alexnet import parameter_counts
from ..nn import functional as F
from ..optim import Adam
from .convolution_algebra import (ASYMMETRIC, TOLERANCE, VERTICAL_EDGE, circulant_matrix,
                                  conv_algebra, cross_correlate, is_doubly_block_circulant,
                                  lecture_convolution, toeplitz_matrix)
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "VERTICAL_EDGE", "ASYMMETRIC", "stripes", "small_cnn", "cross_correlate",
           "lecture_convolution", "circulant_matrix", "toeplitz_matrix",
           "is_doubly_block_circulant", "conv_algebra"]

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


def _off(axes) -> None:
    for ax in np.ravel(axes):
        ax.set_xticks([])
        ax.set_yticks([])


def _own_scale(ax, image: np.ndarray, cmap: str = "gray") -> tuple:
    """Draw ``image`` on its own min-max scale (black = its min, white = its max)."""
    low, high = float(image.min()), float(image.max())
    ax.imshow(image, cmap=cmap, vmin=low, vmax=high if high > low else low + 1e-12)
    return low, high


def _plot_edges(demos: list, out: str, report: Report, plt) -> None:
    fig, axes = plt.subplots(2, len(demos), figsize=(3.0 * len(demos), 6.4))
    limit = max(float(np.abs(response).max()) for _, _, response in demos)
    for column, (name, image, response) in enumerate(demos):
        axes[0, column].imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
        axes[0, column].set_title(f"input: {name}", fontsize=9)
        shown = axes[1, column].imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].set_title("response to W", fontsize=9)
    fig.colorbar(shown, ax=list(axes[1]), fraction=0.02)
    _off(axes)
    fig.suptitle("Grohs's vertical-edge filter W = [[-1,2,-1]] x 3 applied with conv2d "
                 "(no padding; responses on one colour scale, to compare them)")
    save_figure(fig, out, "vertical_edge.png", report)


def _plot_filters(filters: np.ndarray, data_name: str, out: str, report: Report, plt) -> list:
    """filters.png: Grohs's W and each learned filter, each on its own min-max scale; returns
    the (min, max) each panel was drawn with."""
    kernels = [("Grohs's W", VERTICAL_EDGE)]
    kernels += [(f"filter {i + 1}", kernel) for i, kernel in enumerate(filters)]
    columns = min(len(kernels), 5)
    rows = math.ceil(len(kernels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.7 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    scales = []
    for ax, (name, kernel) in zip(axes.ravel(), kernels):
        low, high = _own_scale(ax, kernel)
        scales.append((low, high))
        ax.set_title(f"{name}\n[{low:+.2f}, {high:+.2f}]", fontsize=8)
    fig.suptitle(f"First-layer 3x3 filters of the CNN trained on {data_name}; each on its own "
                 "scale, black = its min, white = its max", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, "filters.png", report)
    return scales[1:]


def _plot_feature_maps(image: np.ndarray, filters: np.ndarray, maps: np.ndarray, out: str,
                       report: Report, plt) -> None:
    """feature_maps.png: one image, each filter, its conv2d map and the map after ReLU."""
    n = len(filters)
    fig, axes = plt.subplots(3, n + 1, figsize=(1.6 * (n + 1), 5.2), squeeze=False)
    _off(axes)
    axes[1, 0].imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
    axes[1, 0].set_title("input", fontsize=8)
    axes[0, 0].axis("off")
    axes[2, 0].axis("off")
    for i in range(n):
        _own_scale(axes[0, i + 1], filters[i])
        axes[0, i + 1].set_title(f"filter {i + 1}", fontsize=8)
        low, high = _own_scale(axes[1, i + 1], maps[i])
        axes[1, i + 1].set_title(f"[{low:+.1f}, {high:+.1f}]", fontsize=7)
        _own_scale(axes[2, i + 1], np.maximum(maps[i], 0.0))
    axes[2, 1].set_ylabel("ReLU", fontsize=8)
    axes[1, 1].set_ylabel("conv2d", fontsize=8)
    fig.suptitle("Feature maps of one test image: conv2d with each learned filter (+ bias), "
                 "then ReLU; each panel on its own scale", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, "feature_maps.png", report)


def _edge_table(report: Report) -> list:
    """W on stripes, a digit and the digit turned; returns (name, image, response) triples."""
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
        "Grohs's vertical-edge filter W = [[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]] applied "
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
    return demos


def _algebra_table(report: Report) -> None:
    rows = conv_algebra()
    report.data["algebra"] = {key: error for key, _, error in rows}
    table = report.table(
        f"conv2d is cross-correlation; a convolution is a matrix product (float64, random 6x6 "
        f"X, asymmetric K = {ASYMMETRIC.astype(int).tolist()})",
        ["comparison", "max |difference|", f"equal to {TOLERANCE:g}?"])
    for _, description, error in rows:
        table.add(description, f"{error:.2e}", "yes" if error < TOLERANCE else "no")
    report.notes.append(
        "The lecture's X * K flips the kernel (X[i-k, j-l]); conv2d does not (X[i+k, j+l]), as "
        "in PyTorch and every deep-learning library. Learned filters make the difference "
        "immaterial in training (the network learns the flipped filter instead), but it "
        "matters when a filter from the lecture or a signal-processing text is copied into "
        "conv2d: turn it 180 degrees first (K[::-1, ::-1]). The circulant C and Toeplitz T are "
        "built from K's entries by index arithmetic, never from conv2d.")


def _alexnet_table(report: Report) -> None:
    counts = parameter_counts()
    report.data["alexnet"] = counts
    table = report.table("AlexNet's parameters: which counts what",
                         ["configuration", "parameters", "in the fc layers", "source"])
    table.add("Grohs's slide: 'AlexNet, neural network with ~160m DOFs'", "~160,000,000", "",
              "the lecture's figure (it does not say what it counts)")
    for row in counts:
        table.add(row["name"], f"{row['parameters']:,}",
                  f"{row['classifier'] / row['parameters']:.0%}", "counted on lamina's module")
    report.notes.append(
        "Grohs's ~160m goes with ImageNet's 1.2m images into '~2 * 10^14 flops' per gradient "
        "step (1.2e6 x 1.6e8); Krizhevsky et al. state 60 million, which the two 224x224 "
        "configurations above reproduce. Schwing & Telgarsky show AlexNet's layout without a "
        "count.")


def run(quick: bool = False, out: str = "lab-cnn-filters") -> Report:
    """W on stripes and a digit; conv2d against correlation, convolution and the circulant
    matrix; a small CNN's learned filters and feature maps; AlexNet's counts (full run only).

    Quick: the CNN trains 10 epochs on the 1,437 training digits (8x8); full: 2 epochs on
    Fashion-MNIST (28x28, 60,000 images) when it is installed, else 30 epochs on Digits."""
    started = time.perf_counter()
    report = Report("cnn-filters")
    report.data = {}
    demos = _edge_table(report)
    _algebra_table(report)

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
        ["filter", "min", "max", "cos(vertical W)", "cos(horizontal W^T)",
         "row sums (0 = blind to horizontal)"])
    for i, kernel in enumerate(filters):
        learned.add(f"filter {i + 1}", float(kernel.min()), float(kernel.max()),
                    _cosine(kernel, VERTICAL_EDGE), _cosine(kernel, horizontal),
                    " ".join(f"{v:+.2f}" for v in kernel.sum(axis=1)))
    report.notes.append(
        "W is the lecture's matrix as written (rows top to bottom), conv2d's weight[0, 0]. "
        "Stripes are one pixel wide on a 12x12 image; without padding every response is "
        "interior. The digit is the first 1 among the held-out Digits (8x8).")
    vertical_cos = [abs(_cosine(k, VERTICAL_EDGE)) for k in filters]
    horizontal_cos = [abs(_cosine(k, horizontal)) for k in filters]
    report.data["filters"] = {"cos_vertical": vertical_cos, "cos_horizontal": horizontal_cos,
                              "weights": filters.copy()}
    report.notes.append(
        f"Learned filters: training finds its own detectors rather than the lecture's W "
        f"(largest |cos| with W {max(vertical_cos):.2f}, with W^T {max(horizontal_cos):.2f}; "
        "see filters.png). A filter whose three row sums are all near 0 is, like W, blind "
        "to horizontal structure; the others respond to it too. Each filter is drawn on its "
        "own min-max scale (the table gives the ranges).")

    image = x_test[0]
    with no_grad():
        maps = model[0](Tensor._wrap(image[None]))._data[0]
    report.data["feature_maps"] = {"label": int(y_test[0]), "shape": tuple(maps.shape),
                                   "maps": maps}
    report.notes.append(f"feature_maps.png: the first test image (label {int(y_test[0])}) "
                        f"through the first layer, {maps.shape[0]} maps of {maps.shape[1]}x"
                        f"{maps.shape[2]} (padding 1 keeps the size).")
    if not quick:
        _alexnet_table(report)
    else:
        report.notes.append("AlexNet's parameter counts (the lecture's ~160m against 61M) are "
                            "computed by a full run (without --quick); see lamina.models.alexnet.")
    plt = report.pyplot()
    if plt is not None:
        _plot_edges(demos, out, report, plt)
        report.data["filters"]["scales"] = _plot_filters(filters, data_name, out, report, plt)
        _plot_feature_maps(image[0], filters, maps, out, report, plt)
    report.notes.append(f"CNN data: {data_name}; {time.perf_counter() - started:.1f} s in all.")
    return report

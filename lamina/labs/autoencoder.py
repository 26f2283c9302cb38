"""Autoencoders: reconstructions, and the code space of Fashion-MNIST.

Grohs, "Introduction to (Convolutional) Neural Networks", section 8 ("What I didn't tell
you"), lists "things to do besides regression or classification" and "more sophisticated
training procedures for feature extractor layers (Autoencoder, Restricted Boltzmann
Machines, ...)". An autoencoder is such a procedure: an encoder f and a decoder g trained,
without labels, to minimise the reconstruction error

    1/m sum_i ||g(f(x_i)) - x_i||^2,

so the k numbers of the code z = f(x) must keep what matters about the image x. The lecture
gives no figure or numbers for it, so this lab makes its numbers mean something with two
baselines on the same test images:

- the trivial one: predict the mean training image for every input (a code of size 0);
- PCA with the same code size k (NumPy's SVD of the centred training images): the best
  *linear* code, and all that an autoencoder without non-linearities can reach (Baldi &
  Hornik, 1989).

It trains two dense autoencoders with ``lamina train``'s own machinery (``--task
autoencode``: the same configuration, model spec, loss and optimiser), one with a 2-D code,
whose codes of the test images are drawn coloured by class (code_space.png, beside PCA's 2-D
projection), and one with a larger code, whose reconstructions are drawn over the test
images (reconstructions.png). The data: Fashion-MNIST when its files are on this machine,
else the embedded 8x8 digits; ``--quick`` uses the digits.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..data import FashionMNIST
from ..errors import DataError
from ..train import fit, resolve_config
from ..train.assembly import get_dataset
from ..train.plots import image_grid
from ..train.runner import build_run, reconstruct
from .report import Report, one_blas_thread, save_figure

__all__ = ["run", "pca_reconstruct", "mean_squared_error", "CODE_SIZES", "HIDDEN"]

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
#: The code sizes k trained on each data set (a 2-D code for the scatter, a larger one).
CODE_SIZES = {"fashion-mnist": (2, 32), "digits": (2, 16)}
#: The hidden layer between the input and the code.
HIDDEN = {"fashion-mnist": 256, "digits": 32}


def mean_squared_error(a: np.ndarray, b: np.ndarray) -> float:
    """The per-pixel mean squared error 1/(m d) sum_i ||a_i - b_i||^2 (in float64)."""
    diff = np.asarray(a, np.float64).reshape(len(a), -1) - np.asarray(b, np.float64).reshape(
        len(b), -1)
    return float(np.mean(diff * diff))


def pca_reconstruct(train: np.ndarray, test: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA with ``k`` components fitted on ``train`` (m, d): the codes (n, k) of ``test``
    (n, d) and their reconstructions (n, d).

    With the training mean mu and the SVD X - mu = U S V^T of the centred training matrix,
    the code of x is z = V_k^T (x - mu) (the first k right singular vectors) and its
    reconstruction mu + V_k z: the orthogonal projection onto the best k-dimensional affine
    subspace of the training data in the least-squares sense (Eckart-Young)."""
    train = np.asarray(train, np.float64).reshape(len(train), -1)
    test = np.asarray(test, np.float64).reshape(len(test), -1)
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    basis = vt[:k]                       # (k, d), orthonormal rows
    codes = (test - mean) @ basis.T
    return codes, mean + codes @ basis


def _choose_data(quick: bool) -> tuple[str, str]:
    """The data set to train on, and a note saying which and why."""
    if quick:
        return "digits", "--quick: the embedded 8x8 digits (1,437 train / 360 test images, d = 64)"
    if os.path.isdir(FASHION_DIR):
        try:
            FashionMNIST(train=False)  # only reads local files: a lab never downloads
            return "fashion-mnist", (f"Fashion-MNIST from {FASHION_DIR} (60,000 train / 10,000 "
                                     "test images of clothing, 28x28, d = 784)")
        except DataError as exc:
            return "digits", f"the embedded 8x8 digits (Fashion-MNIST could not be read: {exc})"
    return "digits", f"the embedded 8x8 digits (Fashion-MNIST is not in {FASHION_DIR})"


def _train(dataset: str, sizes: list[int], epochs: int, batch_size: int):
    """A dense autoencoder trained as ``lamina train --task autoencode --model
    autoencoder:<sizes>`` would train it; returns (config, data, model, history, seconds)."""
    config = resolve_config({"task": "autoencode", "dataset": dataset, "epochs": epochs,
                             "model": "autoencoder:" + ",".join(map(str, sizes)),
                             "batch_size": batch_size, "quiet": True, "seed": 0})
    data, model, loss_fn, optimizer = build_run(config)
    started = time.perf_counter()
    with one_blas_thread():
        history = fit(model, data.train_loader, data.test_loader, loss_fn, optimizer, epochs,
                      quiet=True, task="autoencode", compile=True)
    return config, data, model, history, time.perf_counter() - started


def run(quick: bool = False, out: str = "lab-autoencoder") -> Report:
    """Train the two autoencoders and tabulate their test MSE beside the mean image and PCA."""
    dataset, data_note = _choose_data(quick)
    epochs, batch_size = (25, 32) if dataset == "digits" else (10, 64)
    train_set, test_set = get_dataset(dataset, True), get_dataset(dataset, False)
    train_x, _ = train_set.arrays()
    test_x, test_y = test_set.arrays()
    d = int(np.prod(train_x.shape[1:]))
    mean_mse = mean_squared_error(np.broadcast_to(train_x.mean(axis=0), test_x.shape), test_x)

    report = Report("autoencoder")
    table = report.table(
        f"test reconstruction error (per-pixel MSE, {len(test_x)} {dataset} test images) "
        f"with a code of k numbers",
        ["k", "mean image (k = 0)", "PCA, k components", "autoencoder", "network",
         "autoencoder / PCA", "train seconds"])
    report.data = {"dataset": dataset, "epochs": epochs, "input_size": d,
                   "mean_image_mse": mean_mse, "rows": []}
    pictures = {}
    for k in CODE_SIZES[dataset]:
        sizes = [d, HIDDEN[dataset], k]
        config, data, model, history, seconds = _train(dataset, sizes, epochs, batch_size)
        rebuilt = reconstruct(model, test_x)
        with no_grad():
            codes = model.encode(Tensor._wrap(test_x)).numpy()
        pca_codes, pca_rebuilt = pca_reconstruct(train_x, test_x, k)
        ae_mse = mean_squared_error(rebuilt, test_x)
        pca_mse = mean_squared_error(pca_rebuilt, test_x)
        table.add(k, mean_mse, pca_mse, ae_mse, config["model"], ae_mse / pca_mse,
                  round(seconds, 1))
        report.data["rows"].append({
            "code_size": k, "model": config["model"], "autoencoder_mse": ae_mse,
            "pca_mse": pca_mse, "mean_image_mse": mean_mse,
            "train_losses": [r["train_loss"] for r in history],
            "test_losses": [r["test_loss"] for r in history]})
        pictures[k] = {"rebuilt": rebuilt, "codes": codes, "pca_codes": pca_codes,
                       "pca_rebuilt": pca_rebuilt.reshape(test_x.shape)}
    report.data["codes_2d"] = pictures[2]["codes"].tolist()
    report.data["labels"] = test_y.tolist()
    report.notes.append(
        f"data: {data_note}. Each autoencoder is `lamina train --task autoencode --model "
        f"autoencoder:<sizes>` ({config['optimizer']}, lr {config['lr']}, batch "
        f"{batch_size}, {epochs} epochs, {config['loss']} loss, ReLU hidden units, sigmoid "
        "output); PCA is fitted on the same training images with NumPy's SVD.")
    report.notes.append(
        "The lecture (Grohs, Introduction to (Convolutional) Neural Networks, section 8) names "
        "autoencoders among the training procedures for feature extractor layers but gives no "
        "figure, so the baselines stand in for one: the mean image is what a code of size 0 "
        "achieves, PCA the best a linear code of size k achieves on the training images (a linear "
        "autoencoder can at "
        "best match it, Baldi & Hornik 1989). A ratio below 1 in the last column is what the "
        "non-linearity bought; with a large code and little training PCA can stay ahead.")
    _plot(report, out, test_x, test_y, pictures, [str(c) for c in test_set.classes])
    return report


def _examples(labels: np.ndarray, count: int = 10) -> list[int]:
    """The index of the first test image of each class (then the next ones), ``count`` in all."""
    first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    rest = [i for i in range(len(labels)) if i not in first]
    return (first + rest)[:count]


def _plot(report: Report, out: str, test_x, test_y, pictures: dict, class_names: list) -> None:
    plt = report.pyplot()
    if plt is None:
        return
    large = max(pictures)
    picks = _examples(test_y)
    rows = [("input", test_x), (f"autoencoder, k = {large}", pictures[large]["rebuilt"]),
            (f"PCA, k = {large}", pictures[large]["pca_rebuilt"]),
            ("autoencoder, k = 2", pictures[2]["rebuilt"]),
            ("PCA, k = 2", pictures[2]["pca_rebuilt"])]
    # One mosaic image (rows of tiles with a 1-pixel gap) rather than 50 axes: 10x faster.
    tiles = [image_grid(np.asarray(images)[picks]) for _, images in rows]
    cmap = tiles[0][1]
    h, w = tiles[0][0].shape[1:3]
    mosaic = np.ones((len(rows) * (h + 1) - 1, len(picks) * (w + 1) - 1) + tiles[0][0].shape[3:])
    for r, (shown, _) in enumerate(tiles):
        for c in range(len(picks)):
            mosaic[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = shown[c]
    fig, ax = plt.subplots(figsize=(1.1 * len(picks) + 1.5, 1.1 * len(rows) + 0.5))
    ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks([r * (h + 1) + h / 2 for r in range(len(rows))])
    ax.set_yticklabels([label for label, _ in rows], fontsize=8)
    ax.set_xticks([])
    ax.set_title(f"{report.data['dataset']} test images and their reconstructions", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, "reconstructions.png", report)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    cmap = plt.get_cmap("tab10")
    for ax, key, title in ((axes[0], "codes", "autoencoder code z = f(x), k = 2"),
                           (axes[1], "pca_codes", "PCA: the first two principal components")):
        points = np.asarray(pictures[2][key])
        for c in np.unique(test_y):
            mask = test_y == c
            name = class_names[c] if c < len(class_names) else str(c)
            ax.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.6, color=cmap(int(c) % 10),
                       label=name)
        ax.set(title=title, xlabel="z_1", ylabel="z_2")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, markerscale=3, loc="best")
    fig.suptitle(f"code space of the {report.data['dataset']} test images, coloured by class "
                 "(the labels were not used in training)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, "code_space.png", report)

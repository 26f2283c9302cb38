"""Training plots: loss and accuracy curves per epoch, the confusion matrix, and an
autoencoder's reconstructions.

matplotlib is optional and imported here only, with the non-interactive Agg backend.
"""
from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_path

__all__ = ["plot_curves", "plot_confusion", "plot_reconstructions", "image_grid",
           "have_matplotlib", "pyplot"]


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pyplot():
    """matplotlib's pyplot with the non-interactive Agg backend (optional dependency)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: list[dict], path: str | os.PathLike) -> None:
    """Loss (left) and accuracy (right) against epoch, train and test; records without
    accuracies (an autoencoder's) get the reconstruction loss alone."""
    plt = pyplot()
    epochs = [r["epoch"] for r in history]
    with_accuracy = bool(history) and all("train_accuracy" in r for r in history)
    if with_accuracy:
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        axes = (ax_loss, ax_acc)
    else:
        fig, ax_loss = plt.subplots(figsize=(6, 4))
        axes = (ax_loss,)
    for key, style in (("train", "-o"), ("test", "-s")):
        ax_loss.plot(epochs, [r[f"{key}_loss"] for r in history], style, label=key)
        if with_accuracy:
            ax_acc.plot(epochs, [r[f"{key}_accuracy"] for r in history], style, label=key)
    if with_accuracy:
        ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    else:
        ax_loss.set(xlabel="epoch", ylabel="reconstruction loss", title="Reconstruction loss")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, path: str | os.PathLike, labels=None) -> None:
    """The confusion matrix as a heat map with counts (rows: true class, columns: predicted)."""
    plt = pyplot()
    n = matrix.shape[0]
    labels = labels or [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(im, ax=ax)
    ax.set(xticks=range(n), yticks=range(n), xticklabels=labels, yticklabels=labels,
           xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > threshold else "black")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def image_grid(images: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Images (N, C, H, W), (N, H, W) or flat (N, D) as one array of N (H, W) grey or
    (H, W, 3) RGB images clipped to [0, 1] (other channel counts: the first channel), and
    the colour map to show them with (None for RGB)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2:  # flat vectors: square images when D is a square, else one row
        side = int(round(np.sqrt(images.shape[1])))
        shape = (side, side) if side * side == images.shape[1] else (1, images.shape[1])
        images = images.reshape((len(images),) + shape)
    if images.ndim == 4:
        images = images[:, :3].transpose(0, 2, 3, 1) if images.shape[1] >= 3 else images[:, 0]
    return np.clip(images, 0.0, 1.0), ("gray" if images.ndim == 3 else None)


def plot_reconstructions(images: np.ndarray, reconstructions: np.ndarray,
                         path: str | os.PathLike, title: str = "test images (top) and their "
                         "reconstructions (bottom)") -> None:
    """A row of input images over the row of their reconstructions g(f(x))."""
    plt = pyplot()
    originals, cmap = image_grid(images)
    rebuilt, _ = image_grid(np.asarray(reconstructions).reshape(np.shape(images)))
    n = len(originals)
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 3.0), squeeze=False)
    for k in range(n):
        for row, batch in enumerate((originals, rebuilt)):
            ax = axes[row, k]
            ax.imshow(batch[k], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)

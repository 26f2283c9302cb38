"""Training plots: loss and accuracy curves per epoch, and the confusion matrix.

matplotlib is optional and imported here only, with the non-interactive Agg backend.
"""
from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_path

__all__ = ["plot_curves", "plot_confusion", "have_matplotlib", "pyplot"]


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
    """Loss (left) and accuracy (right) against epoch, train and test."""
    plt = pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, style in (("train", "-o"), ("test", "-s")):
        ax_loss.plot(epochs, [r[f"{key}_loss"] for r in history], style, label=key)
        ax_acc.plot(epochs, [r[f"{key}_accuracy"] for r in history], style, label=key)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax_loss, ax_acc):
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

"""Training plots: loss and accuracy curves per epoch, the confusion matrix, a grid of
misclassified test images, and an autoencoder's reconstructions.

matplotlib is optional and imported here only, with the non-interactive Agg backend. Each
picture has a ``*_figure`` function that returns the matplotlib figure (what the tests look
at) and a ``plot_*`` function that writes it as a PNG, atomically.
"""
from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_path
from ..autograd.grad_mode import no_grad
from .metrics import predictions
from .placement import model_device

__all__ = ["plot_curves", "curves_figure", "plot_confusion", "confusion_figure",
           "plot_samples", "samples_figure", "misclassified", "plot_reconstructions",
           "image_grid", "have_matplotlib", "pyplot"]


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


def _save(fig, path: str | os.PathLike, plt) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def curves_figure(history: list[dict]):
    """Loss (left) and accuracy (right) against epoch, train and test, as a figure; records
    without accuracies (an autoencoder's) get the reconstruction loss alone.

    Every epoch is a marker on whole-numbered epoch ticks, so that a run of one epoch shows
    its two points (labelled with their values) rather than an empty frame."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    epochs = [r["epoch"] for r in history]
    with_accuracy = bool(history) and all("train_accuracy" in r for r in history)
    if with_accuracy:
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        panels = ((ax_loss, "loss"), (ax_acc, "accuracy"))
    else:
        fig, ax_loss = plt.subplots(figsize=(6, 4))
        panels = ((ax_loss, "loss"),)
    for ax, metric in panels:
        for key, style in (("train", "-o"), ("test", "-s")):
            values = [r[f"{key}_{metric}"] for r in history]
            ax.plot(epochs, values, style, markersize=6, label=key)
            if len(history) == 1:  # one point per line: say its value
                ax.annotate(f"{values[0]:.4f}", (epochs[0], values[0]), xytext=(8, 0),
                            textcoords="offset points", va="center", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:
            ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
        ax.grid(alpha=0.3)
        ax.legend()
    if with_accuracy:
        ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    else:
        ax_loss.set(xlabel="epoch", ylabel="reconstruction loss", title="Reconstruction loss")
    fig.tight_layout()
    return fig


def plot_curves(history: list[dict], path: str | os.PathLike) -> None:
    """Write :func:`curves_figure` of ``history`` to ``path`` (PNG)."""
    _save(curves_figure(history), path, pyplot())


def confusion_figure(matrix: np.ndarray, labels=None):
    """The confusion matrix as a heat map with counts (rows: true class, columns: predicted).

    The figure grows with the number of classes and the length of their names, and the
    column names are turned 45 degrees, so that names such as Fashion-MNIST's 'T-shirt/top'
    and 'Ankle boot' or CIFAR-10's 'automobile' stay readable and apart."""
    plt = pyplot()
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    labels = [str(label) for label in labels] if labels else [str(i) for i in range(n)]
    longest = max((len(label) for label in labels), default=1)
    cell = 0.45 if n <= 12 else 0.3
    margin = 0.6 + 0.075 * longest  # inches of name beside and below the matrix
    side = max(3.5, cell * n)
    fig, ax = plt.subplots(figsize=(side + margin + 1.6, side + margin + 0.8))
    im = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true",
           title="Confusion matrix (test)")
    ax.set_xticklabels(labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticklabels(labels)
    threshold = matrix.max() / 2 if matrix.size else 0
    size = 8 if n <= 12 else 6
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=size,
                    color="white" if matrix[i, j] > threshold else "black")
    fig.tight_layout()
    return fig


def plot_confusion(matrix: np.ndarray, path: str | os.PathLike, labels=None) -> None:
    """Write :func:`confusion_figure` of ``matrix`` to ``path`` (PNG)."""
    _save(confusion_figure(matrix, labels), path, pyplot())


def misclassified(model, loader, count: int = 16):
    """The first ``count`` test images ``model`` gets wrong, in ``loader``'s order: (images
    as an array (N, ...), true labels, predicted labels, how many images were looked at).
    The loader is read only until ``count`` mistakes are found."""
    was_training = model.training
    model.eval()
    images, true, predicted, seen = [], [], [], 0
    try:
        with no_grad():
            for x, y in loader:
                guess = predictions(model(x.to(model_device(model))))
                target = np.asarray(y.numpy()).reshape(-1)
                wrong = np.flatnonzero(guess != target)[:count - len(true)]
                images.extend(x.numpy()[wrong])
                true.extend(target[wrong].tolist())
                predicted.extend(guess[wrong].tolist())
                seen += len(target)
                if len(true) >= count:
                    break
    finally:
        model.train(was_training)
    return np.asarray(images), true, predicted, seen


def samples_figure(images: np.ndarray, true: list, predicted: list, class_names=None,
                   heading: str | None = None):
    """A grid of images, each titled with its true and its predicted class, under
    ``heading``."""
    plt = pyplot()
    names = list(class_names) if class_names else None

    def name(k: int) -> str:
        return names[k] if names and 0 <= k < len(names) else str(k)

    n = len(true)
    if n == 0:
        fig, ax = plt.subplots(figsize=(5, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, heading or "no misclassified images", ha="center", va="center",
                fontsize=10)
        return fig
    grid, cmap = image_grid(images)
    cols = min(8, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.75 * rows + 0.5),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        ax.imshow(grid[k], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"true {name(true[k])}\npredicted {name(predicted[k])}", fontsize=7.5)
    fig.suptitle(heading or f"{n} misclassified test images", fontsize=10)
    fig.tight_layout()
    return fig


def plot_samples(model, loader, path: str | os.PathLike, class_names=None,
                 count: int = 16) -> int:
    """Write ``samples.png``: the first ``count`` test images ``model`` misclassifies, each
    with its true and predicted class; returns how many were drawn."""
    images, true, predicted, seen = misclassified(model, loader, count)
    n = len(true)
    if n == 0:
        heading = f"no misclassified images among the {seen} test images"
    elif n < count:  # the whole test set was looked at
        heading = f"all {n} misclassified test images (of {seen})"
    else:
        heading = f"the first {n} test images the model gets wrong"
    _save(samples_figure(images, true, predicted, class_names, heading), path, pyplot())
    return len(true)


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
    _save(fig, path, plt)

"""Classification metrics: accuracy, the confusion matrix, and a running mean."""
from __future__ import annotations

import numpy as np

from ..backend import to_host

__all__ = ["accuracy", "confusion_matrix", "RunningMean", "predictions"]


def _array(x) -> np.ndarray:
    """``x`` (a tensor on any device, an array, a list) as a NumPy array."""
    if hasattr(x, "cpu"):
        return x.cpu().numpy()
    return to_host(x)


def predictions(output) -> np.ndarray:
    """The predicted class of each row: argmax of the logits (or of the output units)."""
    out = _array(output)
    if out.ndim == 1:  # one output unit: threshold a probability at 1/2
        return (out >= 0.5).astype(np.int64)
    return out.argmax(axis=1)


def accuracy(output, targets) -> float:
    """Fraction of rows whose predicted class equals the target class."""
    t = _array(targets)
    if t.ndim == 2:  # one-hot targets
        t = t.argmax(axis=1)
    return float(np.mean(predictions(output) == t)) if len(t) else 0.0


def confusion_matrix(predicted, targets, num_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j."""
    p = _array(predicted).astype(np.int64).ravel()
    t = _array(targets).astype(np.int64).ravel()
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


class RunningMean:
    """The mean of values added with weights (e.g. batch losses weighted by batch size)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def add(self, value: float, weight: int = 1) -> None:
        self.total += float(value) * weight
        self.count += weight

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

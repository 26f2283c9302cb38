"""What the classical models share: input checks, the bias-carrying constant input, the
threshold step, random-state handling, the two-class label handling and accuracy ``score``.

The classical models follow scikit-learn's conventions: ``fit(X, y)`` returns ``self``,
constructor arguments are stored unchanged, fitted attributes end in ``_``, NumPy arrays go
in and out, ``score(X, y)`` is the accuracy.
"""
from __future__ import annotations

import numpy as np

from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from ..random import generator

__all__ = ["ConvergenceWarning", "check_X", "check_Xy", "augment", "step", "resolve_rng",
           "ClassifierMixin"]


class ConvergenceWarning(UserWarning):
    """A learning rule or solver stopped at its iteration limit before meeting its stopping
    criterion (zero training errors for the perceptron, ``tol`` for the linear models)."""


def check_X(X, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """``X`` as a float64 array of shape (n_samples, n_features), checked.

    Raises :class:`LaminaTypeError` for text (numeric strings such as "1.5" are not parsed
    silently), :class:`ShapeError` for a non-2-D array or a feature count other than
    ``n_features``, and :class:`LaminaValueError` for NaN or infinite entries.
    """
    array = np.asarray(X)
    if array.dtype.kind in "USO":
        try:  # Python objects that are numbers are fine; text is not
            if array.dtype.kind != "O":
                raise TypeError
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise LaminaTypeError(
                f"{name} must hold numbers, got dtype {array.dtype}; encode text or categorical "
                "features as numbers first") from None
    X = np.asarray(array, dtype=np.float64)
    if X.ndim != 2:
        raise ShapeError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ShapeError(f"{name} has no samples (shape {X.shape}); need at least one row")
    if n_features is not None and X.shape[1] != n_features:
        raise ShapeError(f"{name} has {X.shape[1]} features (shape {X.shape}), "
                         f"expected {n_features} as in fit")
    if not np.isfinite(X).all():
        raise LaminaValueError(f"{name} contains NaN or infinite values")
    return X


def check_Xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` checked: X of shape (n_samples, n_features), y of shape (n_samples,)."""
    X = check_X(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ShapeError(f"y must have shape ({X.shape[0]},) to match X of shape {X.shape}, "
                         f"got {y.shape}")
    return X, y


def augment(X: np.ndarray) -> np.ndarray:
    """``[1, x_1, ..., x_n]`` for every row: the constant input that carries the bias."""
    return np.concatenate([np.ones((X.shape[0], 1)), X], axis=1)


def step(z: np.ndarray, strict: bool = True) -> np.ndarray:
    """The threshold activation: 1 where z > 0 (z >= 0 with ``strict=False``), else 0."""
    return (z > 0 if strict else z >= 0).astype(np.int64)


def resolve_rng(random_state) -> np.random.Generator:
    """A NumPy Generator: lamina's global one (seeded by ``lm.manual_seed``) for None, a
    fresh ``default_rng(random_state)`` for an integer, or the Generator given."""
    if random_state is None:
        return generator()
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


class ClassifierMixin:
    """``score`` as accuracy and the two-class label handling of the threshold units."""

    def _binary_labels(self, y: np.ndarray) -> np.ndarray:
        """Store ``classes_`` (sorted) and return 0 for ``classes_[0]``, 1 for ``classes_[1]``."""
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise LaminaValueError(
                f"{type(self).__name__} separates two classes; y has {len(classes)} "
                f"distinct values {classes.tolist()[:10]}")
        self.classes_ = classes
        return index.astype(np.int64)

    def _check_fitted(self, attribute: str = "coef_") -> None:
        if not hasattr(self, attribute):
            raise LaminaValueError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``."""
        X, y = check_Xy(X, y)
        return float(np.mean(self.predict(X) == y))

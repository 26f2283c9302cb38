"""Radial-basis-function networks, with their centres from k-means (Dehaqani, "Introduction
to Neural Networks", "Brief segue: RBF networks").

A hidden RBF unit responds to the distance of the input from its centre c_j rather than to
a projection w . x: with z = ||x - c_j||^2 its typical activation is f(z) = exp(-beta z),
beta a bandwidth parameter. "Key aspect is radial symmetry, instead of linear symmetry":
one unit makes the "cylinder" that needs N -> infinity perceptrons ("RBF networks as universal
approximators"), which makes RBF networks effective approximators. The network is

    y(x) = b + sum_j v_j exp(-beta ||x - c_j||^2),

trained in two stages: the centres by clustering the inputs (k-means) or by sampling
training points, then the linear output layer, which is a least-squares problem on the
design matrix Phi_ij = exp(-beta ||x_i - c_j||^2) (plus a column of ones), solved exactly
or by gradient descent. Classification uses one-hot targets and the argmax of the outputs.
"""
from __future__ import annotations

import numpy as np

from ..errors import LaminaValueError
from .base import ClassifierMixin, check_X, check_Xy, resolve_rng

__all__ = ["kmeans", "rbf_design", "RBFNetwork"]


def _squared_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """||x_i - c_j||^2 for all pairs as ||x||^2 - 2 x.c + ||c||^2 (one matrix product)."""
    d = (X * X).sum(1)[:, None] - 2.0 * (X @ C.T) + (C * C).sum(1)[None, :]
    return np.maximum(d, 0.0)  # rounding can make a zero distance slightly negative


def kmeans(X, k: int, n_iter: int = 100, n_init: int = 3, random_state=None,
           tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means with k-means++ seeding; returns ``(centers, labels, inertia)``.

    Each iteration assigns every point to its nearest centre and moves each centre to the
    mean of its points (both steps vectorised over the points); a centre left without
    points is moved to the point farthest from its centre. The best of ``n_init`` runs
    (smallest inertia = sum of squared distances to the assigned centres) is returned.
    """
    X = check_X(X)
    n = X.shape[0]
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= n):
        raise LaminaValueError(f"k must be an integer in [1, n_samples={n}], got {k!r}")
    rng = resolve_rng(random_state)
    best = None
    for _ in range(max(1, int(n_init))):
        # k-means++: each new centre is a data point drawn with probability proportional to
        # its squared distance from the centres chosen so far.
        C = np.empty((k, X.shape[1]))
        C[0] = X[rng.integers(n)]
        closest = _squared_distances(X, C[:1])[:, 0]
        for j in range(1, k):
            total = closest.sum()
            idx = rng.choice(n, p=closest / total) if total > 0 else rng.integers(n)
            C[j] = X[idx]
            closest = np.minimum(closest, _squared_distances(X, C[j:j + 1])[:, 0])
        for _ in range(int(n_iter)):
            D = _squared_distances(X, C)
            labels = D.argmin(axis=1)
            counts = np.bincount(labels, minlength=k)
            sums = np.zeros_like(C)
            np.add.at(sums, labels, X)
            new_C = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], C)
            empty = np.flatnonzero(counts == 0)
            if len(empty):  # rare: move each empty centre to a point far from its centre
                dist = D[np.arange(n), labels]
                for j in empty:
                    far = dist.argmax()
                    new_C[j] = X[far]
                    dist[far] = 0.0
            shift = ((new_C - C) ** 2).sum()
            C = new_C
            if shift <= tol:
                break
        D = _squared_distances(X, C)
        labels = D.argmin(axis=1)
        inertia = float(D[np.arange(n), labels].sum())
        if best is None or inertia < best[2]:
            best = (C.copy(), labels, inertia)
    return best


def rbf_design(X: np.ndarray, centers: np.ndarray, beta: float) -> np.ndarray:
    """Phi_ij = exp(-beta ||x_i - c_j||^2), shape (n_samples, n_centers)."""
    return np.exp(-beta * _squared_distances(X, centers))


class RBFNetwork(ClassifierMixin):
    """A Gaussian RBF network classifier: centres, then a least-squares output layer.

    Args:
        n_centers: number of hidden RBF units.
        beta: bandwidth in exp(-beta ||x - c||^2); larger is narrower.
        centers: ``'kmeans'`` (cluster centres of X) or ``'sample'`` (n_centers distinct
            training points drawn at random).
        solver: ``'lstsq'`` (``np.linalg.lstsq`` on [Phi, 1] and the one-hot targets) or
            ``'gd'`` (full-batch gradient descent on 1/2 mean ||[Phi, 1] V - T||^2 with
            step ``lr`` for ``epochs`` steps, from V = 0).
        random_state: None (lamina's global generator), an int or a numpy Generator.

    Fitted attributes: ``centers_``, ``coef_`` (n_centers, n_classes), ``intercept_``
    (n_classes,), ``classes_``, ``loss_`` (the final 1/2 mean squared error; the history
    per step for ``'gd'`` is ``loss_curve_``). ``score`` is the accuracy.
    """

    def __init__(self, n_centers: int = 10, beta: float = 1.0, centers: str = "kmeans",
                 solver: str = "lstsq", lr: float = 0.5, epochs: int = 2000,
                 random_state=None) -> None:
        self.n_centers = n_centers
        self.beta = beta
        self.centers = centers
        self.solver = solver
        self.lr = lr
        self.epochs = epochs
        self.random_state = random_state

    def _validate(self, n: int) -> None:
        if self.centers not in ("kmeans", "sample"):
            raise LaminaValueError(f"centers must be 'kmeans' or 'sample', got {self.centers!r}")
        if self.solver not in ("lstsq", "gd"):
            raise LaminaValueError(f"solver must be 'lstsq' or 'gd', got {self.solver!r}")
        if not (isinstance(self.n_centers, (int, np.integer)) and 1 <= self.n_centers <= n):
            raise LaminaValueError(f"n_centers must be an integer in [1, n_samples={n}], "
                                   f"got {self.n_centers!r}")
        if not (isinstance(self.beta, (int, float)) and self.beta > 0):
            raise LaminaValueError(f"beta must be a positive number, got {self.beta!r}")
        if self.solver == "gd" and not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise LaminaValueError(f"lr must be a positive number, got {self.lr!r}")

    def fit(self, X, y) -> "RBFNetwork":
        """Place the centres, then fit the output layer to the one-hot targets."""
        X, y = check_Xy(X, y)
        self._validate(X.shape[0])
        self.classes_, index = np.unique(y, return_inverse=True)
        T = np.eye(len(self.classes_))[index]
        rng = resolve_rng(self.random_state)
        if self.centers == "kmeans":
            self.centers_ = kmeans(X, int(self.n_centers), random_state=rng)[0]
        else:
            self.centers_ = X[rng.choice(X.shape[0], int(self.n_centers), replace=False)].copy()
        A = np.concatenate([rbf_design(X, self.centers_, self.beta), np.ones((X.shape[0], 1))], 1)
        if self.solver == "lstsq":
            V = np.linalg.lstsq(A, T, rcond=None)[0]
        else:
            V = np.zeros((A.shape[1], T.shape[1]))
            curve = np.empty(int(self.epochs))
            lr, n = float(self.lr), A.shape[0]
            for epoch in range(int(self.epochs)):
                residual = A @ V - T
                curve[epoch] = 0.5 * float((residual ** 2).sum()) / n
                V -= lr * (A.T @ residual) / n
            if not np.isfinite(V).all():
                raise LaminaValueError(f"gradient descent diverged with lr={self.lr}; use a smaller lr")
            self.loss_curve_ = curve
        self.loss_ = 0.5 * float(((A @ V - T) ** 2).sum()) / A.shape[0]
        self.coef_, self.intercept_ = V[:-1], V[-1]
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        """The raw outputs b + Phi(x) V, one column per class (n_samples, n_classes)."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        return rbf_design(X, self.centers_, self.beta) @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """The class whose output is largest."""
        outputs = self.decision_function(X)  # checks that the model is fitted
        return self.classes_[outputs.argmax(axis=1)]

"""Hebb's rule: neurons that fire together wire together (Dehaqani, "Introduction to Neural
Networks", "Hebbian Learning").

    w_i <- w_i + eta x_i y

"If neuron x_i repeatedly triggers neuron y, the synaptic knob connecting x_i to y gets
larger." The lecture notes that the model is fundamentally unstable: stronger connections
reinforce themselves, nothing reduces a weight, and learning is unbounded. The weight norm
recorded after every update (``weight_norms_``) shows it: with the targets as y it grows
linearly with the number of presentations; with the neuron's own output y = w . x it grows
geometrically (the weights align with the data's leading principal direction and their norm
is multiplied by about (1 + eta lambda_max) per presentation).

Oja's rule (1982), not in the lecture, is the one-line repair that adds the missing "reduction
in weights": w <- w + eta y (x - y w). The decay term -eta y^2 w balances the growth, ||w||
tends to 1 and w to the leading eigenvector of E[x x^T] (``rule='oja'``).
"""
from __future__ import annotations

import numpy as np

from ..errors import LaminaValueError
from .base import ClassifierMixin, augment, check_X, check_Xy, resolve_rng

__all__ = ["Hebbian"]


class Hebbian(ClassifierMixin):
    """A single neuron trained by Hebb's rule ``w <- w + eta x y``, the bias as a weight.

    ``fit(X, y)`` is the supervised "Hebb net": y is the desired output, coded bipolar
    (``classes_[0] -> -1``, ``classes_[1] -> +1``, so that negative examples also leave a
    trace), the weights start at 0, and ``predict`` thresholds ``w . [1, x]`` at 0. With
    bipolar inputs this learns AND and OR in one epoch.

    ``fit(X)`` (no targets) is Hebb's original, unsupervised rule: y = w . [1, x] is the
    neuron's own output, from small random weights (``random_state``); the weights then
    grow without bound. ``rule='oja'`` (unsupervised only) uses Oja's normalised rule
    ``w <- w + eta y ([1, x] - y w)`` instead, whose norm tends to 1.
    ``decision_function`` gives w . [1, x]; ``predict`` needs targets.

    Fitted attributes: ``coef_``, ``intercept_``, ``weight_norms_`` (||w|| after every
    update, epochs x samples of them), ``classes_`` (supervised only).
    """

    def __init__(self, lr: float = 0.1, epochs: int = 10, random_state=None,
                 rule: str = "hebb") -> None:
        self.lr = lr
        self.epochs = epochs
        self.random_state = random_state
        self.rule = rule

    def fit(self, X, y=None) -> "Hebbian":
        """Present the samples ``epochs`` times in order, updating after each one."""
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise LaminaValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.epochs, (int, np.integer)) and self.epochs >= 1):
            raise LaminaValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.rule not in ("hebb", "oja"):
            raise LaminaValueError(f"rule must be 'hebb' or 'oja', got {self.rule!r}")
        if self.rule == "oja" and y is not None:
            raise LaminaValueError("Oja's rule is unsupervised (y is the neuron's own output); "
                                   "call fit(X) without targets, or use rule='hebb'")
        oja = self.rule == "oja"
        if y is None:
            X = check_X(X)
            targets = None
            w = 0.01 * resolve_rng(self.random_state).standard_normal(X.shape[1] + 1)
            self.supervised_ = False
        else:
            X, y = check_Xy(X, y)
            targets = 2.0 * self._binary_labels(y) - 1.0
            w = np.zeros(X.shape[1] + 1)
            self.supervised_ = True
        Xa = augment(X)
        norms = []
        # Sequential by definition: each update changes the output the next sample sees.
        for _ in range(int(self.epochs)):
            for i, x_i in enumerate(Xa):
                y_i = targets[i] if targets is not None else x_i @ w
                w += self.lr * y_i * (x_i - y_i * w if oja else x_i)
                norms.append(np.sqrt(w @ w))
        if not np.isfinite(w).all():
            raise LaminaValueError(
                f"{'Oja' if oja else 'Hebb'}'s rule overflowed after {len(norms)} updates; "
                f"use fewer epochs or a smaller lr than {self.lr}")
        self.weight_norms_ = np.array(norms)
        self.intercept_ = float(w[0])
        self.coef_ = w[1:].copy()
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        """The neuron's net input ``w . x + w_0`` for each row of X."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        return X @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where the net input is >= 0, else ``classes_[0]``."""
        self._check_fitted()
        if not self.supervised_:
            raise LaminaValueError("this Hebbian neuron was fitted without targets, so it has "
                                   "no classes to predict; use decision_function(X)")
        return self.classes_[(self.decision_function(X) >= 0).astype(np.int64)]

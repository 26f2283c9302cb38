"""MADALINE (Many ADALINEs) trained by Widrow's MRII, the minimal-disturbance rule.

Dehaqani, "Introduction to Neural Networks", "Multilayer perceptron: MADALINE; training":

- update only on error;
- if error, find the z that is closest to 0;
- flip the output of the corresponding unit and compute the new output;
- if the error reduces, set the desired output of the unit to the flipped value and apply
  the ADALINE rule to update the weights of the unit.

The hidden layer is a row of Adalines with bipolar outputs h_j = sign(z_j) (+1 for
z_j >= 0) and the output unit is a fixed logic gate of the h_j (OR, AND or majority, as in
Widrow's MADALINE), so only the hidden weights learn. The unit whose z is closest to 0 is
the one whose flip disturbs the weights least; if flipping it does not fix the output the
next-closest is tried, and if no single flip does, pairs of units in order of
|z_i| + |z_j| (MRII's pair trials). The ADALINE update of an accepted unit is Widrow's
alpha-LMS step  w_j <- w_j + eta (h'_j - z_j) x / ||x||^2, which with eta = 1 moves z_j
exactly onto the new desired output h'_j = +/-1, so the accepted flip really happens.

For threshold units the search is a combinatorial problem (the lecture: "NP-complete"), and
MRII is a heuristic: from some starting weights it gets stuck. :class:`Madaline` reports
``converged_`` rather than promising success. Measured on XOR with 2 hidden units, lr = 1
and 200 epochs, over the seeds 0..199: with Widrow's bipolar inputs (+/-1) every start
converged (200/200 with the OR gate and with the AND gate); with 0/1 inputs only 47/200 (OR)
and 15/200 (AND) did, because the pattern (0, 0) reaches the units through the bias alone and
the full alpha-LMS steps for different patterns keep undoing one another.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import LaminaValueError
from .base import ClassifierMixin, augment, check_X, check_Xy, resolve_rng

__all__ = ["Madaline"]

_OUTPUTS = ("or", "and", "majority")


def _gate(h: np.ndarray, output: str) -> np.ndarray:
    """The fixed output unit on bipolar hidden outputs h (..., H): +1 or -1."""
    if output == "or":
        fires = (h > 0).any(axis=-1)
    elif output == "and":
        fires = (h > 0).all(axis=-1)
    else:  # majority; a tie counts as -1
        fires = h.sum(axis=-1) > 0
    return np.where(fires, 1, -1)


class Madaline(ClassifierMixin):
    """A MADALINE with ``hidden_units`` Adalines and a fixed ``output`` gate, trained by MRII.

    Hidden weights start uniform in [-0.5, 0.5] (drawn from ``random_state``: None uses
    lamina's global generator, seeded by ``lm.manual_seed``). Each epoch visits the
    patterns in order and applies the MRII step to every misclassified one; training stops
    after an epoch without errors (``converged_``) or after ``epochs``.

    Fitted attributes: ``coef_`` (hidden_units, n_features), ``intercept_``
    (hidden_units,), ``classes_``, ``errors_`` (misclassified patterns met in each epoch),
    ``converged_``, ``n_epochs_``.
    """

    def __init__(self, hidden_units: int = 2, lr: float = 1.0, epochs: int = 100,
                 output: str = "or", random_state=None) -> None:
        self.hidden_units = hidden_units
        self.lr = lr
        self.epochs = epochs
        self.output = output
        self.random_state = random_state

    def _validate(self) -> None:
        if self.output not in _OUTPUTS:
            raise LaminaValueError(f"unknown output gate {self.output!r}; accepted: {list(_OUTPUTS)}")
        if not (isinstance(self.hidden_units, (int, np.integer)) and self.hidden_units >= 1):
            raise LaminaValueError(f"hidden_units must be a positive integer, got {self.hidden_units!r}")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr <= 2):
            raise LaminaValueError(f"lr (the alpha-LMS step) must lie in (0, 2], got {self.lr!r}")
        if not (isinstance(self.epochs, (int, np.integer)) and self.epochs >= 1):
            raise LaminaValueError(f"epochs must be a positive integer, got {self.epochs!r}")

    def _trials(self, z: np.ndarray):
        """Sets of hidden units to flip, least disturbance first: singles, then pairs."""
        order = np.argsort(np.abs(z), kind="stable")
        yield from ((int(j),) for j in order)
        pairs = sorted(itertools.combinations(order.tolist(), 2),
                       key=lambda p: abs(z[p[0]]) + abs(z[p[1]]))
        yield from pairs

    def fit(self, X, y) -> "Madaline":
        """Train the hidden Adalines with MRII until an error-free epoch or ``epochs``."""
        self._validate()
        X, y = check_Xy(X, y)
        d = 2 * self._binary_labels(y) - 1
        Xa = augment(X)
        W = resolve_rng(self.random_state).uniform(-0.5, 0.5, (int(self.hidden_units), Xa.shape[1]))
        lr = float(self.lr)
        self.errors_ = []
        self.converged_ = False
        # MRII adapts after each pattern, so the loop over patterns is the algorithm.
        for epoch in range(1, int(self.epochs) + 1):
            mistakes = 0
            for x_i, d_i in zip(Xa, d):
                z = W @ x_i
                h = np.where(z >= 0, 1, -1)
                if _gate(h, self.output) == d_i:
                    continue
                mistakes += 1
                for flip in self._trials(z):
                    trial = h.copy()
                    trial[list(flip)] *= -1
                    if _gate(trial, self.output) == d_i:  # the error drops (from 1 to 0)
                        for j in flip:
                            W[j] += lr * (trial[j] - z[j]) * x_i / (x_i @ x_i)
                        break
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_epochs_ = epoch
        self.coef_ = W[:, 1:].copy()
        self.intercept_ = W[:, 0].copy()
        self.n_features_in_ = X.shape[1]
        return self

    def hidden_outputs(self, X) -> np.ndarray:
        """The hidden Adalines' bipolar outputs sign(z_j), shape (n_samples, hidden_units)."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        return np.where(X @ self.coef_.T + self.intercept_ >= 0, 1, -1)

    def predict(self, X) -> np.ndarray:
        """The output gate's decision, as labels from ``classes_``."""
        h = self.hidden_outputs(X)  # checks that the model is fitted
        return self.classes_[(_gate(h, self.output) > 0).astype(np.int64)]

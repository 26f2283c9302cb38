"""Widrow and Hoff's ADALINE (the LMS / delta rule) and the generalized delta rule.

Dehaqani, "Introduction to Neural Networks", "History: ADALINE": during learning the unit's
output is taken to be its linear net input z = w . x (the bias as a weight), the error for
one input is Err(x) = 1/2 (d - z)^2 with dErr/dw_i = -(d - z) x_i, and the online rule
after each input

    delta = d - z,     w_i <- w_i + eta delta x_i

is "the famous delta rule, also called the LMS update rule"; the classification is
out = 1 if z >= 0 else 0. Because the rule descends the squared error of the *linear*
output, it converges (for a small enough eta) to the least-squares solution, not to a
separating hyperplane as the perceptron does.

The same lecture, "Generalized delta rule": for any differentiable activation f, with y = f(z),

    delta = d - y,     w_i <- w_i + eta delta f'(z) x_i,

"exactly backpropagation in multilayer nets if we let f(z) represent the entire network
between z and y".
"""
from __future__ import annotations

import numpy as np

from ..errors import LaminaValueError
from .backprop import ACTIVATIONS
from .base import ClassifierMixin, augment, check_X, check_Xy

__all__ = ["DeltaRule", "Adaline"]

# activation -> (target for classes_[0], target for classes_[1]); the threshold between
# them is their midpoint (0.5 for the sigmoid, 0 for tanh and the linear unit).
_TARGETS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "identity": (-1.0, 1.0)}


class DeltaRule(ClassifierMixin):
    """A single unit y = f(w . [1, x]) trained by the generalized delta rule (Dehaqani,
    "Introduction to Neural Networks").

    Online (default): for each sample in order, ``w <- w + eta (d - f(z)) f'(z) [1, x]``.
    ``batch=True``: one step per epoch along the mean of those updates, i.e. gradient
    descent on the mean of Err = 1/2 (d - f(z))^2. The two classes are coded as the
    activation's extremes (``classes_[0] -> 0`` and ``classes_[1] -> 1`` for the sigmoid,
    -1 and +1 for tanh and the linear unit) and ``predict`` thresholds f(z) at their
    midpoint. The weights start at 0.

    Fitted attributes: ``coef_``, ``intercept_``, ``classes_``, ``cost_`` (the mean of
    1/2 (d - f(z))^2 over the training set after each epoch).
    """

    def __init__(self, activation: str = "sigmoid", lr: float = 0.5, epochs: int = 1000,
                 batch: bool = False) -> None:
        self.activation = activation
        self.lr = lr
        self.epochs = epochs
        self.batch = batch

    def _functions(self):
        if self.activation not in _TARGETS:
            raise LaminaValueError(f"unknown activation {self.activation!r} for a delta-rule "
                                   f"classifier; accepted: {sorted(_TARGETS)}")
        return ACTIVATIONS[self.activation]

    def fit(self, X, y) -> "DeltaRule":
        """Run ``epochs`` passes of the delta rule over (X, y)."""
        f, fprime = self._functions()
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise LaminaValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.epochs, (int, np.integer)) and self.epochs >= 1):
            raise LaminaValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        X, y = check_Xy(X, y)
        low, high = _TARGETS[self.activation]
        d = np.where(self._binary_labels(y) == 1, high, low)
        Xa = augment(X)
        w = np.zeros(Xa.shape[1])
        lr = float(self.lr)
        costs = []
        for _ in range(int(self.epochs)):
            if self.batch:
                z = Xa @ w
                w += lr * (((d - f(z)) * fprime(z)) @ Xa) / len(d)
            else:
                # Online learning is sequential by definition: each update changes the
                # net input of the next sample.
                for x_i, d_i in zip(Xa, d):
                    z_i = x_i @ w
                    w += lr * (d_i - f(z_i)) * fprime(z_i) * x_i
            costs.append(0.5 * float(np.mean((d - f(Xa @ w)) ** 2)))
        if not np.isfinite(w).all():
            raise LaminaValueError(f"the delta rule diverged with lr={self.lr}; use a smaller lr")
        self.cost_ = np.array(costs)
        self.intercept_ = float(w[0])
        self.coef_ = w[1:].copy()
        self.n_features_in_ = X.shape[1]
        return self

    def net_input(self, X) -> np.ndarray:
        """z = w . x + w_0 for each row of X."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        return X @ self.coef_ + self.intercept_

    def decision_function(self, X) -> np.ndarray:
        """The unit's output f(z) for each row of X (the sigmoid's is P(class 1 | x))."""
        f, _ = self._functions()
        return f(self.net_input(X))

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where f(z) is at or above the midpoint of the two targets."""
        low, high = _TARGETS[self.activation]
        output = self.decision_function(X)  # checks that the model is fitted
        return self.classes_[(output >= 0.5 * (low + high)).astype(np.int64)]


class Adaline(DeltaRule):
    """ADALINE: the LMS / Widrow-Hoff rule ``w <- w + eta (d - z) [1, x]`` on the *linear*
    output z = w . [1, x], with targets d = -1 / +1 and out = ``classes_[1]`` iff z >= 0.

    This is :class:`DeltaRule` with the identity activation. With ``batch=True`` it is
    gradient descent on the mean squared error and converges to the least-squares
    solution of ``[1, X] w = d`` (``np.linalg.lstsq``) for lr below 2 / lambda_max of
    ``[1, X]^T [1, X] / n``; the online rule with a fixed lr hovers around it, the closer
    the smaller lr is.

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 0, 0, 1])
    >>> Adaline(lr=0.1, epochs=100).fit(X, y).predict(X)
    array([0, 0, 0, 1])
    """

    def __init__(self, lr: float = 0.01, epochs: int = 50, batch: bool = False) -> None:
        super().__init__(activation="identity", lr=lr, epochs=epochs, batch=batch)


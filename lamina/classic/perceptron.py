"""Rosenblatt's perceptron and hand-wired threshold networks.

Dehaqani, "Introduction to Neural Networks" ("Rosenblatt's perceptron", "Simplified mathematical
model"): a threshold unit

    Y = 1  if  sum_i w_i x_i - T > 0,   else 0,

trained by the sequential rule

    W <- W + eta (d(x) - y(x)) x,

which changes the weights only when the output is wrong and converges for linearly
separable classes. As in Dehaqani's lecture's "Learning the perceptron" the threshold is folded into
the weights by augmenting x with a constant input 1 (``w_0 = -T``), so the bias is learned
like any other weight. Ghauch & Ghadikolaei, "Fundamentals of Deep Neural Networks" ("Perceptron:
atom of NNs") write the same unit as
``z = sigma(w^T x)`` with a step sigma. No weight vector separates XOR (Minsky and Papert,
Dehaqani, "Introduction to Neural Networks"), so there the rule never stops changing the weights.

The helpers every classical model uses (input checks, ``ClassifierMixin``) are in
:mod:`.base`.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import LaminaValueError, ShapeError
from .base import ClassifierMixin, ConvergenceWarning, augment, check_X, check_Xy, step

__all__ = ["Perceptron", "ThresholdNetwork", "polygon_network", "circle_network",
           "union_network"]


class Perceptron(ClassifierMixin):
    """Rosenblatt's perceptron with the bias as a weight (Dehaqani's lecture; Ghauch &
    Ghadikolaei, "Fundamentals of Deep Neural Networks").

    Each epoch visits the samples in order; for each one the output
    ``y = step(w . [1, x])`` (1 iff the net input is > 0, Dehaqani's lecture's threshold logic) is
    compared with the desired ``d`` in {0, 1} and the weights move by
    ``eta (d - y) [1, x]``: nothing when right, +/- eta x when wrong. The weights start at 0.

    Training stops after the first epoch without a mistake (``converged_ = True``,
    ``n_epochs_`` is that epoch's number, counted from 1; the epochs before it made the
    updates) or after ``max_epochs`` epochs. On classes that no hyperplane separates (XOR)
    the rule keeps cycling: then ``converged_ = False``, ``n_epochs_ = max_epochs`` and a
    :class:`ConvergenceWarning` says so.

    Fitted attributes: ``coef_`` (n_features,), ``intercept_`` (= -T), ``classes_``,
    ``errors_`` (the number of mistakes, i.e. updates, in each epoch), ``converged_``,
    ``n_epochs_``.

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 0, 0, 1])
    >>> Perceptron().fit(X, y).predict(X)
    array([0, 0, 0, 1])
    """

    def __init__(self, lr: float = 1.0, max_epochs: int = 100) -> None:
        self.lr = lr
        self.max_epochs = max_epochs

    def fit(self, X, y) -> "Perceptron":
        """Run the perceptron rule until an error-free epoch or ``max_epochs``."""
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise LaminaValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.max_epochs, (int, np.integer)) and self.max_epochs >= 1):
            raise LaminaValueError(f"max_epochs must be a positive integer, got {self.max_epochs!r}")
        X, y = check_Xy(X, y)
        d = self._binary_labels(y)
        Xa = augment(X)
        w = np.zeros(Xa.shape[1])
        self.errors_ = []
        self.converged_ = False
        # The rule is sequential by definition (each update changes the weights the next
        # sample sees), so the loop over samples is the algorithm, not an inefficiency.
        for epoch in range(1, int(self.max_epochs) + 1):
            mistakes = 0
            for x_i, d_i in zip(Xa, d):
                y_i = 1 if x_i @ w > 0 else 0
                if y_i != d_i:
                    w += self.lr * (d_i - y_i) * x_i
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_epochs_ = epoch
        self.intercept_ = float(w[0])
        self.coef_ = w[1:].copy()
        self.n_features_in_ = X.shape[1]
        if not self.converged_:
            warnings.warn(
                f"Perceptron did not converge in max_epochs={self.max_epochs} epochs "
                f"({self.errors_[-1]} mistakes in the last epoch): the classes are not "
                f"linearly separable, or more epochs are needed", ConvergenceWarning,
                stacklevel=2)
        return self

    def decision_function(self, X) -> np.ndarray:
        """The net input ``w . x - T`` of every sample, shape (n_samples,)."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        return X @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where the net input is > 0, else ``classes_[0]``."""
        z = self.decision_function(X)  # checks that the model is fitted
        return self.classes_[step(z)]


class ThresholdNetwork:
    """A hand-wired feed-forward network of threshold (perceptron) units.

    ``layers`` is a list of ``(W, b)`` with W of shape (n_out, n_in): layer l computes
    ``y_l = step(W_l y_{l-1} + b_l)`` with step(z) = 1 iff z >= 0, for all samples at once.
    Dehaqani's lecture ("Composing complicated decision boundaries") builds polygons as the AND of
    half-plane perceptrons and unions of polygons with a third layer; see
    :func:`polygon_network`, :func:`circle_network` and :func:`union_network`.
    """

    def __init__(self, layers: list) -> None:
        self.layers = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64))
                       for W, b in layers]
        for i, (W, b) in enumerate(self.layers):
            if W.ndim != 2 or b.shape != (W.shape[0],):
                raise ShapeError(f"layer {i}: need W (n_out, n_in) and b (n_out,), got "
                                 f"{W.shape} and {b.shape}")
            if i and W.shape[1] != self.layers[i - 1][0].shape[0]:
                raise ShapeError(f"layer {i} takes {W.shape[1]} inputs but layer {i - 1} "
                                 f"has {self.layers[i - 1][0].shape[0]} units")

    def _chunks(self, X):
        """Row blocks of X small enough that a layer's (rows, units) array stays ~16 MB."""
        X = check_X(X, n_features=self.layers[0][0].shape[1])
        rows = max(1, 2_000_000 // max(W.shape[0] for W, _ in self.layers))
        return [X[i:i + rows] for i in range(0, X.shape[0], rows)]

    def hidden_sum(self, X) -> np.ndarray:
        """The number of first-layer units that fire (Dehaqani's lecture's "Sum" for a polygon)."""
        W, b = self.layers[0]
        return np.concatenate([(x @ W.T + b >= 0).sum(axis=1) for x in self._chunks(X)])

    def predict(self, X) -> np.ndarray:
        """The 0/1 output of the last layer, shape (n_samples,) for one output unit."""
        outputs = []
        for y in self._chunks(X):
            for W, b in self.layers:
                y = step(y @ W.T + b, strict=False)
            outputs.append(y)
        y = np.concatenate(outputs)
        return y[:, 0] if y.shape[1] == 1 else y


def polygon_network(vertices) -> ThresholdNetwork:
    """The AND of the half-planes of a convex polygon (vertices in counter-clockwise order).

    One perceptron per edge fires on the inner side of its edge; the output unit fires iff
    all N of them do (weights 1, threshold N): Dehaqani's lecture's square, pentagon and hexagon.
    """
    V = np.asarray(vertices, dtype=np.float64)
    if V.ndim != 2 or V.shape[1] != 2 or V.shape[0] < 3:
        raise ShapeError(f"vertices must have shape (N >= 3, 2), got {V.shape}")
    edges = np.roll(V, -1, axis=0) - V
    # The inward normal of a counter-clockwise edge (dx, dy) is (-dy, dx).
    normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
    offsets = -np.einsum("ij,ij->i", normals, V)
    n = len(V)
    return ThresholdNetwork([(normals, offsets), (np.ones((1, n)), np.array([-n + 0.5]))])


def circle_network(center=(0.0, 0.0), radius: float = 1.0, n: int = 16) -> ThresholdNetwork:
    """A circle approximated by the regular N-gon circumscribed about it (N half-planes).

    Dehaqani's lecture, "In the limit: composing a circle": as N grows the polygon's excess area
    ``r^2 (N tan(pi/N) - pi)`` goes to 0.
    """
    if n < 3:
        raise LaminaValueError(f"a polygon needs n >= 3 sides, got {n}")
    theta = 2 * np.pi * (np.arange(n) + 0.5) / n
    vertex_radius = radius / np.cos(np.pi / n)  # so that each edge is tangent to the circle
    V = np.asarray(center, dtype=np.float64) + vertex_radius * np.stack(
        [np.cos(theta), np.sin(theta)], axis=1)
    return polygon_network(V)


def union_network(networks: list) -> ThresholdNetwork:
    """The OR of several two-layer polygon networks: the third layer of Dehaqani's lecture's
    "The need for depth" (a network that fires in either of two polygons)."""
    for net in networks:
        if len(net.layers) != 2 or net.layers[1][0].shape[0] != 1:
            raise LaminaValueError("union_network joins two-layer networks with one output "
                                   f"unit each, got layer widths {[W.shape[0] for W, _ in net.layers]}")
    first_W = np.concatenate([net.layers[0][0] for net in networks])
    first_b = np.concatenate([net.layers[0][1] for net in networks])
    sizes = [net.layers[0][0].shape[0] for net in networks]
    second_W = np.zeros((len(networks), sum(sizes)))
    second_b = np.array([net.layers[1][1][0] for net in networks])
    start = 0
    for i, (net, size) in enumerate(zip(networks, sizes)):
        second_W[i, start:start + size] = net.layers[1][0][0]
        start += size
    return ThresholdNetwork([(first_W, first_b), (second_W, second_b),
                             (np.ones((1, len(networks))), np.array([-0.5]))])

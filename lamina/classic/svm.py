"""The multiclass linear SVM, logistic regression's twin at the other limit of Schwing &
Telgarsky's framework (eps -> 0 with the 0-1 task loss; see :mod:`.linear`): the
Crammer-Singer hinge 1/2 ||W||^2 + C sum_i max_yhat (1[yhat != y_i] + w_yhat . x_i - w_y_i . x_i),
or the binary hinge for two classes, trained by stochastic subgradient descent (Pegasos).
"""
from __future__ import annotations

import warnings

import numpy as np

from .base import ConvergenceWarning, resolve_rng
from .linear import _LinearClassifier, _check_params

__all__ = ["LinearSVC"]


def _hinge_terms(W: np.ndarray, Xa: np.ndarray, index: np.ndarray, binary: bool):
    """Per-sample hinge losses and, for the violators, which class row gets +x and -x.

    Binary (labels s = +/-1 for index 1/0): max(0, 1 - s w.x). Crammer-Singer:
    max_yhat (1[yhat != y] + w_yhat.x) - w_y.x, whose subgradient is +x on the row of the
    maximising yhat and -x on row y (zero when the max is the true class itself).
    """
    S = Xa @ W.T
    rows = np.arange(len(index))
    if binary:
        sign = 2.0 * index - 1.0
        loss = np.maximum(0.0, 1.0 - sign * S[:, 0])
        return loss, sign
    margins = S + 1.0 - S[rows, index][:, None]
    margins[rows, index] = 0.0
    worst = np.argmax(margins, axis=1)
    return margins[rows, worst], worst


class LinearSVC(_LinearClassifier):
    """The linear SVM (hinge loss), trained by Pegasos: stochastic subgradient descent.

    The lecture's framework at eps -> 0 with the 0-1 task loss (see the module docstring),
    with scikit-learn's weighting. For K > 2 classes, Crammer and Singer's multiclass SVM:

        min_W  1/2 ||W||^2 + C sum_i max_yhat (1[yhat != y_i] + w_yhat . x_i - w_y_i . x_i);

    for two classes the binary SVM with one w and s_i = +1 for ``classes_[1]``, -1 otherwise:

        min_w  1/2 ||w||^2 + C sum_i max(0, 1 - s_i w . x_i).

    As in scikit-learn's (liblinear's) ``LinearSVC``, the intercept is the weight of an extra
    constant feature ``intercept_scaling`` (above, x_i carries it and W its column when
    ``fit_intercept``) and is penalised with the others
    (``intercept_ = intercept_scaling * w_extra``); a larger ``intercept_scaling`` penalises it
    less, but like any large feature slows SGD down.

    Training (Shalev-Shwartz et al.'s Pegasos): with lambda = 1 / (C n) the objective is
    n (lambda/2 ||W||^2 + mean hinge). Each epoch visits the samples in an order drawn from
    ``random_state``, in mini-batches B of ``batch_size``; step t moves

        W <- (1 - 1/t) W - 1/(lambda t) * mean_{i in B} g_i,

    g_i the subgradient of sample i's hinge, then projects W onto the ball
    ||W|| <= sqrt(2 / lambda) that holds the optimum. The returned weights are the
    polynomial-decay average W_avg <- (1 - 4/(t+3)) W_avg + 4/(t+3) W (Shamir and Zhang),
    whose suboptimality falls as O(1/(lambda t)). Training stops when the objective of W_avg
    has changed by at most ``tol`` (relative) per epoch over the last ``n_iter_no_change``
    epochs, or after ``max_iter`` epochs with a :class:`ConvergenceWarning`. SGD is noisy:
    at the defaults the objective is typically within 1-2% of the optimum for C <= 1 on
    standardised features, and a larger C (smaller lambda) needs proportionally more epochs
    (lower ``tol``). Like every SGD method it is slow on badly scaled features: standardise X.

    Fitted attributes: ``coef_`` (1 or K, n_features), ``intercept_`` (1 or K,),
    ``classes_``, ``n_features_in_``, ``n_iter_`` (epochs run), ``objective_`` (the
    objective above after each epoch, for W_avg).

    >>> X = np.array([[-2.], [-1.], [1.], [2.]]); y = np.array([0, 0, 1, 1])
    >>> LinearSVC(random_state=0).fit(X, y).predict([[-1.5], [1.5]])
    array([0, 1])
    """

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, intercept_scaling: float = 1.0,
                 max_iter: int = 1000, tol: float = 1e-4, batch_size: int = 8,
                 n_iter_no_change: int = 10, random_state=None) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def fit(self, X, y) -> "LinearSVC":
        """Run Pegasos epochs from W = 0 until the averaged objective settles or ``max_iter``."""
        _check_params(self, C="positive", tol="nonnegative", max_iter="count", batch_size="count",
                      n_iter_no_change="count", intercept_scaling="positive",
                      fit_intercept="bool")
        X, index = self._prepare(X, y)
        rng = resolve_rng(self.random_state)
        binary = len(self.classes_) == 2
        Xa = self._design(X, self.intercept_scaling)
        n = Xa.shape[0]
        C, lam = float(self.C), 1.0 / (float(self.C) * n)
        radius = np.sqrt(2.0 / lam)  # lambda/2 ||W*||^2 <= objective(0)/n = 1
        W = np.zeros((1 if binary else len(self.classes_), Xa.shape[1]))
        W_avg = W.copy()
        t, history, converged = 0, [], False
        batch, patience = int(self.batch_size), int(self.n_iter_no_change)
        for _ in range(int(self.max_iter)):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                rows = order[start:start + batch]
                loss, target = _hinge_terms(W, Xa[rows], index[rows], binary)
                violated = loss > 0
                G = np.zeros_like(W)
                x = Xa[rows][violated]
                if binary:
                    G[0] = -(target[violated] @ x)
                else:
                    np.add.at(G, target[violated], x)
                    np.add.at(G, index[rows][violated], -x)
                t += 1
                W = (1.0 - 1.0 / t) * W - G / (lam * t * len(rows))
                norm = float(np.sqrt(np.sum(W * W)))
                if norm > radius:
                    W *= radius / norm
                weight = 4.0 / (t + 3.0)
                W_avg = (1.0 - weight) * W_avg + weight * W
            loss, _ = _hinge_terms(W_avg, Xa, index, binary)
            history.append(0.5 * float(np.sum(W_avg * W_avg)) + C * float(loss.sum()))
            if len(history) > patience and \
                    abs(history[-1 - patience] - history[-1]) <= self.tol * patience * history[-1]:
                converged = True
                break
        if not converged:
            warnings.warn(
                f"LinearSVC did not converge in max_iter={self.max_iter} epochs (the objective "
                f"still changes by more than tol={self.tol} per epoch); increase max_iter or "
                "standardise the features", ConvergenceWarning, stacklevel=2)
        d = X.shape[1]
        self.coef_ = W_avg[:, :d].copy()
        self.intercept_ = (float(self.intercept_scaling) * W_avg[:, d] if self.fit_intercept
                           else np.zeros(W_avg.shape[0]))
        self.n_iter_ = len(history)
        self.objective_ = np.array(history)
        return self

"""Logistic regression and the multiclass linear SVM: one framework, two limits.

Schwing & Telgarsky, "Deep Neural Networks" (recap of "our earlier framework") write both
models as one regularised objective over a weight vector w and a joint feature map psi(x, y):

    min_w  C/2 ||w||^2 + sum_i ( eps ln sum_yhat exp((L(y_i, yhat) + w^T psi(x_i, yhat)) / eps)
                                 - w^T psi(x_i, y_i) ).

With psi(x, y) placing x in the block of class y, w^T psi(x, y) = w_y . x is the score of class y:

- eps = 1, L = 0: the term is ln sum_yhat exp(w_yhat . x_i) - w_y_i . x_i, the cross-entropy of
  the softmax of the scores, i.e. (multinomial) **logistic regression**;
- eps -> 0, L = the 0-1 loss 1[yhat != y]: eps ln sum exp(./eps) tends to the max, and the term
  becomes max_yhat (1[yhat != y_i] + w_yhat . x_i) - w_y_i . x_i, the Crammer-Singer
  **multiclass hinge** (the multiclass SVM).

For two classes y = +/-1 and psi(x, y) = y x / 2 the same two limits are the binary models with
one weight vector: ln(1 + exp(-y_i w . x_i)) at eps = 1 and max(0, 1 - y_i w . x_i) as eps -> 0.

"A deep net with a single fully connected layer is equivalent to logistic regression" (same
lecture): :class:`LogisticRegression` is that layer trained to the exact optimum.

Both estimators follow scikit-learn: the data term is weighted by ``C`` and the penalty is
1/2 ||W||^2, i.e. the lecture's objective divided by its C with ``C_sklearn = 1 / C_lecture``.
For two classes both fit scikit-learn's *binary* model, one weight vector with ``coef_`` of
shape (1, n_features). Labels may be any sortable values; ``classes_`` holds them sorted.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import LaminaValueError
from .base import ClassifierMixin, ConvergenceWarning, check_X, check_Xy

__all__ = ["LogisticRegression"]  # its twin, LinearSVC, is in .svm


def _check_params(model, **bounds) -> None:
    """Raise for a hyperparameter outside its range; ``bounds`` maps name -> kind."""
    for name, kind in bounds.items():
        value = getattr(model, name)
        if kind == "positive":
            ok = isinstance(value, (int, float, np.number)) and np.isfinite(value) and value > 0
            expected = "a positive finite number"
        elif kind == "nonnegative":
            ok = isinstance(value, (int, float, np.number)) and np.isfinite(value) and value >= 0
            expected = "a non-negative number"
        elif kind == "count":
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
            expected = "a positive integer"
        else:  # "bool"
            ok = isinstance(value, (bool, np.bool_))
            expected = "True or False"
        if not ok:
            raise LaminaValueError(
                f"{type(model).__name__}: {name} must be {expected}, got {value!r}")


class _LinearClassifier(ClassifierMixin):
    """Scores ``X @ coef_.T + intercept_``, labels, and the fit-time bookkeeping."""

    def _prepare(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Checked float X and the label index of each sample (``classes_`` stored)."""
        X, y = check_Xy(X, y)
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise LaminaValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; y has only the "
                f"class {classes.tolist()}")
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        return X, index.astype(np.int64)

    def _design(self, X: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """``[X, scale]`` when fitting an intercept (its weight is the intercept / scale)."""
        if not self.fit_intercept:
            return X
        return np.concatenate([X, np.full((X.shape[0], 1), float(scale))], axis=1)

    def decision_function(self, X) -> np.ndarray:
        """The class scores ``X W^T + b``: shape (n_samples,) for two classes (the score of
        ``classes_[1]``), (n_samples, n_classes) otherwise."""
        self._check_fitted()
        X = check_X(X, n_features=self.n_features_in_)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """The class of highest score (``classes_[1]`` where the binary score is > 0)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.int64)]
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``."""
        return super().score(check_X(X), y)


# ------------------------------------------------------------------ logistic regression


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def _conjugate_gradient(hessp, b: np.ndarray, diagonal: np.ndarray, tol: float,
                        max_iter: int) -> np.ndarray:
    """Approximately solve H p = b (H symmetric positive semi-definite) by conjugate gradients
    preconditioned with H's diagonal, stopping at ||H p - b|| <= tol or at a direction of
    (numerically) zero curvature. Returns b itself if not even one step was possible."""
    inverse = 1.0 / np.maximum(diagonal, 1e-12 * max(float(diagonal.max()), 1e-300))
    p = np.zeros_like(b)
    r = b.copy()
    z = inverse * r
    d = z.copy()
    rz = float(np.sum(r * z))
    for _ in range(max_iter):
        if np.sqrt(np.sum(r * r)) <= tol:
            break
        Hd = hessp(d)
        curvature = float(np.sum(d * Hd))
        if curvature <= 1e-16 * float(np.sum(d * d)) * float(diagonal.max()):
            break
        alpha = rz / curvature
        p += alpha * d
        r -= alpha * Hd
        z = inverse * r
        rz_new = float(np.sum(r * z))
        d = z + (rz_new / rz) * d
        rz = rz_new
    return p if np.any(p) else b


class LogisticRegression(_LinearClassifier):
    """L2-regularised logistic regression, solved to optimality by Newton's method.

    The lecture's framework at eps = 1 and L = 0 (see the module docstring), with
    scikit-learn's weighting. For K > 2 classes (multinomial softmax, W of shape (K, d)):

        min_{W, b}  1/2 ||W||^2 + C sum_i -ln softmax(W x_i + b)_{y_i};

    for two classes (scikit-learn's binary model, one w, t_i = 1 for ``classes_[1]``):

        min_{w, b}  1/2 ||w||^2 + C sum_i ln(1 + exp(-(2 t_i - 1)(w . x_i + b))).

    The intercept is not penalised (multinomial intercepts are then defined up to a common
    shift; they are returned summing to 0, as scikit-learn does). The objective is strictly
    convex in W, so Newton's method converges to the unique optimum: each step solves
    H p = -g by conjugate gradients with Hessian-vector products (the Hessian is never
    formed; for the softmax H v = C X^T (P o Xv - P o rowsum(P o Xv)) + v; CG is
    preconditioned by H's diagonal, which copes with unscaled features) and takes the
    longest step 1, 1/2, 1/4, ... that decreases the objective enough (Armijo). It stops
    when every component of the gradient of the objective divided by C n (a mean loss
    plus ||W||^2 / (2 C n)) is at most ``tol``, or after ``max_iter`` Newton steps with a
    :class:`ConvergenceWarning`.

    Fitted attributes: ``coef_`` (1 or K, n_features), ``intercept_`` (1 or K,),
    ``classes_``, ``n_features_in_``, ``n_iter_`` (array of one int: the Newton steps).

    >>> X = np.array([[0.], [1.], [2.], [3.]]); y = np.array(["a", "a", "b", "b"])
    >>> LogisticRegression(C=10.0).fit(X, y).predict([[0.2], [2.8]])
    array(['a', 'b'], dtype='<U1')
    """

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 100,
                 tol: float = 1e-4) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _objective(self, Xa: np.ndarray, index: np.ndarray, binary: bool):
        """f(Theta), its gradient and the Hessian-vector product, for the objective / (C n)."""
        n = Xa.shape[0]
        penalty = 1.0 / (float(self.C) * n)
        mask = np.ones(Xa.shape[1])
        if self.fit_intercept:
            mask[-1] = 0.0  # the intercept column is not penalised
        squared = Xa * Xa
        onehot = (index == 1).astype(np.float64)[:, None] if binary else \
            np.eye(len(self.classes_))[index]

        def evaluate(theta: np.ndarray):
            Z = Xa @ theta.T
            if binary:
                loss = np.logaddexp(0.0, Z) - onehot * Z
                P = np.exp(-np.logaddexp(0.0, -Z))  # sigmoid, without overflow
            else:
                log_p = _log_softmax(Z)
                loss = -log_p[np.arange(n), index]
                P = np.exp(log_p)
            value = float(loss.sum()) / n + 0.5 * penalty * float(np.sum((theta * mask) ** 2))
            grad = (P - onehot).T @ Xa / n + penalty * theta * mask

            curvature = P * (1.0 - P)  # the diagonal of the softmax Jacobian, per class
            diagonal = curvature.T @ squared / n + penalty * mask

            def hessp(V: np.ndarray) -> np.ndarray:
                Zv = Xa @ V.T
                if binary:
                    Rv = curvature * Zv
                else:
                    PZ = P * Zv
                    Rv = PZ - P * PZ.sum(axis=1, keepdims=True)
                return Rv.T @ Xa / n + penalty * V * mask

            return value, grad, hessp, diagonal

        return evaluate

    def fit(self, X, y) -> "LogisticRegression":
        """Minimise the objective over (W, b) by Newton-CG from W = 0, b = 0."""
        _check_params(self, C="positive", tol="nonnegative", max_iter="count", fit_intercept="bool")
        X, index = self._prepare(X, y)
        binary = len(self.classes_) == 2
        Xa = self._design(X)
        evaluate = self._objective(Xa, index, binary)
        theta = np.zeros((1 if binary else len(self.classes_), Xa.shape[1]))
        value, grad, hessp, diagonal = evaluate(theta)
        steps, problem = 0, None
        while np.max(np.abs(grad)) > self.tol:
            if steps == self.max_iter:
                problem = f"did not converge in max_iter={self.max_iter} Newton steps"
                break
            norm = float(np.sqrt(np.sum(grad * grad)))
            direction = _conjugate_gradient(hessp, -grad, diagonal, min(0.5, np.sqrt(norm)) * norm,
                                            max_iter=max(20, 2 * theta.size))
            slope = float(np.sum(grad * direction))
            if slope >= 0:  # not a descent direction: fall back to steepest descent
                direction, slope = -grad, -norm ** 2
            step = 1.0
            for _ in range(60):
                trial = theta + step * direction
                new = evaluate(trial)
                if new[0] <= value + 1e-4 * step * slope:
                    break
                step *= 0.5
            else:  # no decrease is measurable any more: tol is below the rounding error
                problem = f"stopped after {steps} Newton steps: the objective no longer decreases"
                break
            theta, (value, grad, hessp, diagonal) = trial, new
            steps += 1
        if problem:
            warnings.warn(
                f"LogisticRegression {problem} "
                f"(largest gradient component {np.max(np.abs(grad)):.3g} > tol={self.tol}); "
                "increase max_iter or scale the features", ConvergenceWarning, stacklevel=2)
        d = X.shape[1]
        self.coef_ = theta[:, :d].copy()
        self.intercept_ = theta[:, d].copy() if self.fit_intercept else np.zeros(theta.shape[0])
        if not binary:
            self.intercept_ -= self.intercept_.mean()
        self.n_iter_ = np.array([steps], dtype=np.int32)
        return self

    def predict_log_proba(self, X) -> np.ndarray:
        """ln P(class k | x) for every sample and class, shape (n_samples, n_classes)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:  # binary: P(classes_[1]) = sigmoid(z), P(classes_[0]) = sigmoid(-z)
            return -np.logaddexp(0.0, np.stack([scores, -scores], axis=1))
        return _log_softmax(scores)

    def predict_proba(self, X) -> np.ndarray:
        """P(class k | x): the softmax of the scores (sigmoid for two classes); rows sum to 1."""
        return np.exp(self.predict_log_proba(X))


# ------------------------------------------------------------------ linear SVM

"""classic.LogisticRegression and classic.LinearSVC against scikit-learn, and the lecture's
framework (Schwing & Telgarsky, "Deep Neural Networks"): eps = 1 with L = 0 is logistic
regression, eps -> 0 with the 0-1 loss is the (multiclass) hinge."""
import functools
import warnings

import numpy as np
import pytest

from lamina.classic import ConvergenceWarning, LinearSVC, LogisticRegression
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

sklearn = pytest.importorskip("sklearn")
from sklearn import linear_model, svm  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


def _standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@functools.lru_cache(maxsize=None)
def dataset(name):
    """(X, y): iris, its versicolor/virginica subset with text labels, and a synthetic set;
    the ``*_std`` versions are standardised (SGD needs scaled features)."""
    if name.endswith("_std"):
        X, y = dataset(name[:-4])
        return _standardise(X), y
    if name == "iris":
        return load_iris(return_X_y=True)
    if name == "binary":
        X, y = load_iris(return_X_y=True)
        keep = y > 0
        return X[keep], np.array(["versicolor", "virginica"])[y[keep] - 1]
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, random_state=0)
    return X, y


def relative_error(ours, theirs):
    return np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-12)


# ------------------------------------------------------------------ logistic regression


@functools.lru_cache(maxsize=None)
def sklearn_logistic(name, C, fit_intercept=True):
    X, y = dataset(name)
    return linear_model.LogisticRegression(C=C, tol=1e-10, max_iter=10_000,
                                           solver="newton-cholesky",
                                           fit_intercept=fit_intercept).fit(X, y)


@pytest.mark.parametrize("name", ["iris", "binary", "synthetic"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_logistic_regression_matches_sklearn(name, C):
    X, y = dataset(name)
    ref = sklearn_logistic(name, C)
    model = LogisticRegression(C=C, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(model.classes_, ref.classes_)
    assert model.coef_.shape == ref.coef_.shape and model.intercept_.shape == ref.intercept_.shape
    assert relative_error(model.coef_, ref.coef_) < 1e-4
    assert relative_error(model.intercept_, ref.intercept_) < 1e-4
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(model.predict_proba(X)),
                               atol=1e-12)
    np.testing.assert_allclose(model.decision_function(X), ref.decision_function(X),
                               rtol=1e-4, atol=1e-4 * np.abs(ref.decision_function(X)).max())
    np.testing.assert_array_equal(model.predict(X), ref.predict(X))
    assert model.score(X, y) == ref.score(X, y)
    assert model.n_iter_.shape == (1,) and 0 < model.n_iter_[0] <= model.max_iter


@pytest.mark.parametrize("name", ["iris", "binary"])
def test_logistic_regression_without_intercept(name):
    X, y = dataset(name)
    ref = sklearn_logistic(name, 1.0, fit_intercept=False)
    model = LogisticRegression(C=1.0, tol=1e-10, fit_intercept=False).fit(X, y)
    assert relative_error(model.coef_, ref.coef_) < 1e-4
    np.testing.assert_array_equal(model.intercept_, np.zeros(len(ref.intercept_)))
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_logistic_regression_is_the_lecture_objective_at_eps_1():
    """At eps = 1 and L = 0 the lecture's term is the softmax cross-entropy: the fitted (W, b)
    is a stationary point of 1/2 ||W||^2 + C sum_i (ln sum_yhat exp(s_yhat) - s_y), s = W x + b."""
    X, y = dataset("iris")
    C = 1.0
    model = LogisticRegression(C=C, tol=1e-10).fit(X, y)
    S = X @ model.coef_.T + model.intercept_
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    residual = P - np.eye(3)[y]
    grad_W = model.coef_ + C * residual.T @ X
    grad_b = C * residual.sum(axis=0)
    assert np.abs(grad_W).max() < 1e-8 * len(y) and np.abs(grad_b).max() < 1e-8 * len(y)
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-12)  # sklearn's convention


def test_logistic_regression_warns_at_max_iter():
    X, y = dataset("iris")
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model = LogisticRegression(max_iter=2, tol=1e-12).fit(X, y)
    assert model.n_iter_[0] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegression().fit(X, y)  # the default converges on iris


# ------------------------------------------------------------------ linear SVM


def svm_objective(coef, intercept, X, y, C, intercept_scaling=1.0):
    """1/2 ||[W, b/s]||^2 + C sum_i hinge_i: the binary hinge for one weight row, Crammer-Singer
    max_yhat (1[yhat != y_i] + w_yhat.x_i) - w_y_i.x_i otherwise; the intercept as the weight
    of a constant feature s (scikit-learn's liblinear convention)."""
    classes, index = np.unique(y, return_inverse=True)
    W = np.hstack([coef, (intercept / intercept_scaling)[:, None]])
    Xa = np.hstack([X, np.full((len(X), 1), intercept_scaling)])
    S = Xa @ W.T
    rows = np.arange(len(y))
    if W.shape[0] == 1:
        hinge = np.maximum(0.0, 1.0 - (2.0 * index - 1.0) * S[:, 0])
    else:
        hinge = (S + (index[:, None] != np.arange(len(classes)))).max(axis=1) - S[rows, index]
    return 0.5 * np.sum(W ** 2) + C * hinge.sum()


@functools.lru_cache(maxsize=None)
def sklearn_svm(name, C, intercept_scaling=1.0, fit_intercept=True, split=False):
    X, y = dataset(name)
    if split:
        X, _, y, _ = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    multiclass = {} if len(np.unique(y)) == 2 else {"multi_class": "crammer_singer"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's own convergence chatter at tol=1e-10
        return svm.LinearSVC(C=C, loss="hinge", tol=1e-10, max_iter=1_000_000,
                             intercept_scaling=intercept_scaling, fit_intercept=fit_intercept,
                             **multiclass).fit(X, y)


@pytest.mark.parametrize("name", ["iris_std", "synthetic", "binary_std"])
@pytest.mark.parametrize("C", [0.1, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_svc_reaches_sklearn_objective(name, C, seed):
    X, y = dataset(name)
    ref = sklearn_svm(name, C)
    model = LinearSVC(C=C, random_state=seed).fit(X, y)
    assert model.coef_.shape == ref.coef_.shape and model.intercept_.shape == ref.intercept_.shape
    optimum = svm_objective(ref.coef_, ref.intercept_, X, y, C)
    ours = svm_objective(model.coef_, model.intercept_, X, y, C)
    assert 0.999 * optimum <= ours <= 1.02 * optimum
    np.testing.assert_allclose(model.objective_[-1], ours, rtol=1e-10)
    assert len(model.objective_) == model.n_iter_ <= model.max_iter


@pytest.mark.parametrize("name, C", [("iris_std", 1.0), ("synthetic", 0.1), ("synthetic", 1.0),
                                     ("binary_std", 1.0)])
def test_linear_svc_test_accuracy_close_to_sklearn(name, C):
    X, y = dataset(name)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0,
                                                        stratify=y)
    ref = sklearn_svm(name, C, split=True)
    model = LinearSVC(C=C, random_state=0).fit(X_train, y_train)
    assert abs(model.score(X_test, y_test) - ref.score(X_test, y_test)) <= 0.03
    assert set(model.predict(X_test)) <= set(ref.classes_)


@pytest.mark.parametrize("intercept_scaling, fit_intercept", [(2.0, True), (1.0, False)])
def test_linear_svc_intercept_options(intercept_scaling, fit_intercept):
    X, y = dataset("iris_std")
    ref = sklearn_svm("iris_std", 1.0, intercept_scaling, fit_intercept)
    model = LinearSVC(C=1.0, intercept_scaling=intercept_scaling, fit_intercept=fit_intercept,
                      random_state=0).fit(X, y)
    if fit_intercept:
        optimum = svm_objective(ref.coef_, ref.intercept_, X, y, 1.0, intercept_scaling)
        ours = svm_objective(model.coef_, model.intercept_, X, y, 1.0, intercept_scaling)
    else:
        np.testing.assert_array_equal(model.intercept_, np.zeros(3))
        optimum = svm_objective(ref.coef_, np.zeros(3), X, y, 1.0)
        ours = svm_objective(model.coef_, np.zeros(3), X, y, 1.0)
    assert 0.999 * optimum <= ours <= 1.02 * optimum


def test_linear_svc_is_the_lecture_objective_as_eps_goes_to_0():
    """eps ln sum_yhat exp((1[yhat != y] + s_yhat) / eps) - s_y tends to the Crammer-Singer
    hinge."""
    X, y = dataset("iris_std")
    C = 1.0
    model = LinearSVC(C=C, random_state=0).fit(X, y)
    S = X @ model.coef_.T + model.intercept_
    L = (y[:, None] != np.arange(3)).astype(float)
    rows = np.arange(len(y))

    def lecture(eps):
        A = (L + S) / eps
        top = A.max(axis=1)
        smooth = eps * (top + np.log(np.exp(A - top[:, None]).sum(axis=1)))
        W = np.hstack([model.coef_, model.intercept_[:, None]])
        return 0.5 * np.sum(W ** 2) + C * np.sum(smooth - S[rows, y])

    values = [lecture(eps) for eps in (1.0, 0.1, 1e-3)]
    assert values[0] > values[1] > values[2]  # the soft maximum decreases to the max
    assert abs(values[2] - model.objective_[-1]) <= C * len(y) * 1e-3 * np.log(3)


def test_linear_svc_random_state():
    X, y = dataset("iris_std")
    a = LinearSVC(C=0.1, random_state=3).fit(X, y)
    b = LinearSVC(C=0.1, random_state=3).fit(X, y)
    c = LinearSVC(C=0.1, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_linear_svc_warns_at_max_iter():
    X, y = dataset("iris_std")
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = LinearSVC(max_iter=3, random_state=0).fit(X, y)
    assert model.n_iter_ == 3
    assert not hasattr(model, "predict_proba")


# ------------------------------------------------------------------ bad input


MODELS = [lambda: LogisticRegression(), lambda: LinearSVC(random_state=0, max_iter=20)]


@pytest.mark.parametrize("make", MODELS)
def test_bad_input_raises(make):
    X, y = dataset("iris_std")
    with pytest.raises(LaminaTypeError, match="numbers"):
        make().fit(np.array([["a", "b"], ["c", "d"]]), [0, 1])
    with pytest.raises(LaminaTypeError, match="numbers"):
        make().fit(X.astype(str), y)  # numeric text is refused too, as in scikit-learn
    with pytest.raises(LaminaValueError, match="2 classes"):
        make().fit(X, np.zeros(len(y)))
    with pytest.raises(ShapeError):
        make().fit(X, y[:-1])
    with pytest.raises(LaminaValueError, match="not fitted"):
        make().predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make().fit(X, y)
    for method in (model.predict, model.decision_function, getattr(model, "predict_proba", None)):
        if method is not None:
            with pytest.raises(ShapeError, match="expected 4"):
                method(X[:, :3])
    with pytest.raises(LaminaTypeError):
        model.score(X.astype(str), y)


@pytest.mark.parametrize("cls", [LogisticRegression, LinearSVC])
@pytest.mark.parametrize("params", [{"C": 0.0}, {"C": -1.0}, {"max_iter": 0}, {"tol": -1.0},
                                    {"fit_intercept": "yes"}])
def test_bad_hyperparameters_raise(cls, params):
    X, y = dataset("iris_std")
    with pytest.raises(LaminaValueError, match=next(iter(params))):
        cls(**params).fit(X, y)

"""The classical models on their textbook cases (Dehaqani, "Introduction to Neural Networks")."""
import warnings

import numpy as np
import pytest

from lamina.classic import (UNIVERSAL_BOOLEAN_TABLE, Adaline, ConvergenceWarning, DeltaRule, Hebbian,
                            Madaline, McCullochPitts, Perceptron, RBFNetwork, and_gate,
                            circle_network, dnf_network, kmeans, not_gate, or_gate, polygon_network,
                            truth_table, union_network, xor_network)
from lamina.errors import LaminaValueError, ShapeError

X2 = truth_table(2)  # rows 00, 01, 10, 11
GATES = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}


# ---------------------------------------------------------------- McCulloch-Pitts


@pytest.mark.parametrize("unit, inputs, expected", [
    (and_gate(), X2, [0, 0, 0, 1]),
    (or_gate(), X2, [0, 1, 1, 1]),
    (not_gate(), [[0], [1]], [1, 0]),
    (and_gate(3), truth_table(3), [0] * 7 + [1]),
    # Dehaqani's lecture: N3 = N1 and not N2 -- the inhibitory input vetoes whatever the sum is
    (McCullochPitts([1, 5], 1, inhibitory=[1]), X2, [0, 0, 1, 0]),
])
def test_mcculloch_pitts_gates(unit, inputs, expected):
    np.testing.assert_array_equal(unit.predict(inputs), expected)


def test_xor_network_is_two_hidden_units_and_an_output():
    net = xor_network()
    assert len(net.hidden) == 2
    np.testing.assert_array_equal(net.predict(X2), GATES["xor"])


def test_dnf_network_reproduces_the_universal_boolean_table():
    net = dnf_network(UNIVERSAL_BOOLEAN_TABLE)
    assert len(net.hidden) == 6  # one hidden unit per true row
    inputs = truth_table(5)
    true_rows = {tuple(r) for r in UNIVERSAL_BOOLEAN_TABLE[:, :5]}
    expected = [int(tuple(r) in true_rows) for r in inputs]
    np.testing.assert_array_equal(net.predict(inputs), expected)
    # the hidden unit of row 00110 fires on that row only (X3, X4 excitatory, others inhibitory)
    np.testing.assert_array_equal(net.hidden_outputs([[0, 0, 1, 1, 0]])[0], [1, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("n, seed", [(1, 0), (3, 1), (4, 2), (6, 3), (6, 4)])
def test_dnf_network_on_random_truth_tables(n, seed):
    inputs = truth_table(n)
    outputs = np.random.default_rng(seed).integers(0, 2, len(inputs))
    net = dnf_network(np.column_stack([inputs, outputs]))
    np.testing.assert_array_equal(net.predict(inputs), outputs)
    assert len(net.hidden) == max(1, outputs.sum())


@pytest.mark.parametrize("value", [0, 1])
def test_dnf_network_constant_functions(value):
    inputs = truth_table(3)
    net = dnf_network(np.column_stack([inputs, np.full(8, value)]))
    np.testing.assert_array_equal(net.predict(inputs), np.full(8, value))


@pytest.mark.parametrize("bad, error", [
    (lambda: and_gate().predict([0, 1]), ShapeError),            # 1-D input
    (lambda: and_gate().predict([[0, 1, 1]]), ShapeError),       # 3 inputs for 2 weights
    (lambda: and_gate().predict([[0, 2]]), LaminaValueError),    # not binary
    (lambda: McCullochPitts([1, 1], 1, inhibitory=[2]), LaminaValueError),
    (lambda: dnf_network([[0, 1, 1], [0, 1, 0]]), LaminaValueError),  # contradictory rows
])
def test_mcculloch_pitts_errors(bad, error):
    with pytest.raises(error):
        bad()


# ---------------------------------------------------------------- Hebb


def test_hebbian_supervised_learns_and_and_grows_linearly():
    Xb = 2 * X2 - 1  # the bipolar Hebb net
    model = Hebbian(lr=0.1, epochs=10).fit(Xb, GATES["and"])
    np.testing.assert_array_equal(model.predict(Xb), GATES["and"])
    assert model.weight_norms_.shape == (40,)
    per_epoch = model.weight_norms_[3::4]  # after each full pass
    # every pass adds the same vector eta sum_i d_i x_i: the norm grows without bound, linearly
    np.testing.assert_allclose(per_epoch, per_epoch[0] * np.arange(1, 11), rtol=1e-12)


def test_hebbian_unsupervised_norm_grows_geometrically():
    X = np.random.default_rng(0).normal(size=(20, 3))
    model = Hebbian(lr=0.05, epochs=40, random_state=0).fit(X)
    norms = model.weight_norms_[19::20]
    assert norms[-1] > 1e3 * norms[0]
    ratios = norms[1:] / norms[:-1]
    assert np.all(ratios > 1.0)
    np.testing.assert_allclose(ratios[25:], ratios[-1], rtol=1e-3)  # a constant growth factor
    with pytest.raises(LaminaValueError, match="without targets"):
        model.predict(X)


# ---------------------------------------------------------------- perceptron


@pytest.mark.parametrize("gate", ["and", "or"])
def test_perceptron_converges_on_and_or(gate):
    model = Perceptron().fit(X2, GATES[gate])
    assert model.converged_
    assert model.errors_[-1] == 0 and all(e > 0 for e in model.errors_[:-1])
    assert model.n_epochs_ == len(model.errors_)
    np.testing.assert_array_equal(model.predict(X2), GATES[gate])
    assert model.score(X2, GATES[gate]) == 1.0


def test_perceptron_fails_on_xor():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model = Perceptron(max_epochs=50).fit(X2, GATES["xor"])
    assert not model.converged_ and model.n_epochs_ == 50
    assert min(model.errors_) > 0
    assert model.score(X2, GATES["xor"]) < 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_separates_random_separable_data(seed):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=3), 0.5 * rng.normal()
    X = rng.normal(size=(200, 3))
    margin = X @ w + b
    X, margin = X[np.abs(margin) > 0.2], margin[np.abs(margin) > 0.2]
    y = np.where(margin > 0, "pos", "neg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = Perceptron(max_epochs=1000).fit(X, y)
    assert model.converged_ and model.score(X, y) == 1.0
    assert set(model.predict(X)) == {"pos", "neg"}


def test_perceptron_input_errors():
    with pytest.raises(ShapeError, match="y must have shape"):
        Perceptron().fit(X2, [0, 1])
    with pytest.raises(LaminaValueError, match="two classes"):
        Perceptron().fit(X2, [0, 1, 2, 1])
    with pytest.raises(ShapeError, match="features"):
        Perceptron().fit(X2, GATES["and"]).predict([[1, 0, 0]])
    with pytest.raises(LaminaValueError, match="not fitted"):
        Perceptron().predict(X2)


# ---------------------------------------------------------------- composed boundaries


def test_polygon_circle_and_union_networks():
    square = polygon_network([[0, 0], [1, 0], [1, 1], [0, 1]])
    np.testing.assert_array_equal(square.predict([[0.5, 0.5], [1.5, 0.5], [0.5, -0.1]]), [1, 0, 0])
    np.testing.assert_array_equal(square.hidden_sum([[0.5, 0.5], [1.5, 0.5]]), [4, 3])
    errors = []
    grid = np.stack(np.meshgrid(np.linspace(-1.5, 1.5, 151), np.linspace(-1.5, 1.5, 151)), -1).reshape(-1, 2)
    inside = np.hypot(*grid.T) <= 1.0
    for n in (4, 16, 256):
        errors.append(np.mean(circle_network((0, 0), 1.0, n).predict(grid) != inside))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.002
    far = union_network([square, polygon_network([[2, 0], [3, 0], [3, 1], [2, 1]])])
    np.testing.assert_array_equal(far.predict([[0.5, 0.5], [2.5, 0.5], [1.5, 0.5]]), [1, 1, 0])


# ---------------------------------------------------------------- Adaline, delta rule


def _two_class_linear_problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X @ [1.0, -2.0] + 0.3 + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_adaline_batch_reaches_the_least_squares_solution():
    X, y = _two_class_linear_problem()
    model = Adaline(lr=0.2, epochs=3000, batch=True).fit(X, y)
    w_ls = np.linalg.lstsq(np.column_stack([np.ones(len(X)), X]), 2.0 * y - 1.0, rcond=None)[0]
    np.testing.assert_allclose([model.intercept_, *model.coef_], w_ls, atol=1e-9)
    assert np.all(np.diff(model.cost_) <= 1e-15)  # gradient descent on a quadratic: monotone


def test_adaline_online_lms_hovers_near_least_squares():
    X, y = _two_class_linear_problem()
    w_ls = np.linalg.lstsq(np.column_stack([np.ones(len(X)), X]), 2.0 * y - 1.0, rcond=None)[0]
    gaps = [np.abs(np.array([m.intercept_, *m.coef_]) - w_ls).max()
            for m in (Adaline(lr=lr, epochs=300).fit(X, y) for lr in (0.02, 0.002))]
    assert gaps[1] < gaps[0] < 0.1  # a smaller step lands closer


def test_adaline_learns_and():
    model = Adaline(lr=0.1, epochs=100).fit(X2, GATES["and"])
    np.testing.assert_array_equal(model.predict(X2), GATES["and"])


@pytest.mark.parametrize("activation, lr", [("sigmoid", 0.5), ("tanh", 0.1)])
def test_generalized_delta_rule_learns_and(activation, lr):
    model = DeltaRule(activation, lr=lr, epochs=1000).fit(X2, GATES["and"])
    np.testing.assert_array_equal(model.predict(X2), GATES["and"])
    assert model.cost_[-1] < 0.1 * model.cost_[0]
    with pytest.raises(LaminaValueError, match="unknown activation"):
        DeltaRule("relu").fit(X2, GATES["and"])


# ---------------------------------------------------------------- Madaline


def test_madaline_solves_xor_from_a_seeded_start():
    Xb = 2 * X2 - 1  # Widrow's bipolar coding
    model = Madaline(hidden_units=2, random_state=0).fit(Xb, GATES["xor"])
    assert model.converged_ and model.n_epochs_ <= 10
    np.testing.assert_array_equal(model.predict(Xb), GATES["xor"])


@pytest.mark.parametrize("coding, output, low, high", [
    # measured over seeds 0..49 (lr = 1): bipolar inputs 50/50 for both gates; 0/1 inputs
    # 15/50 (OR) and 4/50 (AND) -- with 0/1 inputs the pattern (0, 0) reaches the Adalines
    # through the bias alone, and the alpha-LMS steps undo one another.
    ("bipolar", "or", 50, 50), ("bipolar", "and", 50, 50),
    ("binary", "or", 8, 20), ("binary", "and", 1, 10),
])
def test_madaline_xor_success_rate_over_seeds(coding, output, low, high):
    X = 2 * X2 - 1 if coding == "bipolar" else X2
    solved = sum(Madaline(2, epochs=50, output=output, random_state=s).fit(X, GATES["xor"]).converged_
                 for s in range(50))
    assert low <= solved <= high


# ---------------------------------------------------------------- k-means, RBF


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(0)
    true = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0], [5.0, -5.0]])
    X = np.concatenate([c + 0.3 * rng.normal(size=(50, 2)) for c in true])
    centers, labels, inertia = kmeans(X, 4, random_state=0)
    match = np.abs(centers[:, None] - true[None]).sum(-1).argmin(axis=1)
    assert sorted(match) == [0, 1, 2, 3]
    np.testing.assert_allclose(centers, true[match], atol=0.15)
    assert len(set(labels[:50])) == 1 and len(set(labels)) == 4
    assert inertia == pytest.approx(((X - centers[labels]) ** 2).sum())


@pytest.mark.parametrize("solver", ["lstsq", "gd"])
def test_rbf_network_fits_xor(solver):
    model = RBFNetwork(n_centers=4, beta=1.0, solver=solver, random_state=0).fit(X2, GATES["xor"])
    assert model.score(X2, GATES["xor"]) == 1.0
    assert model.decision_function(X2).shape == (4, 2)


@pytest.mark.parametrize("centers, solver", [("kmeans", "lstsq"), ("sample", "lstsq"), ("kmeans", "gd")])
def test_rbf_network_fits_the_circle(centers, solver):
    rng = np.random.default_rng(0)
    X, X_test = rng.uniform(-1, 1, (400, 2)), rng.uniform(-1, 1, (400, 2))
    y, y_test = np.hypot(*X.T) < 0.6, np.hypot(*X_test.T) < 0.6
    model = RBFNetwork(20, beta=3.0, centers=centers, solver=solver, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.95 and model.score(X_test, y_test) > 0.93


def test_rbf_network_errors():
    with pytest.raises(LaminaValueError, match="n_centers"):
        RBFNetwork(n_centers=5).fit(X2, GATES["xor"])
    with pytest.raises(LaminaValueError, match="solver"):
        RBFNetwork(n_centers=2, solver="newton").fit(X2, GATES["xor"])
    with pytest.raises(ShapeError):
        RBFNetwork(n_centers=2).fit(X2, GATES["xor"]).predict(np.zeros((3, 3)))

"""McCulloch-Pitts units in time (delays, feedback, memory) and reduced DNF networks
(Dehaqani, "Introduction to Neural Networks")."""
import itertools

import numpy as np
import pytest

from lamina.classic import (REDUCTION_SLIDE_TERMS, UNIVERSAL_BOOLEAN_TABLE,
                            DelayedMPNetwork, McCullochPitts, delayed_gate, dnf_expression,
                            dnf_network, dnf_truth_table, memory_latch, reduce_dnf,
                            reduced_dnf_network, truth_table)
from lamina.errors import LaminaValueError, ShapeError

RNG = np.random.default_rng(0)

# ---------------------------------------------------------------- delays and feedback


def _previous(x):
    """x(t-1) along the time axis (-2), with silence before t = 0."""
    return np.concatenate([np.zeros_like(x[..., :1, :]), x[..., :-1, :]], axis=-2)


@pytest.mark.parametrize("kind, proposition", [
    ("or", lambda n1, n2: n1 | n2),            # N3(t) = N1(t-1) or N2(t-1)
    ("and", lambda n1, n2: n1 & n2),           # N3(t) = N1(t-1) and N2(t-1)
    ("and not", lambda n1, n2: n1 & (1 - n2)),  # N3(t) = N1(t-1) and ~N2(t-1)
])
def test_delayed_propositions_on_random_sequences(kind, proposition):
    x = RNG.integers(0, 2, (64, 25, 2))
    states = delayed_gate(kind).run(x)
    assert states.shape == (64, 25, 1)
    prev = _previous(x)
    np.testing.assert_array_equal(states[..., 0], proposition(prev[..., 0], prev[..., 1]))
    # one sequence at a time gives the same states as the batch
    np.testing.assert_array_equal(delayed_gate(kind).run(x[3]), states[3])


def _latch_reference(set_, reset):
    """M(t) = (set(t-1) or M(t-1)) and not reset(t-1), written out step by step."""
    m, out = 0, []
    for t in range(len(set_)):
        if t > 0:
            m = int((set_[t - 1] or m) and not reset[t - 1])
        out.append(m)
    return out


def test_latch_keeps_firing_once_set_until_reset():
    set_, reset = np.zeros(12, int), np.zeros(12, int)
    set_[2], reset[8] = 1, 1
    m = memory_latch().run({"set": set_, "reset": reset})[:, 0]
    assert m.tolist() == [0, 0, 0] + [1] * 6 + [0] * 3  # on from t = 3 with no input, off after reset
    for _ in range(20):
        set_, reset = RNG.integers(0, 2, (2, 30)) * (RNG.random((2, 30)) < 0.3)
        m = memory_latch().run({"set": set_, "reset": reset})[:, 0]
        assert m.tolist() == _latch_reference(set_, reset)


def test_latch_starts_set_through_initial_state():
    quiet = {"set": np.zeros(5, int), "reset": np.zeros(5, int)}
    assert memory_latch().run(quiet, initial={"M": 1})[:, 0].tolist() == [1] * 5
    assert memory_latch().run(quiet)[:, 0].tolist() == [0] * 5


def test_longer_delays_and_mixed_delays():
    x = RNG.integers(0, 2, (40, 1))
    net = DelayedMPNetwork(["x"])
    net.add_unit("late", 1, excitatory=["x"], delays={"x": 3})               # x(t-3)
    net.add_unit("twice", 2, excitatory={"x": 1.0, "late": 1.0}, delays={"late": 1})
    states = net.run(x)
    shifted = np.concatenate([np.zeros(3, int), x[:-3, 0]])
    np.testing.assert_array_equal(states[:, 0], shifted)
    # "twice" fires at t iff x(t-1) and late(t-1) = x(t-4)
    expected = np.concatenate([[0], x[:-1, 0]]) & np.concatenate([[0], shifted[:-1]])
    np.testing.assert_array_equal(states[:, 1], expected)
    assert net.unit_names == ["late", "twice"]


def test_mutual_feedback_oscillates_and_units_may_refer_forward():
    net = DelayedMPNetwork(["unused"])
    net.add_unit("A", 1, excitatory=["B"])  # B is added below
    net.add_unit("B", 1, excitatory=["A"])
    states = net.run(np.zeros((6, 1), int), initial={"A": 1})
    assert states.tolist() == [[0, 1], [1, 0]] * 3


def test_delayed_unit_is_the_static_unit_one_step_later():
    for _ in range(10):
        n = int(RNG.integers(2, 5))
        weights = RNG.integers(-2, 4, n).astype(float)
        inhibitory = [i for i in range(n) if RNG.random() < 0.3]
        threshold = float(RNG.integers(0, 4))
        static = McCullochPitts(weights, threshold, inhibitory=inhibitory)
        names = [f"x{i}" for i in range(n)]
        excitatory = {names[i]: weights[i] for i in range(n) if i not in inhibitory}
        net = DelayedMPNetwork(names).add_unit("y", threshold, excitatory=excitatory,
                                               inhibitory=[names[i] for i in inhibitory])
        x = RNG.integers(0, 2, (30, n))
        states = net.run(x)[:, 0]
        np.testing.assert_array_equal(states[1:], static.predict(x[:-1]))


@pytest.mark.parametrize("bad, error", [
    (lambda: DelayedMPNetwork(["a"]).add_unit("u", 1, ["b"]).run([[0]]), LaminaValueError),
    (lambda: DelayedMPNetwork(["a"]).add_unit("u", 1, ["a"], delays={"a": 0}), LaminaValueError),
    (lambda: DelayedMPNetwork(["a"]).add_unit("u", 1, ["a"], delays={"b": 2}), LaminaValueError),
    (lambda: DelayedMPNetwork(["a"]).add_unit("a", 1, ["a"]), LaminaValueError),
    (lambda: DelayedMPNetwork(["a", "a"]), LaminaValueError),
    (lambda: DelayedMPNetwork(["a"]).add_unit("u", 1, ["a"], inhibitory=["a"]), LaminaValueError),
    (lambda: DelayedMPNetwork(["a"]).run([[0]]), LaminaValueError),
    (lambda: delayed_gate("or").run([[0, 2]]), LaminaValueError),
    (lambda: delayed_gate("or").run([0, 1]), ShapeError),
    (lambda: delayed_gate("or").run([[0, 1, 1]]), ShapeError),
    (lambda: delayed_gate("or").run({"N1": [0, 1]}), LaminaValueError),
    (lambda: memory_latch().run({"set": [0], "reset": [0]}, initial={"Q": 1}), LaminaValueError),
    (lambda: delayed_gate("xor"), LaminaValueError),
])
def test_delayed_network_errors(bad, error):
    with pytest.raises(error):
        bad()


# ---------------------------------------------------------------- reduced DNF


def _implicants(y):
    """Every cube (string over 0/1/-) inside the true set of the full truth table column y."""
    n = int(np.log2(len(y)))
    X = truth_table(n)
    found = []
    for cube in itertools.product("01-", repeat=n):
        inside = np.all([X[:, i] == int(c) for i, c in enumerate(cube) if c != "-"] or
                        [np.ones(len(X), bool)], axis=0)
        if y[inside].all():
            found.append((frozenset(np.flatnonzero(inside)), "".join(cube)))
    return found


def _fewest_terms(y):
    """The smallest number of implicants covering the true set, by exhaustive search."""
    true = frozenset(np.flatnonzero(y))
    implicants = [s for s, _ in _implicants(y)]
    for k in range(len(true) + 1):
        if any(frozenset().union(*combo) == true for combo in itertools.combinations(implicants, k)):
            return k


def _full_column(table):
    inputs = truth_table(table.shape[1] - 1)
    true = {tuple(r[:-1]) for r in table if r[-1] == 1}
    return np.array([int(tuple(r) in true) for r in inputs])


def test_slide_reduction_has_three_hidden_units():
    table = dnf_truth_table(REDUCTION_SLIDE_TERMS)  # O = ~Y~Z + ~W X ~Y + ~X Y ~Z
    W, X, Y, Z = truth_table(4).T
    formula = ((1 - Y) & (1 - Z)) | ((1 - W) & X & (1 - Y)) | ((1 - X) & Y & (1 - Z))
    np.testing.assert_array_equal(table[:, -1], formula)
    net = reduced_dnf_network(table)
    assert len(net.hidden) == 3 == _fewest_terms(table[:, -1])
    np.testing.assert_array_equal(net.predict(truth_table(4)), formula)
    assert len(dnf_network(table).hidden) == formula.sum() == 7


def test_reduced_network_of_the_five_input_table():
    y = _full_column(UNIVERSAL_BOOLEAN_TABLE)
    inputs = truth_table(5)
    reduced, full = reduced_dnf_network(UNIVERSAL_BOOLEAN_TABLE), dnf_network(UNIVERSAL_BOOLEAN_TABLE)
    np.testing.assert_array_equal(reduced.predict(inputs), y)       # all 32 inputs
    np.testing.assert_array_equal(reduced.predict(inputs), full.predict(inputs))
    assert len(full.hidden) == 6
    # only 10001 and 11001 are neighbours, so 5 terms is the minimum: no DNF has 3 (or 4)
    assert len(reduced.hidden) == _fewest_terms(y) == 5
    assert "1-001" in reduce_dnf(UNIVERSAL_BOOLEAN_TABLE)


@pytest.mark.parametrize("n, seed", [(2, 0), (3, 1), (3, 2), (3, 3), (4, 4), (5, 5), (6, 6)])
def test_reduce_dnf_on_random_tables(n, seed):
    inputs = truth_table(n)
    y = np.random.default_rng(seed).integers(0, 2, len(inputs))
    table = np.column_stack([inputs, y])
    terms = reduce_dnf(table)
    np.testing.assert_array_equal(reduced_dnf_network(table).predict(inputs), y)
    np.testing.assert_array_equal(dnf_truth_table(terms)[:, -1] if terms else 0 * y, y)
    implicants = {cube for _, cube in _implicants(y)} if n <= 4 else None
    for term in terms:  # every term is a prime implicant: no literal can be dropped
        assert implicants is None or term in implicants
        for i, c in enumerate(term):
            if c != "-":
                wider = term[:i] + "-" + term[i + 1:]
                assert not (dnf_truth_table([wider])[:, -1] <= y).all()
    if n <= 3:
        assert len(terms) == _fewest_terms(y)
    assert len(terms) <= max(y.sum(), 0)


def test_reduce_dnf_constants_and_expression():
    inputs = truth_table(3)
    assert reduce_dnf(np.column_stack([inputs, np.ones(8, int)])) == ["---"]
    assert reduce_dnf(np.column_stack([inputs, np.zeros(8, int)])) == []
    assert reduced_dnf_network(np.column_stack([inputs, np.ones(8, int)])).predict(inputs).all()
    assert not reduced_dnf_network(np.column_stack([inputs, np.zeros(8, int)])).predict(inputs).any()
    assert dnf_expression(REDUCTION_SLIDE_TERMS, "WXYZ") == "~Y ~Z + ~W X ~Y + ~X Y ~Z"
    assert dnf_expression(["1-0"]) == "X1 ~X3" and dnf_expression(["--"]) == "1"
    assert dnf_expression([]) == "0"
    for bad in (["01", "0"], ["0x1"], [""]):
        with pytest.raises(LaminaValueError):
            dnf_truth_table(bad)
    with pytest.raises(LaminaValueError):
        dnf_expression(["01"], ["a"])

"""McCulloch and Pitts' all-or-none neuron (1943), its gates, and Boolean networks in DNF.

Seed 003 ("McCulloch and Pitts Model"): the neuron is an all-or-none process; an
excitatory synapse transmits its weighted input; "any signal from an inhibitory synapse
forces output to zero", regardless of the other inputs. Such units compute the Boolean
propositions of the slide (N3 = N1 or N2, N1 and N2, N1 and not N2) and therefore any
Boolean function: Dehaqani's lecture's "A one-hidden-layer MLP is a Universal Boolean Function"
writes a truth table in disjunctive normal form (one conjunction per true row, OR-ed
together), which is a network with one hidden unit per true row and an OR output unit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import LaminaValueError, ShapeError
from .perceptron import check_X, check_Xy

__all__ = ["McCullochPitts", "MPNetwork", "and_gate", "or_gate", "not_gate", "xor_network",
           "dnf_network", "truth_table", "SEED003_TRUTH_TABLE"]

# Seed 003's 5-input truth table ("A one-hidden-layer MLP is a Universal Boolean Function"):
# the rows with Y = 1 (columns X1..X5, Y); every other input gives Y = 0.
SEED003_TRUTH_TABLE = np.array([
    [0, 0, 1, 1, 0, 1],
    [0, 1, 0, 1, 1, 1],
    [0, 1, 1, 0, 0, 1],
    [1, 0, 0, 0, 1, 1],
    [1, 0, 1, 1, 1, 1],
    [1, 1, 0, 0, 1, 1],
])


def _check_binary(X, n_inputs: int) -> np.ndarray:
    X = check_X(X, n_features=n_inputs)
    if not np.isin(X, (0.0, 1.0)).all():
        raise LaminaValueError("McCulloch-Pitts units take binary inputs (0 or 1); "
                               f"got values {np.unique(X)[:10].tolist()}")
    return X


class McCullochPitts:
    """An all-or-none threshold unit with absolute inhibition (Dehaqani, "Introduction to Neural Networks").

    Output 1 iff ``sum_i w_i x_i >= threshold`` and no inhibitory input is active; an
    active inhibitory input (x_j = 1 for j in ``inhibitory``) forces 0 whatever the others
    are. Inputs are 0/1. The unit has no learning rule ("Didn't provide a learning
    mechanism"): its weights and threshold are wired by hand.

    >>> McCullochPitts([1, 1], threshold=2).predict([[0, 1], [1, 1]])    # AND
    array([0, 1])
    """

    def __init__(self, weights: Sequence[float], threshold: float,
                 inhibitory: Sequence[int] = ()) -> None:
        self.weights = weights
        self.threshold = threshold
        self.inhibitory = inhibitory
        self._w = np.asarray(weights, dtype=np.float64)
        if self._w.ndim != 1:
            raise ShapeError(f"weights must be 1-D (one per input), got shape {self._w.shape}")
        self._inhibitory = np.asarray(inhibitory, dtype=np.int64).reshape(-1)
        n = len(self._w)
        if len(self._inhibitory) and (self._inhibitory.min() < 0 or self._inhibitory.max() >= n):
            raise LaminaValueError(f"inhibitory input indices {list(inhibitory)} must lie in "
                                   f"[0, {n}) for {n} inputs")

    @property
    def n_inputs(self) -> int:
        """The number of inputs (the length of ``weights``)."""
        return len(self._w)

    def net_input(self, X) -> np.ndarray:
        """``sum_i w_i x_i`` for each row of the binary input X (n_samples, n_inputs)."""
        return _check_binary(X, self.n_inputs) @ self._w

    def predict(self, X) -> np.ndarray:
        """The unit's 0/1 output for each row of X."""
        X = _check_binary(X, self.n_inputs)
        fires = X @ self._w >= self.threshold
        if len(self._inhibitory):
            fires &= ~X[:, self._inhibitory].any(axis=1)
        return fires.astype(np.int64)

    def score(self, X, y) -> float:
        """Accuracy of the unit's output against the 0/1 targets ``y``."""
        X, y = check_Xy(X, y)
        return float(np.mean(self.predict(X) == y))

    def __repr__(self) -> str:
        return (f"McCullochPitts(weights={self._w.tolist()}, threshold={self.threshold}, "
                f"inhibitory={self._inhibitory.tolist()})")


class MPNetwork:
    """A one-hidden-layer network of McCulloch-Pitts units: every hidden unit sees the
    inputs, the output unit sees the hidden units' outputs."""

    def __init__(self, hidden: Sequence[McCullochPitts], output: McCullochPitts) -> None:
        self.hidden = list(hidden)
        self.output = output
        if output.n_inputs != len(self.hidden):
            raise ShapeError(f"the output unit has {output.n_inputs} inputs but there are "
                             f"{len(self.hidden)} hidden units")
        sizes = {unit.n_inputs for unit in self.hidden}
        if len(sizes) > 1:
            raise ShapeError(f"hidden units disagree on the number of inputs: {sorted(sizes)}")
        self.n_inputs = sizes.pop() if sizes else None

    def hidden_outputs(self, X) -> np.ndarray:
        """The hidden layer's 0/1 outputs, shape (n_samples, n_hidden)."""
        X = check_X(X, n_features=self.n_inputs)
        if not self.hidden:
            return np.zeros((X.shape[0], 0))
        return np.stack([unit.predict(X) for unit in self.hidden], axis=1)

    def predict(self, X) -> np.ndarray:
        """The output unit's 0/1 response to each row of X."""
        return self.output.predict(self.hidden_outputs(X))

    def score(self, X, y) -> float:
        """Accuracy of the network against the 0/1 targets ``y``."""
        X, y = check_Xy(X, y)
        return float(np.mean(self.predict(X) == y))


def and_gate(n: int = 2) -> McCullochPitts:
    """x_1 and ... and x_n: unit weights, threshold n (Dehaqani's lecture: N3 = N1 and N2)."""
    return McCullochPitts(np.ones(n), threshold=n)


def or_gate(n: int = 2) -> McCullochPitts:
    """x_1 or ... or x_n: unit weights, threshold 1 (Dehaqani's lecture: N3 = N1 or N2)."""
    return McCullochPitts(np.ones(n), threshold=1)


def not_gate() -> McCullochPitts:
    """not x: threshold 0 (so the unit fires on its own) and x as an inhibitory input."""
    return McCullochPitts([0.0], threshold=0, inhibitory=[0])


def xor_network() -> MPNetwork:
    """XOR with two hidden units and an OR output: (x1 and not x2) or (x2 and not x1).

    Each hidden unit is Dehaqani's lecture's "N3 = N1 and ~N2": one excitatory input with threshold 1
    and the other input inhibitory. A single unit cannot compute XOR (Minsky and Papert);
    two hidden units are the fewest that can.
    """
    return MPNetwork([McCullochPitts([1, 0], 1, inhibitory=[1]),
                      McCullochPitts([0, 1], 1, inhibitory=[0])], or_gate(2))


def truth_table(n: int) -> np.ndarray:
    """All 2^n binary inputs as rows, in counting order (row k is k written in binary)."""
    if n < 1:
        raise LaminaValueError(f"need at least one input, got n={n}")
    k = np.arange(2 ** n)[:, None]
    return (k >> np.arange(n - 1, -1, -1)) & 1


def dnf_network(table) -> MPNetwork:
    """The one-hidden-layer McCulloch-Pitts network of a truth table in DNF.

    ``table`` has shape (m, n + 1): rows of n binary inputs followed by the output bit;
    rows with output 1 are the true rows, inputs not listed are false (as in Dehaqani's lecture's
    table, which lists only the true rows). Each true row becomes one hidden unit that
    fires on exactly that input: its 1-literals are excitatory inputs of weight 1, the
    threshold is their number, and its 0-literals (the negated variables of the
    conjunction) are inhibitory inputs. The output unit ORs the hidden units.

    >>> net = dnf_network(SEED003_TRUTH_TABLE)
    >>> len(net.hidden), int(net.predict([[0, 0, 1, 1, 0]])[0])
    (6, 1)
    """
    T = np.asarray(table)
    if T.ndim != 2 or T.shape[1] < 2:
        raise ShapeError(f"a truth table must have shape (rows, n_inputs + 1), got {T.shape}")
    if not np.isin(T, (0, 1)).all():
        raise LaminaValueError("truth table entries must be 0 or 1")
    inputs, outputs = T[:, :-1], T[:, -1]
    true_rows = np.unique(inputs[outputs == 1], axis=0)  # a repeated row needs one unit only
    contradictions = (inputs[outputs == 0][:, None, :] == true_rows[None]).all(-1).any()
    if contradictions:
        raise LaminaValueError("the truth table lists the same input with outputs 0 and 1")
    n = inputs.shape[1]
    hidden = [McCullochPitts(row.astype(np.float64), threshold=int(row.sum()),
                             inhibitory=np.flatnonzero(row == 0)) for row in true_rows]
    if not hidden:  # the constant-0 function: an output unit that can never fire
        hidden = [McCullochPitts(np.zeros(n), threshold=1)]
    return MPNetwork(hidden, or_gate(len(hidden)))

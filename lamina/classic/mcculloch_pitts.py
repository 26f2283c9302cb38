"""McCulloch and Pitts' all-or-none neuron (1943): gates, Boolean networks in DNF and their
reduction, and networks with delays and loops that remember.

Dehaqani, "Introduction to Neural Networks", "McCulloch and Pitts Model": the neuron is an
all-or-none process; an excitatory synapse transmits its weighted input; "any signal from an
inhibitory synapse forces output to zero", regardless of the other inputs. Such units
compute Boolean propositions, hence any Boolean function: "A one-hidden-layer MLP is a
Universal Boolean Function" writes a truth table in disjunctive normal form (one
conjunction per true row, OR-ed together), a network with one hidden unit per true row and
an OR output unit (:func:`dnf_network`). "Reducing a Boolean Function" merges the true rows
into groups, "Reduction of the DNF reduces the size of the one-hidden-layer network"
(:func:`reduce_dnf`, :func:`reduced_dnf_network`).

The units in discrete time, with synaptic delays and loops that remember, are in
:mod:`.mp_time`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import LaminaValueError, ShapeError
from .base import check_X, check_Xy

__all__ = ["McCullochPitts", "MPNetwork", "and_gate", "or_gate", "not_gate", "xor_network",
           "dnf_network", "truth_table", "UNIVERSAL_BOOLEAN_TABLE",
           "REDUCTION_SLIDE_TERMS", "REDUCTION_SLIDE_VARIABLES", "reduce_dnf",
           "reduced_dnf_network", "dnf_truth_table", "dnf_expression"]

# The 5-input truth table of Dehaqani, "Introduction to Neural Networks", "A one-hidden-layer
# MLP is a Universal Boolean Function": the rows with Y = 1 (columns X1..X5, Y); every other
# input gives Y = 0.
UNIVERSAL_BOOLEAN_TABLE = np.array([
    [0, 0, 1, 1, 0, 1],
    [0, 1, 0, 1, 1, 1],
    [0, 1, 1, 0, 0, 1],
    [1, 0, 0, 0, 1, 1],
    [1, 0, 1, 1, 1, 1],
    [1, 1, 0, 0, 1, 1],
])

# "Reducing a Boolean Function" (same lecture): the Karnaugh map of a function of W, X, Y, Z
# grouped into O = ~Y~Z + ~W X ~Y + ~X Y ~Z, "only 3 hidden units". Each term is a cube: one
# character per variable, '1' the variable, '0' its negation, '-' absent.
REDUCTION_SLIDE_VARIABLES = ("W", "X", "Y", "Z")
REDUCTION_SLIDE_TERMS = ("--00", "010-", "-010")


def _check_binary(X, n_inputs: int) -> np.ndarray:
    X = check_X(X, n_features=n_inputs)
    if not np.isin(X, (0.0, 1.0)).all():
        raise LaminaValueError("McCulloch-Pitts units take binary inputs (0 or 1); "
                               f"got values {np.unique(X)[:10].tolist()}")
    return X


class McCullochPitts:
    """An all-or-none threshold unit with absolute inhibition (Dehaqani, "Introduction to
    Neural Networks").

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


def _true_rows(table) -> tuple[np.ndarray, int]:
    """The distinct true input rows of a truth table (m, n + 1), checked, and n."""
    T = np.asarray(table)
    if T.ndim != 2 or T.shape[1] < 2:
        raise ShapeError(f"a truth table must have shape (rows, n_inputs + 1), got {T.shape}")
    if not np.isin(T, (0, 1)).all():
        raise LaminaValueError("truth table entries must be 0 or 1")
    inputs, outputs = T[:, :-1].astype(np.int64), T[:, -1]
    true_rows = np.unique(inputs[outputs == 1], axis=0)  # a repeated row needs one unit only
    if (inputs[outputs == 0][:, None, :] == true_rows[None]).all(-1).any():
        raise LaminaValueError("the truth table lists the same input with outputs 0 and 1")
    return true_rows, inputs.shape[1]


def _term_unit(term: str) -> McCullochPitts:
    """The hidden unit of one conjunction (a cube such as '1-0'): its plain variables are
    excitatory with weight 1 and threshold their number, its negated variables inhibitory,
    its absent variables weight 0. It fires exactly on the inputs inside the cube."""
    weights = np.array([c == "1" for c in term], dtype=np.float64)
    return McCullochPitts(weights, threshold=int(weights.sum()),
                          inhibitory=[i for i, c in enumerate(term) if c == "0"])


def dnf_network(table) -> MPNetwork:
    """The one-hidden-layer McCulloch-Pitts network of a truth table in DNF.

    ``table`` has shape (m, n + 1): rows of n binary inputs followed by the output bit;
    rows with output 1 are the true rows, inputs not listed are false (as in Dehaqani's lecture's
    table, which lists only the true rows). Each true row becomes one hidden unit that
    fires on exactly that input: its 1-literals are excitatory inputs of weight 1, the
    threshold is their number, and its 0-literals (the negated variables of the
    conjunction) are inhibitory inputs. The output unit ORs the hidden units.

    >>> net = dnf_network(UNIVERSAL_BOOLEAN_TABLE)
    >>> len(net.hidden), int(net.predict([[0, 0, 1, 1, 0]])[0])
    (6, 1)
    """
    true_rows, n = _true_rows(table)
    hidden = [_term_unit("".join(map(str, row))) for row in true_rows]
    if not hidden:  # the constant-0 function: an output unit that can never fire
        hidden = [McCullochPitts(np.zeros(n), threshold=1)]
    return MPNetwork(hidden, or_gate(len(hidden)))


def _cube_string(value: int, mask: int, n: int) -> str:
    """The cube (value, mask of absent variables) as a string, X1 first (the top bit)."""
    return "".join("-" if mask >> (n - 1 - i) & 1 else str(value >> (n - 1 - i) & 1)
                   for i in range(n))


def _prime_implicants(minterms: set, n: int) -> list:
    """Quine-McCluskey: merge cubes that differ in one present variable until none merge.

    A cube is (value, mask): the inputs m with ``m & ~mask == value``. Two cubes with the
    same mask whose values differ in one bit merge into one with that bit absent ("find
    groups"); the cubes that never merge are the prime implicants.
    """
    cubes, primes = {(m, 0) for m in minterms}, set()
    while cubes:
        merged, used = set(), set()
        for value, mask in cubes:
            for bit in range(n):
                flag = 1 << bit
                partner = (value ^ flag, mask)
                if not mask & flag and partner in cubes:
                    merged.add((value & ~flag, mask | flag))
                    used.update({(value, mask), partner})
        primes |= cubes - used
        cubes = merged
    return sorted(primes)


def _minimum_cover(primes: list, minterms: set, n: int) -> list:
    """The fewest primes (then the fewest literals) whose union is ``minterms``: an exact
    branch-and-bound search that branches on the minterm with the fewest covering primes
    (exponential in the worst case, as minimum cover is NP-hard; instant for lecture tables)."""
    covered = [{m for m in minterms if m & ~mask == value} for value, mask in primes]
    literals = [n - bin(mask).count("1") for _, mask in primes]
    best: list = [None, (np.inf, np.inf)]

    def search(uncovered: set, chosen: list) -> None:
        cost = (len(chosen), sum(literals[p] for p in chosen))
        if cost >= best[1]:
            return
        if not uncovered:
            best[:] = [list(chosen), cost]
            return
        pivot = min(uncovered, key=lambda m: sum(m in c for c in covered))
        for p in sorted((p for p in range(len(primes)) if pivot in covered[p]),
                        key=lambda p: (-len(covered[p] & uncovered), literals[p])):
            search(uncovered - covered[p], chosen + [p])

    search(set(minterms), [])
    return [primes[p] for p in best[0]]


def reduce_dnf(table) -> list[str]:
    """A minimal DNF of a truth table: the fewest conjunctions (then the fewest literals).

    Dehaqani, "Introduction to Neural Networks", "Reducing a Boolean Function": "find
    groups, express as reduced DNF". The true rows are merged Quine-McCluskey fashion
    (two groups that differ in one variable become one without it) into prime implicants,
    and an exact search picks the fewest that cover every true row. ``table`` is as for
    :func:`dnf_network` (unlisted inputs are false). Each term is a cube string, one
    character per input: '1' the variable, '0' its negation, '-' absent.

    >>> reduce_dnf(dnf_truth_table(REDUCTION_SLIDE_TERMS))   # ~Y ~Z + ~X ~Z + ~W X ~Y
    ['--00', '-0-0', '010-']
    """
    true_rows, n = _true_rows(table)
    minterms = {int(m) for m in true_rows @ (1 << np.arange(n - 1, -1, -1))}
    if not minterms:
        return []
    cover = _minimum_cover(_prime_implicants(minterms, n), minterms, n)
    # list the terms in the order of the first true row each covers
    ordered = sorted((min(m for m in minterms if m & ~mask == value), _cube_string(value, mask, n))
                     for value, mask in cover)
    return [term for _, term in ordered]


def _check_terms(terms: Sequence[str]) -> int:
    lengths = {len(t) for t in terms}
    if len(lengths) != 1 or 0 in lengths or not all(set(t) <= set("01-") for t in terms):
        raise LaminaValueError("DNF terms must be non-empty strings of one length over '0', '1', "
                               f"'-' (one character per input), got {list(terms)}")
    return lengths.pop()


def reduced_dnf_network(table) -> MPNetwork:
    """The one-hidden-layer McCulloch-Pitts network of :func:`reduce_dnf`: one hidden unit
    per term of the reduced DNF (an absent variable is not connected), an OR output.

    For the lecture's 5-input table only rows 10001 and 11001 differ in one variable, so
    the reduction merges them into X1 ~X3 ~X4 X5 and needs 5 hidden units instead of 6; the
    slide's own reduction example (:data:`REDUCTION_SLIDE_TERMS`) needs 3.
    """
    terms = reduce_dnf(table)
    if not terms:
        return dnf_network(table)  # the constant-0 function
    return MPNetwork([_term_unit(t) for t in terms], or_gate(len(terms)))


def dnf_truth_table(terms: Sequence[str]) -> np.ndarray:
    """The full truth table (2^n, n + 1) of a DNF given as cube strings, in counting order."""
    n = _check_terms(terms)
    X = truth_table(n)
    y = np.zeros(len(X), dtype=np.int64)
    for term in terms:
        y |= np.all([(X[:, i] == int(c)) for i, c in enumerate(term) if c != "-"] or
                    [np.ones(len(X), bool)], axis=0)
    return np.column_stack([X, y])


def dnf_expression(terms: Sequence[str], names: Sequence[str] | None = None) -> str:
    """The DNF as text in the slide's notation, e.g. ``'~Y ~Z + ~W X ~Y'`` ('1' for a
    constant-1 term, '0' for no terms); ``names`` default to X1..Xn."""
    if not terms:
        return "0"
    n = _check_terms(terms)
    names = list(names) if names is not None else [f"X{i + 1}" for i in range(n)]
    if len(names) != n:
        raise LaminaValueError(f"need {n} variable names, got {names}")
    return " + ".join(" ".join(("" if c == "1" else "~") + names[i]
                               for i, c in enumerate(t) if c != "-") or "1" for t in terms)

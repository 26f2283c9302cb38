"""McCulloch-Pitts units in discrete time: synaptic delays, and loops that remember.

Dehaqani, "Introduction to Neural Networks", "McCulloch and Pitts Model": every synapse of
the 1943 model takes one time step, so a proposition is about the past: the slide's
N3(t) = N1(t-1) or N2(t-1), N1(t-1) and N2(t-1), N1(t-1) and ~N2(t-1); and "Networks with
loops can remember" (Kubie, 1930). :class:`DelayedMPNetwork` runs such units with a delay
on every connection and feedback allowed (:func:`delayed_gate`, :func:`memory_latch`); the
static units and gates are in :mod:`.mcculloch_pitts`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import LaminaValueError, ShapeError

__all__ = ["DelayedMPNetwork", "delayed_gate", "memory_latch"]


class DelayedMPNetwork:
    """McCulloch-Pitts units in discrete time, a delay on every connection, loops allowed.

    Unit j fires at step t iff ``sum_c w_c s_c(t - d_c) >= T_j`` over its excitatory
    connections c and none of its inhibitory sources fired at ``t - d_c`` (absolute
    inhibition, as in the static :class:`McCullochPitts`). Each connection has an integer
    delay d_c >= 1 (default 1: the 1943 model's synaptic delay), so a unit may feed back
    into itself or into units that feed it, and ``run`` computes step t from earlier steps
    only. The input neurons' firing is given for every step; before step 0 the inputs are
    silent and each unit is in its ``initial`` state.

    >>> net = delayed_gate("or")                   # N3(t) = N1(t-1) or N2(t-1)
    >>> net.run({"N1": [1, 0, 0, 0], "N2": [0, 0, 1, 0]})[:, 0]
    array([0, 1, 0, 1])
    """

    def __init__(self, inputs: Sequence[str]) -> None:
        self.inputs = [str(name) for name in inputs]
        if len(set(self.inputs)) != len(self.inputs):
            raise LaminaValueError(f"input names must be distinct, got {self.inputs}")
        self.units: dict = {}

    @property
    def unit_names(self) -> list:
        """The units' names, in the order of the columns ``run`` returns."""
        return list(self.units)

    def add_unit(self, name: str, threshold: float,
                 excitatory: Mapping[str, float] | Sequence[str] = (),
                 inhibitory: Sequence[str] = (),
                 delays: Mapping[str, int] | None = None) -> "DelayedMPNetwork":
        """Add a unit; sources are input or unit names (its own name for self-feedback, or
        units added later). ``excitatory`` maps a source to its weight (a list means weight
        1 each); ``delays`` maps a source to its delay (default 1). Returns the network."""
        name = str(name)
        if name in self.units or name in self.inputs:
            raise LaminaValueError(f"the name {name!r} is already used; taken: "
                                   f"{self.inputs + self.unit_names}")
        if not isinstance(excitatory, Mapping):
            excitatory = {source: 1.0 for source in excitatory}
        excitatory = {str(k): float(v) for k, v in excitatory.items()}
        inhibitory = [str(source) for source in inhibitory]
        both = sorted(set(excitatory) & set(inhibitory))
        if both:
            raise LaminaValueError(f"unit {name!r}: {both} listed as both excitatory and inhibitory")
        delays = {str(k): v for k, v in (delays or {}).items()}
        for source, delay in delays.items():
            if source not in excitatory and source not in inhibitory:
                raise LaminaValueError(f"unit {name!r}: a delay for {source!r}, which is not one "
                                       "of its connections")
            if not (isinstance(delay, (int, np.integer)) and delay >= 1):
                raise LaminaValueError(f"unit {name!r}: the delay from {source!r} must be an "
                                       f"integer >= 1, got {delay!r}")
        self.units[name] = (float(threshold), excitatory, inhibitory, delays)
        return self

    def _compile(self) -> tuple:
        """Weights W[d-1] and inhibition masks I[d-1] (units x all neurons) for each delay d."""
        names = self.inputs + self.unit_names
        index = {n: i for i, n in enumerate(names)}
        connections = []
        for j, (unit, (_, excitatory, inhibitory, delays)) in enumerate(self.units.items()):
            for source in list(excitatory) + inhibitory:
                if source not in index:
                    raise LaminaValueError(f"unit {unit!r} has a connection from {source!r}, which "
                                           f"is neither an input nor a unit; known: {names}")
                connections.append((j, index[source], delays.get(source, 1),
                                    excitatory.get(source), source in inhibitory))
        D = max([c[2] for c in connections], default=1)
        W = np.zeros((D, len(self.units), len(names)))
        I = np.zeros((D, len(self.units), len(names)))
        for j, i, d, weight, inhibits in connections:
            if inhibits:
                I[d - 1, j, i] = 1.0
            else:
                W[d - 1, j, i] += weight
        thresholds = np.array([spec[0] for spec in self.units.values()])
        return W, I, thresholds

    def run(self, inputs, initial: Mapping[str, int] | None = None) -> np.ndarray:
        """The units' 0/1 states at steps 0..T-1, shape (T, n_units) (columns in the order
        of ``unit_names``), for inputs of shape (T, n_inputs) or a mapping from input name
        to its T states; a leading batch axis (batch, T, n_inputs) gives (batch, T, n_units)."""
        if not self.units:
            raise LaminaValueError("the network has no units; add some with add_unit")
        if isinstance(inputs, Mapping):
            missing = sorted(set(self.inputs) - set(inputs))
            if missing or set(inputs) - set(self.inputs):
                raise LaminaValueError(f"inputs must name exactly {self.inputs}, got {sorted(inputs)}")
            inputs = np.stack([np.asarray(inputs[n]) for n in self.inputs], axis=-1)
        X = np.asarray(inputs)
        if X.ndim not in (2, 3) or X.shape[-1] != len(self.inputs) or X.shape[-2] == 0:
            raise ShapeError(f"inputs must have shape (T, {len(self.inputs)}) or (batch, T, "
                             f"{len(self.inputs)}) with T >= 1, got {X.shape}")
        if not np.isin(X, (0, 1)).all():
            raise LaminaValueError("input states must be 0 or 1, got values "
                                   f"{np.unique(X)[:10].tolist()}")
        batched = X.ndim == 3
        X = X.reshape((-1,) + X.shape[-2:]).astype(np.float64)
        W, I, thresholds = self._compile()
        D, n_in, (B, T, _) = W.shape[0], len(self.inputs), X.shape
        start = np.zeros(len(self.units))
        for name, state in (initial or {}).items():
            if name not in self.units or state not in (0, 1):
                raise LaminaValueError(f"initial states are 0 or 1 for units {self.unit_names}, "
                                       f"got {name!r}: {state!r}")
            start[self.unit_names.index(name)] = state
        # history row D + t holds every neuron's state at step t; rows 0..D-1 are the past
        H = np.zeros((B, D + T, n_in + len(self.units)))
        H[:, :D, n_in:] = start
        H[:, D:, :n_in] = X
        # Discrete time is sequential by definition: step t needs the states of steps < t.
        for t in range(D, D + T):
            past = H[:, t - D:t][:, ::-1]  # past[:, d - 1] = the states at t - d
            net = np.einsum("bdi,dji->bj", past, W)
            vetoed = np.einsum("bdi,dji->bj", past, I) > 0
            H[:, t, n_in:] = (net >= thresholds) & ~vetoed
        states = H[:, D:, n_in:].astype(np.int64)
        return states if batched else states[0]


def delayed_gate(kind: str = "or") -> DelayedMPNetwork:
    """The slide's propositions with delay, inputs N1, N2 and one unit N3:
    ``'or'``: N3(t) = N1(t-1) or N2(t-1) (threshold 1); ``'and'``: N1(t-1) and N2(t-1)
    (threshold 2); ``'and not'``: N1(t-1) and ~N2(t-1) (N2 inhibitory)."""
    net = DelayedMPNetwork(["N1", "N2"])
    if kind == "or":
        return net.add_unit("N3", 1, excitatory=["N1", "N2"])
    if kind == "and":
        return net.add_unit("N3", 2, excitatory=["N1", "N2"])
    if kind == "and not":
        return net.add_unit("N3", 1, excitatory=["N1"], inhibitory=["N2"])
    raise LaminaValueError(f"kind must be 'or', 'and' or 'and not', got {kind!r}")


def memory_latch() -> DelayedMPNetwork:
    """A unit that remembers: "networks with loops can remember" (Kubie's closed loops).

    Unit M excites itself and is excited by the input ``set`` (threshold 1), and ``reset``
    is inhibitory: M(t) = (set(t-1) or M(t-1)) and ~reset(t-1). Once set, M keeps firing
    with no input until a reset pulse silences it.
    """
    return DelayedMPNetwork(["set", "reset"]).add_unit("M", 1, excitatory=["set", "M"],
                                                       inhibitory=["reset"])

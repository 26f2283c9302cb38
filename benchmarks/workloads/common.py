"""What every workload shares: settings, the data, interleaved timing, result rows, and the
one-step equivalence check.

Conventions:
- The frameworks are keyed ``"lamina"``, ``"torch"``, ``"numpy"`` (hand-written NumPy, no
  framework) and ``"jax"``; a row holds, per framework, the samples of one repetition each.
- Timing is interleaved: a repetition is split into pieces and the frameworks take turns piece
  by piece (A B C A B C ...), so a machine that gets busier or quieter during the run slows
  all of them alike; the row reports the medians of the repetitions.
- The data are identical for every framework: one NumPy permutation, drawn once, picks the
  batches; every framework receives the same float32 (and int64) arrays.
"""
from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

FRAMEWORKS = ("lamina", "compiled", "torch", "numpy", "jax")
# "compiled" is lamina's own step under lamina.compile (opt-in replay), a column beside eager
# lamina, never a denominator of the "lamina / X" ratios.
LABELS = {"lamina": "lamina", "compiled": "lamina.compile", "torch": "PyTorch",
          "numpy": "NumPy floor", "jax": "JAX (jit)"}
DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 2024  # the batch permutation and the initial weights


@dataclass
class Settings:
    """Run-wide settings: repetitions, sizes, threads; ``quick`` shrinks everything."""

    quick: bool = False
    threads: int = 1
    has_torch: bool = True
    has_jax: bool = False
    reps: int = 5
    clock: str = "wall"  # or "cpu" (process CPU time; see use_clock)

    def pick(self, quick_value, full_value):
        """``quick_value`` in --quick mode, ``full_value`` otherwise."""
        return quick_value if self.quick else full_value


@dataclass
class Target:
    """A goal on one row: ``mine / other  op  bound`` (``other`` None: the median of ``mine``
    itself is compared with ``bound``); ``mine`` is eager lamina unless the goal is about
    lamina.compile."""

    text: str
    op: str  # "<=", ">=" or "<"
    bound: float
    other: str | None = None
    mine_key: str = "lamina"

    def check(self, medians: dict[str, float]) -> tuple[bool | None, float | None]:
        """(met?, measured value); (None, None) when a needed median is missing."""
        mine = medians.get(self.mine_key)
        if mine is None:
            return None, None
        if self.other is None:
            value = mine
        else:
            theirs = medians.get(self.other)
            if not theirs:
                return None, None
            value = mine / theirs
        met = {"<=": value <= self.bound, ">=": value >= self.bound, "<": value < self.bound}
        return met[self.op], value


@dataclass
class Row:
    """One line of the results table: a metric of a workload measured in several frameworks."""

    workload: str
    metric: str
    unit: str
    higher_is_better: bool
    samples: dict[str, list[float]] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    note: str = ""

    def medians(self) -> dict[str, float]:
        return {k: statistics.median(v) for k, v in self.samples.items() if v}

    def to_json(self) -> dict:
        medians = self.medians()
        return {
            "workload": self.workload, "metric": self.metric, "unit": self.unit,
            "higher_is_better": self.higher_is_better, "samples": self.samples,
            "medians": medians,
            "ratios_lamina_over": {k: medians["lamina"] / v for k, v in medians.items()
                                   if k != "lamina" and "lamina" in medians and v},
            "targets": [{"text": t.text, "value": t.check(medians)[1],
                         "met": t.check(medians)[0]} for t in self.targets],
            "note": self.note,
        }


class EquivalenceError(RuntimeError):
    """Raised when two frameworks disagree on the loss of the same step: the work differs."""


def training_step(t, model, opt, cost):
    """The loop body a tutorial writes: zero_grad, loss = cost(t, model(x), y), backward, step
    (``t`` is lamina or torch)."""
    def step(x, y):
        opt.zero_grad()
        loss = cost(t, model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def check_losses(workload: str, losses: dict[str, list[float]], tol: float = 1e-4) -> None:
    """Abort ``workload`` unless every framework's losses match lamina's to ``tol``
    (absolute, or relative for losses above 1)."""
    ref = losses["lamina"]
    for name, values in losses.items():
        for step, (a, b) in enumerate(zip(ref, values)):
            if not (math.isfinite(b) and abs(a - b) <= tol * max(1.0, abs(a))):
                raise EquivalenceError(
                    f"{workload}: loss {step} differs, lamina {a!r} vs {name} {b!r} "
                    f"(tolerance {tol}); the models are not doing the same work")


def interleave(units: dict[str, Callable[[int], float]], reps: int, pieces: int = 1,
               warmup: bool = True) -> dict[str, list[float]]:
    """Seconds per repetition for every unit, the frameworks taking turns piece by piece.

    A repetition is ``pieces`` pieces (``unit(p)`` runs piece p and returns the seconds of its
    own timed part, so setup stays off the clock); the order is A0 B0 C0 A1 B1 C1 ..., so
    a burst of activity from other processes lands on every framework alike rather than on
    one repetition of one framework. ``warmup`` first runs piece 0 of each unit untimed.
    """
    if warmup:
        for unit in units.values():
            unit(0)
    samples: dict[str, list[float]] = {name: [] for name in units}
    for _ in range(reps):
        totals = dict.fromkeys(units, 0.0)
        for piece in range(pieces):
            for name, unit in units.items():
                totals[name] += unit(piece)
        for name, total in totals.items():
            samples[name].append(total)
    return samples


_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = [time.perf_counter]


def use_clock(kind: str) -> None:
    """Time with the wall clock (``"wall"``) or this process's CPU time (``"cpu"``: every
    thread of the process, but not the time other processes hold the cores)."""
    _clock[0] = _CLOCKS[kind]


def clock() -> float:
    return _clock[0]()


# ----------------------------------------------------------------------------- data
_CACHE: dict[str, object] = {}


def fashion_mnist(train: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Fashion-MNIST images float32 (N, 1, 28, 28) in [0, 1] and int64 labels, read with
    ``lamina.data.FashionMNIST`` from the system directory; synthetic data of the same shape
    and range (uniform pixels, uniform labels) when the files are absent. Also returns the
    data's description."""
    key = f"fmnist-{train}"
    if key not in _CACHE:
        try:
            from lamina.data import FashionMNIST
            x, y = FashionMNIST(root=DATA_DIR, train=train).arrays()
            source = f"Fashion-MNIST ({'train' if train else 'test'}, {DATA_DIR})"
        except Exception as exc:  # noqa: BLE001 - any failure to read means: use synthetic data
            n = 60000 if train else 10000
            rng = np.random.default_rng(SEED + int(train))
            x = rng.random((n, 1, 28, 28), dtype=np.float32)
            y = rng.integers(0, 10, n).astype(np.int64)
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
            source = f"synthetic stand-in for Fashion-MNIST (not readable: {reason})"
        _CACHE[key] = (np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64), source)
    return _CACHE[key]


def permutation(n: int) -> np.ndarray:
    """The one batch order shared by every framework (drawn once per size with NumPy)."""
    return np.random.default_rng(SEED).permutation(n)


def batches(batch: int, steps: int, train: bool = True) -> tuple[np.ndarray, np.ndarray, str]:
    """``steps`` batches of ``batch`` images as contiguous arrays (steps, batch, 1, 28, 28) and
    labels (steps, batch), taken in the shared permuted order of the training set."""
    x, y, source = fashion_mnist(train)
    need = batch * steps
    order = permutation(len(x))
    index = np.resize(order, need)  # wraps around if more images are asked for than exist
    return (np.ascontiguousarray(x[index].reshape(steps, batch, 1, 28, 28)),
            y[index].reshape(steps, batch), source)


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    out = np.zeros((labels.size, classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


# ----------------------------------------------------------------------------- weights
def lamina_state(module) -> dict[str, np.ndarray]:
    """lamina's state dict as float32 NumPy arrays (copies), the hand-over to other frameworks."""
    return {k: np.array(v.numpy(), dtype=np.float32) for k, v in module.state_dict().items()}


def load_into_torch(module, state: dict[str, np.ndarray]) -> None:
    """Copy ``state`` into the torch ``module`` (strict: the layouts must match exactly)."""
    import torch

    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)


def blas_threads() -> tuple[int, str]:
    """The number of threads NumPy's BLAS uses, and how it was found."""
    try:
        from threadpoolctl import threadpool_info
        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return int(counts[0]), "threadpoolctl"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var]), var
    return os.cpu_count() or 1, "os.cpu_count() (OpenBLAS default)"

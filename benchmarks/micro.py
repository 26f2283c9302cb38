"""The fixed costs of eager lamina, per call, beside PyTorch and the NumPy floor (issue 13).

Each figure is the best of many short repetitions (``timeit``), in microseconds per call: on
a machine shared with other work the best repetition is the one that ran undisturbed.
Used by ``benchmarks/eager.py`` (the ``micro`` rows); run alone with
``python benchmarks/micro.py`` for a quick look.
"""
from __future__ import annotations

import timeit

import numpy as np

SEED = 2024


def best_us(fn, number: int, repeat: int) -> float:
    """The best of ``repeat`` timings of ``number`` calls, in microseconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _cases(t, rng):
    """name -> (call, calls per timing) for framework module ``t`` (lamina or torch)."""
    xa = rng.standard_normal(10, dtype=np.float32)
    ya = rng.standard_normal(10, dtype=np.float32)
    x, y, xg = t.from_numpy(xa.copy()), t.from_numpy(ya.copy()), t.from_numpy(xa.copy())
    xg.requires_grad_(True)
    t.manual_seed(SEED)
    small = t.nn.Linear(10, 10)
    xb = t.from_numpy(rng.standard_normal((1, 10), dtype=np.float32))

    def linear_fwd_bwd():
        out = small(xb).sum()
        out.backward()

    net = t.nn.Sequential(t.nn.Linear(784, 30), t.nn.Sigmoid(), t.nn.Linear(30, 10), t.nn.Sigmoid())
    xm = t.from_numpy(rng.standard_normal((10, 784), dtype=np.float32))
    ym = t.from_numpy(rng.random((10, 10), dtype=np.float32))
    first = net[0]

    def forward_no_grad():
        with t.no_grad():
            first(xm)

    def mlp_fwd_bwd():
        (0.5 * ((net(xm) - ym) ** 2).sum(1).mean()).backward()

    mlp_fwd_bwd()  # every parameter has a gradient for the optimiser rows
    plain = t.optim.SGD(net.parameters(), lr=0.01)
    heavy = t.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    adam = t.optim.Adam(net.parameters(), lr=1e-3)
    return {
        "x + y (10 elements)": (lambda: x + y, 2000),
        "x + y, requires_grad (records a node)": (lambda: xg + y, 2000),
        "Linear(10, 10) forward + backward, batch 1": (linear_fwd_bwd, 200),
        "Linear(784, 30) module call, batch 10, no_grad": (forward_no_grad, 500),
        "MLP [784, 30, 10] forward + backward, batch 10 (cost written out)": (mlp_fwd_bwd, 100),
        "SGD step, the MLP's 4 parameters": (plain.step, 500),
        "SGD momentum step, 4 parameters": (heavy.step, 500),
        "Adam step, 4 parameters": (adam.step, 200),
    }


def _numpy_floor(rng) -> dict:
    xa = rng.standard_normal(10, dtype=np.float32)
    ya = rng.standard_normal(10, dtype=np.float32)
    w = rng.standard_normal((10, 10), dtype=np.float32)
    b = rng.standard_normal(10, dtype=np.float32)
    xb = rng.standard_normal((1, 10), dtype=np.float32)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    ones = np.ones((1, 10), dtype=np.float32)

    def linear():
        out = xb @ w.T
        out += b
        total = out.sum()
        np.add(gw, ones.T @ xb, out=gw)
        np.add(gb, ones[0], out=gb)
        return total

    return {"x + y (10 elements)": (lambda: xa + ya, 2000),
            "Linear(10, 10) forward + backward, batch 1": (linear, 200)}


def micro_rows(settings) -> list[dict]:
    import lamina
    import torch

    repeat = 30 if settings.quick else 120
    cases = {"lamina": _cases(lamina, np.random.default_rng(SEED)),
             "torch": _cases(torch, np.random.default_rng(SEED))}
    floor = _numpy_floor(np.random.default_rng(SEED))
    rows = []
    for name in cases["lamina"]:
        samples = {}
        for _ in range(2):  # interleaved: lamina, torch, lamina, torch
            for key in ("lamina", "torch"):
                fn, number = cases[key][name]
                samples.setdefault(key, []).append(best_us(fn, number, repeat // 2))
        if name in floor:
            fn, number = floor[name]
            samples["numpy"] = [best_us(fn, number, repeat)]
        rows.append({"workload": "micro", "metric": name, "unit": "us/call",
                     "higher_is_better": False, "threads": settings.threads,
                     "samples": samples, "note": "best of many short repetitions"})
    return rows


if __name__ == "__main__":
    from types import SimpleNamespace

    for row in micro_rows(SimpleNamespace(quick=True, threads=1)):
        best = {k: min(v) for k, v in row["samples"].items()}
        print(f"{row['metric']:64s} " + "  ".join(f"{k} {v:8.2f}" for k, v in best.items())
              + f"  lamina/torch {best['lamina'] / best['torch']:.2f}")

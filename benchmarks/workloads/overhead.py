"""Workload 5, ``overhead``: the fixed cost of one operation, in microseconds per call.

The arrays are so small (10 elements) that the arithmetic is free and what is measured is the
framework's own work per call: argument checks, dispatch, wrapping the result, and (with
``requires_grad``) recording the graph node.

- ``x + y``: two float32 tensors of 10 elements, no gradient tracking. NumPy's own ``x + y``
  is the floor; JAX runs it eagerly (op-by-op dispatch, no jit).
- ``x + y, requires_grad``: x requires a gradient, so the call also records a graph node
  (no backward). No NumPy or JAX counterpart.
- ``Linear(10, 10) fwd+bwd``: a Linear layer on a batch of 1, ``out.sum().backward()``
  (gradients accumulate from call to call, in both frameworks). The NumPy floor is the same
  forward and backward written out (y = x W^T + b; dW = 1^T x, db = 1; x needs no gradient);
  JAX calls one jitted ``value_and_grad``.
"""
from __future__ import annotations

import numpy as np

from .common import SEED, Row, Settings, clock, interleave


def _per_call(fn, calls: int, sync=None):
    """A unit that makes ``calls`` calls of ``fn`` per piece and returns their seconds."""
    def unit(piece: int) -> float:
        start = clock()
        for _ in range(calls):
            out = fn()
        if sync is not None:
            sync(out)
        return clock() - start
    return unit


def _add_units(settings: Settings, calls: int, requires_grad: bool) -> dict:
    rng = np.random.default_rng(SEED)
    xa, ya = rng.standard_normal(10, dtype=np.float32), rng.standard_normal(10, dtype=np.float32)
    import lamina as lm

    lx, ly = lm.tensor(xa, requires_grad=requires_grad), lm.tensor(ya)
    units = {"lamina": _per_call(lambda: lx + ly, calls)}
    if settings.has_torch:
        import torch

        tx, ty = torch.tensor(xa, requires_grad=requires_grad), torch.tensor(ya)
        units["torch"] = _per_call(lambda: tx + ty, calls)
    if not requires_grad:
        units["numpy"] = _per_call(lambda: xa + ya, calls)
        if settings.has_jax:
            import jax.numpy as jnp

            jx, jy = jnp.asarray(xa), jnp.asarray(ya)
            units["jax"] = _per_call(lambda: jx + jy, calls, lambda out: out.block_until_ready())
    return units


def _linear_units(settings: Settings, calls: int) -> dict:
    import lamina as lm

    lm.manual_seed(SEED)
    layer = lm.nn.Linear(10, 10)
    w = layer.weight.numpy().copy()
    b = layer.bias.numpy().copy()
    xa = np.random.default_rng(SEED).standard_normal((1, 10), dtype=np.float32)
    lx = lm.tensor(xa)

    def lamina_call():
        out = layer(lx).sum()
        out.backward()
        return out

    units = {"lamina": _per_call(lamina_call, calls)}
    if settings.has_torch:
        import torch

        tlayer = torch.nn.Linear(10, 10)
        with torch.no_grad():
            tlayer.weight.copy_(torch.from_numpy(w))
            tlayer.bias.copy_(torch.from_numpy(b))
        tx = torch.from_numpy(xa)

        def torch_call():
            out = tlayer(tx).sum()
            out.backward()
            return out

        units["torch"] = _per_call(torch_call, calls)

    gw, gb = np.zeros_like(w), np.zeros_like(b)
    ones = np.ones((1, 10), dtype=np.float32)

    def numpy_call():
        y = xa @ w.T
        y += b
        total = y.sum()
        np.add(gw, ones.T @ xa, out=gw)  # d sum / dW = 1^T x, accumulated like .grad
        np.add(gb, ones[0], out=gb)
        return total

    units["numpy"] = _per_call(numpy_call, calls)
    if settings.has_jax:
        import jax
        import jax.numpy as jnp

        params = (jnp.asarray(w), jnp.asarray(b))
        jxa = jnp.asarray(xa)
        fn = jax.jit(jax.value_and_grad(lambda p, x: jnp.sum(x @ p[0].T + p[1])))
        units["jax"] = _per_call(lambda: fn(params, jxa), calls,
                                 lambda out: jax.block_until_ready(out))
    return units


def run(settings: Settings) -> list[Row]:
    calls, pieces = settings.pick(500, 2_000), settings.pick(4, 10)
    reps = max(settings.reps, settings.pick(3, 7))
    rows = []
    for label, units, n in (
            ("x + y (10 elements)", _add_units(settings, calls, False), calls),
            ("x + y, requires_grad", _add_units(settings, calls, True), calls),
            ("Linear(10,10) fwd+bwd, batch 1", _linear_units(settings, calls // 4), calls // 4)):
        seconds = interleave(units, reps, pieces=pieces)
        samples = {k: [s / (n * pieces) * 1e6 for s in v] for k, v in seconds.items()}
        rows.append(Row("overhead", label, "us/call", False, samples, [],
                        f"{n * pieces:,} calls per repetition, in {pieces} turns"))
    return rows

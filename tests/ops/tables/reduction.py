"""Reductions over all, one, negative, tuple and list dims, with and without keepdim.

Inputs of max/min-like rows are tie-free (distinct values at least 0.1 apart), so finite
differences never straddle a kink; tie behaviour is tested in
tests/ops/test_reductions_and_indexing.py. Rows are named ``reduction.<op>`` so that
``pytest -k reduction`` selects them.
"""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

# (shape, kwargs): all dims, int, negative + keepdim, tuple, list + keepdim, 1-d, 0-d.
DIMS = [((3, 4), {}), ((3, 4), {"dim": 1}), ((3, 4), {"dim": -1, "keepdim": True}),
        ((2, 3, 4), {"dim": (0, 2)}), ((2, 3, 4), {"dim": [-1, -3], "keepdim": True}),
        ((2, 3, 4), {"dim": 1}), ((5,), {"dim": 0}), ((), {})]
INT_DIMS = [((3, 4), {}), ((3, 4), {"dim": 0}), ((3, 4), {"dim": -1, "keepdim": True}),
            ((2, 3, 4), {"dim": 1}), ((2, 3, 4), {"dim": -3, "keepdim": True}), ((5,), {"dim": 0})]


def distinct(rng, shape):
    """Values with no two closer than 0.1 (no ties anywhere)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.02, n)).reshape(shape)


def samples(dims, kind="normal"):
    def make(rng):
        out = []
        for shape, kw in dims:
            if kind == "distinct":
                x = distinct(rng, shape)
            elif kind == "away_from_zero":
                x = rng.standard_normal(shape)
                x = x + 0.3 * np.sign(x) + (x == 0)
            else:
                x = rng.standard_normal(shape)
            out.append(Sample((x,), dict(kw), name=f"{shape}-{kw}"))
        return out
    return make


def method(name):
    """lamina's ``x.name(**kw)`` (the Tensor method installed from this family)."""
    return lambda x, **kw: getattr(x, name)(**kw)


def torch_fn(name):
    """``torch.name(x, **kw)``; samples leave ``dim`` out for all dims, since not every torch
    reduction accepts ``dim=None``."""
    return lambda x, **kw: getattr(torch, name)(x, **kw)


def var_samples(rng):
    out = samples(DIMS)(rng)
    out += [Sample((rng.standard_normal((3, 4)),), {"dim": 1, "unbiased": False}, name="biased"),
            Sample((rng.standard_normal((3, 5)),), {"dim": 0, "correction": 0}, name="corr0"),
            Sample((rng.standard_normal((2, 6)),), {"dim": -1, "correction": 2, "keepdim": True},
                   name="corr2")]
    return [s for s in out if s.args[0].size > 1]


def prod_samples(rng):
    out = samples(INT_DIMS)(rng)
    one_zero = rng.standard_normal((3, 4))
    one_zero[1, 2] = 0.0
    two_zeros = rng.standard_normal((3, 4))
    two_zeros[0, 1] = two_zeros[0, 3] = 0.0
    out += [Sample((one_zero,), {"dim": 1}, name="one_zero"),
            Sample((one_zero.copy(),), {}, name="one_zero_all"),
            Sample((two_zeros,), {"dim": 1}, name="two_zeros")]
    return out


NORM_DIMS = [((3, 4), {}), ((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": (0, 2), "keepdim": True})]


def norm_samples(rng):
    out = []
    for p in (2, 1, 3, 0.5, 0, float("inf"), -float("inf"), "fro"):
        for shape, kw in NORM_DIMS:
            x = distinct(rng, shape) if p in (np.inf, -np.inf) else rng.standard_normal(shape)
            x = x + 0.2 * np.sign(x)   # |x| away from 0, where |x|^p has its kink
            out.append(Sample((x,), {"p": p, **kw}, name=f"p={p}-{shape}-{kw}"))
    return out


def max_dim_samples(rng):
    return [Sample((distinct(rng, s),), {"dim": d, **kw}, name=f"{s}-{d}-{kw}")
            for s, d, kw in [((3, 4), 1, {}), ((3, 4), 0, {"keepdim": True}), ((2, 3, 4), -2, {}),
                             ((2, 3, 4), -1, {"keepdim": True}), ((5,), 0, {})]]


def pair_samples(rng):
    return [Sample((distinct(rng, (3, 4)), distinct(rng, (3, 4)) + 0.05), name="same"),
            Sample((distinct(rng, (2, 3)), distinct(rng, (3,)) + 0.05), name="broadcast")]


def logsumexp_samples(rng):
    out = samples([(s, kw) for s, kw in DIMS if kw.get("dim") is not None])(rng)
    out.append(Sample((rng.standard_normal((3, 4)) * 30,), {"dim": 1}, name="wide_range"))
    return out


def sum_int_samples(rng):
    return [Sample((rng.integers(-5, 5, (3, 4)),), {"dim": 1}, name="int64"),
            Sample((rng.integers(-5, 5, (3, 4)).astype(np.int32),), {}, name="int32"),
            Sample((rng.standard_normal((3, 4)) > 0,), {"dim": 0}, name="bool")]


TABLE = [
    OpInfo("reduction.sum", lm.sum, torch_fn("sum"), samples(DIMS)),
    OpInfo("reduction.sum_method", method("sum"), method("sum"), samples(DIMS[1:-1])),
    OpInfo("reduction.sum_dtype", lambda x: lm.sum(x, 1, dtype=lm.float64),
           lambda x: torch.sum(x, 1, dtype=torch.float64), samples(DIMS[:1])),
    OpInfo("reduction.sum_int", lm.sum, torch_fn("sum"), sum_int_samples,
           differentiable=False, gradcheck=False),
    OpInfo("reduction.mean", lm.mean, torch_fn("mean"), samples(DIMS)),
    OpInfo("reduction.mean_method", method("mean"), method("mean"), samples(DIMS[1:-1])),
    OpInfo("reduction.var", lm.var, torch_fn("var"), var_samples),
    OpInfo("reduction.std", lm.std, torch_fn("std"), var_samples),
    OpInfo("reduction.std_method", method("std"), method("std"), lambda r: var_samples(r)[1:4]),
    OpInfo("reduction.amax", lm.amax, torch_fn("amax"), samples(DIMS, "distinct")),
    OpInfo("reduction.amin", lm.amin, torch_fn("amin"), samples(DIMS, "distinct")),
    OpInfo("reduction.max_all", lm.max, torch.max, samples(DIMS[:1] + DIMS[-1:], "distinct")),
    OpInfo("reduction.min_all", method("min"), method("min"), samples(DIMS[:1], "distinct")),
    OpInfo("reduction.max_dim", lm.max, torch.max, max_dim_samples),
    OpInfo("reduction.min_dim", method("min"), method("min"), max_dim_samples),
    OpInfo("reduction.max_pair", lm.max, torch.max, pair_samples),
    OpInfo("reduction.min_pair", lm.min, torch.min, pair_samples),
    OpInfo("reduction.argmax", lm.argmax, torch.argmax, samples(INT_DIMS, "distinct"),
           differentiable=False, gradcheck=False),
    OpInfo("reduction.argmin", method("argmin"), method("argmin"), samples(INT_DIMS, "distinct"),
           differentiable=False, gradcheck=False),
    OpInfo("reduction.logsumexp", lm.logsumexp, torch.logsumexp, logsumexp_samples),
    OpInfo("reduction.prod", lm.prod, torch_fn("prod"), prod_samples),
    OpInfo("reduction.norm", lm.norm, torch.norm, norm_samples),
]

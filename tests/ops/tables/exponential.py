"""exp2, expm1, the logarithms, rsqrt, reciprocal, erf and erfinv: samples inside each domain
and away from its edges, small arguments where expm1/log1p must keep their digits, erf over
both tails and erfinv up to |x| = 0.999. Rows are named ``exponential.<op>``; every op also
runs as a Tensor method."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample
from .trigonometric import SHAPES, method, uniform


def nonzero(rng):
    """|x| in [0.3, 3] with either sign (reciprocal)."""
    return [Sample((rng.uniform(0.3, 3, s) * rng.choice([-1.0, 1.0], s),), name=str(s))
            for s in SHAPES]


def small(rng):
    """Tiny arguments, where exp(x) - 1 and log(1 + x) would cancel."""
    x = np.array([1e-7, -3e-6, 2e-5, -1e-4, 5e-3])
    return [Sample((x,), name="small")] + uniform(-0.8, 3)(rng)


def erf_sweep(rng):
    return [Sample((np.linspace(-6, 6, 49),), name="sweep")] + uniform(-3, 3)(rng)


def erfinv_samples(rng):
    edge = np.array([-0.999, -0.99, 0.0, 0.3, 0.99, 0.999])
    return [Sample((edge,), name="edges")] + uniform(-0.95, 0.95)(rng)


def integers(rng):
    return [Sample((rng.integers(1, 6, (3, 4)),), name="int64")]


ROWS = {
    "exp2": uniform(-3, 3), "expm1": small, "log2": uniform(0.2, 5),
    "log10": uniform(0.2, 5), "log1p": small, "rsqrt": uniform(0.2, 5),
    "reciprocal": nonzero, "erf": erf_sweep, "erfinv": erfinv_samples,
}

TABLE = []
for _name, _samples in ROWS.items():
    TABLE += [
        OpInfo(f"exponential.{_name}", getattr(lm, _name), getattr(torch, _name), _samples),
        OpInfo(f"exponential.{_name}_method", method(_name), method(_name),
               lambda r, s=_samples: s(r)[1:2]),
    ]
for _name in ("exp2", "log2", "rsqrt", "reciprocal", "erf"):
    TABLE.append(OpInfo(f"exponential.{_name}_int", getattr(lm, _name), getattr(torch, _name),
                        integers, differentiable=False))
TABLE.append(OpInfo("exponential.erfinv_limits", lm.erfinv, torch.erfinv,
                    lambda r: [Sample((np.array([-1.0, 1.0, 1.5, -2.0, 0.0]),), name="limits")],
                    differentiable=False))

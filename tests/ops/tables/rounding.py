"""floor, ceil, round (with decimals), trunc/fix, frac, fmod and remainder. Samples keep at
least 0.1 between x (scaled by 10^decimals for round, x / divisor for fmod/remainder) and
every integer and half-integer, so no finite difference straddles a jump; exact halves and
integer tensors run in rows without gradients. Rows are named ``rounding.<op>``."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample
from .trigonometric import SHAPES, method


def off_grid(rng, shape, scale=1.0):
    """scale (k + f) with k an integer in [-4, 4] and f in [0.1, 0.4] or [0.6, 0.9]."""
    k = rng.integers(-4, 5, shape)
    f = rng.uniform(0.1, 0.4, shape) + rng.integers(0, 2, shape) * 0.5
    return np.asarray(scale * (k + f), dtype=np.float64)


def samples(scale=1.0, shapes=SHAPES, **kw):
    def make(rng):
        return [Sample((off_grid(rng, s, scale),), dict(kw), name=str(s)) for s in shapes]
    return make


def integers(rng):
    return [Sample((rng.integers(-9, 10, (3, 4)),), name="int64")]


def halves(rng):
    """Exact halves: round breaks ties to even (0.5 -> 0, 1.5 -> 2, -2.5 -> -2)."""
    return [Sample((np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]),), name="halves")]


def divisions(rng):
    """(a, b) with a / b = k + f off the integers; b broadcasts and has either sign."""
    out = []
    for sa, sb in [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 4), (3, 1)), ((5,), ())]:
        b = rng.uniform(0.5, 2.0, sb) * rng.choice([-1.0, 1.0], sb)
        a = off_grid(rng, sa) * b
        out.append(Sample((a, b), name=f"{sa}x{sb}"))
    out.append(Sample((off_grid(rng, (3, 4)) * 2.5, 2.5), name="number"))
    out.append(Sample((off_grid(rng, (3, 4)) * -1.5, -1.5), name="negative_number"))
    return out


def integer_divisions(rng):
    a = rng.integers(-9, 10, (3, 4))
    b = rng.integers(1, 4, (4,)) * np.array([1, -1, 1, -1])
    return [Sample((a, b), name="int64"), Sample((a, 3), name="int_number"),
            Sample((a, -4), name="negative_int_number")]


TABLE = []
for _name in ("floor", "ceil", "round", "trunc", "fix"):
    TABLE += [
        OpInfo(f"rounding.{_name}", getattr(lm, _name), getattr(torch, _name), samples()),
        OpInfo(f"rounding.{_name}_method", method(_name), method(_name),
               samples(shapes=SHAPES[1:2])),
        OpInfo(f"rounding.{_name}_int", getattr(lm, _name), getattr(torch, _name), integers,
               differentiable=False),
    ]
TABLE += [
    OpInfo("rounding.round_halves", lm.round, torch.round, halves, differentiable=False),
    OpInfo("rounding.round_decimals", lm.round, torch.round,
           lambda r: samples(0.1, decimals=1)(r) + samples(0.01, SHAPES[1:2], decimals=2)(r)),
    OpInfo("rounding.round_negative_decimals", lm.round, torch.round,
           samples(100.0, SHAPES[:2], decimals=-2)),
    OpInfo("rounding.round_decimals_method", method("round", decimals=1),
           method("round", decimals=1), samples(0.1, SHAPES[1:2])),
    OpInfo("rounding.frac", lm.frac, torch.frac, samples()),
    OpInfo("rounding.frac_method", method("frac"), method("frac"), samples(shapes=SHAPES[1:2])),
    OpInfo("rounding.fmod", lm.fmod, torch.fmod, divisions),
    OpInfo("rounding.fmod_method", method("fmod"), method("fmod"), lambda r: divisions(r)[:2]),
    OpInfo("rounding.fmod_int", lm.fmod, torch.fmod, integer_divisions, differentiable=False),
    OpInfo("rounding.remainder", lm.remainder, torch.remainder, divisions),
    OpInfo("rounding.remainder_method", method("remainder"), method("remainder"),
           lambda r: divisions(r)[:2]),
    OpInfo("rounding.remainder_int", lm.remainder, torch.remainder, integer_divisions,
           differentiable=False),
]

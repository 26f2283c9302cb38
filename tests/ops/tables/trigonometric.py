"""Trigonometric and hyperbolic functions, their inverses, atan2 and hypot: samples inside
each domain and away from its edges (|x| <= 0.9 for asin/acos/atanh, x >= 1.2 for acosh, tan
away from its poles), atan2 away from the origin and its branch cut. Rows are named
``trigonometric.<op>`` so that ``pytest -k trigonometric`` selects them; every op also runs as
a Tensor method. ``uniform`` is shared with the other elementwise tables."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

SHAPES = [(5,), (3, 4), (2, 3, 4), ()]


def uniform(low, high, shapes=SHAPES):
    """Samples of every shape, uniform in [low, high]."""
    def make(rng):
        return [Sample((rng.uniform(low, high, s),), name=str(s)) for s in shapes]
    return make


def method(name, **fixed):
    """``x.name(*args, **fixed)`` for lamina and torch alike."""
    return lambda x, *args, **kw: getattr(x, name)(*args, **fixed, **kw)


def integers(rng):
    return [Sample((rng.integers(-5, 6, (3, 4)),), name="int64")]


def away_from_origin(rng):
    """Pairs (a, b) with |a| >= 0.3, so atan2 stays off its cut (a = 0, b < 0) and both
    atan2 and hypot away from the origin; b broadcasts against a."""
    out = []
    for sa, sb in [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 3))]:
        a = rng.standard_normal(sa)
        a = a + 0.3 * np.where(a < 0, -1, 1)
        out.append(Sample((a, rng.standard_normal(sb)), name=f"{sa}x{sb}"))
    return out


DOMAINS = {
    "sin": (-4, 4), "cos": (-4, 4), "tan": (-1.3, 1.3),
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-4, 4),
    "sinh": (-3, 3), "cosh": (-3, 3),
    "asinh": (-4, 4), "acosh": (1.2, 5), "atanh": (-0.9, 0.9),
}
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh"}

TABLE = []
for _name, (_low, _high) in DOMAINS.items():
    TABLE += [
        OpInfo(f"trigonometric.{_name}", getattr(lm, _name), getattr(torch, _name),
               uniform(_low, _high)),
        OpInfo(f"trigonometric.{_name}_method", method(_name), method(_name),
               uniform(_low, _high, SHAPES[1:2])),
    ]
for _alias, _name in ALIASES.items():
    _low, _high = DOMAINS[_name]
    TABLE += [
        OpInfo(f"trigonometric.{_alias}", getattr(lm, _alias), getattr(torch, _alias),
               uniform(_low, _high, SHAPES[1:2])),
        OpInfo(f"trigonometric.{_alias}_method", method(_alias), method(_alias),
               uniform(_low, _high, SHAPES[1:2])),
    ]

TABLE += [
    OpInfo("trigonometric.sin_int", lm.sin, torch.sin, integers, differentiable=False),
    OpInfo("trigonometric.acosh_int", lm.acosh, torch.acosh,
           lambda r: [Sample((r.integers(1, 9, (4,)),), name="int64")], differentiable=False),
    OpInfo("trigonometric.atan2", lm.atan2, torch.atan2, away_from_origin),
    OpInfo("trigonometric.atan2_method", method("atan2"), method("atan2"),
           lambda r: away_from_origin(r)[:2]),
    OpInfo("trigonometric.arctan2", lm.arctan2, torch.arctan2, lambda r: away_from_origin(r)[:1]),
    OpInfo("trigonometric.arctan2_method", method("arctan2"), method("arctan2"),
           lambda r: away_from_origin(r)[:1]),
    OpInfo("trigonometric.atan2_quadrants", lm.atan2, torch.atan2,
           lambda r: [Sample((np.array([1.0, 1.0, -1.0, -1.0, 0.5, -2.0]),
                              np.array([1.0, -1.0, 1.0, -1.0, -3.0, 0.5])), name="quadrants")]),
    OpInfo("trigonometric.atan2_int", lm.atan2, torch.atan2,
           lambda r: [Sample((r.integers(1, 5, (3,)), r.integers(-4, 5, (3,))), name="int64")],
           differentiable=False),
    OpInfo("trigonometric.hypot", lm.hypot, torch.hypot, away_from_origin),
    OpInfo("trigonometric.hypot_method", method("hypot"), method("hypot"),
           lambda r: away_from_origin(r)[:2]),
    OpInfo("trigonometric.hypot_large", lm.hypot, torch.hypot,
           lambda r: [Sample((np.array([3e30, -4e-30, 1e30]), np.array([4e30, 3e-30, -1.0])),
                             name="no_overflow")], gradcheck=False),
]

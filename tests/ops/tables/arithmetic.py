"""Arithmetic and linear-algebra operations (broadcast shapes, scalars, away from kinks)."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

BROADCAST = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((2, 1, 4), (3, 1)), ((), (2, 3))]


def binary(rng, positive_b=False):
    out = []
    for sa, sb in BROADCAST:
        a = rng.standard_normal(sa)
        b = rng.standard_normal(sb)
        if positive_b:
            b = np.abs(b) + 0.5
        out.append(Sample((a, b), name=f"{sa}x{sb}"))
    return out


def separated(rng):
    """Pairs whose elements differ by at least 0.1 (no ties for max/min)."""
    out = []
    for sa, sb in BROADCAST[:4]:
        a = rng.standard_normal(sa)
        b = rng.standard_normal(sb)
        b = np.where(np.abs(np.broadcast_to(a, np.broadcast_shapes(sa, sb)).mean() - b) < 0.1, b + 0.3, b)
        a2 = a + 0.0
        out.append(Sample((a2, b + 0.05 * np.sign(b)), name=f"{sa}x{sb}"))
    return out


def unary(rng, low=None, avoid_zero=False):
    out = []
    for s in [(5,), (3, 4), (2, 3, 4), ()]:
        x = rng.standard_normal(s)
        if low is not None:
            x = np.abs(x) + low
        if avoid_zero:
            x = x + 0.2 * np.sign(x) + (x == 0) * 0.5
        out.append(Sample((x,), name=str(s)))
    return out


def matmul_samples(rng):
    shapes = [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
              ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((5,), (2, 5, 3))]
    return [Sample((rng.standard_normal(a), rng.standard_normal(b)), name=f"{a}@{b}") for a, b in shapes]


def linear_samples(rng):
    return [Sample((rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)), name="2d"),
            Sample((rng.standard_normal((2, 4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)), name="3d"),
            Sample((rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), None), name="nobias")]


def scalar_samples(rng):
    return [Sample((rng.standard_normal((3, 4)),), name="3x4")]


TABLE = [
    OpInfo("add", lambda a, b: a + b, lambda a, b: a + b, binary),
    OpInfo("add_alpha", lambda a, b: lm.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5), binary),
    OpInfo("sub", lambda a, b: a - b, lambda a, b: a - b, binary),
    OpInfo("mul", lambda a, b: a * b, lambda a, b: a * b, binary),
    OpInfo("div", lambda a, b: a / b, lambda a, b: a / b, lambda r: binary(r, positive_b=True)),
    OpInfo("pow", lambda a, b: lm.pow(a, b), lambda a, b: torch.pow(a, b),
           lambda r: [Sample((np.abs(r.standard_normal((3, 4))) + 0.5, r.standard_normal((3, 4))), name="t^t"),
                      Sample((np.abs(r.standard_normal((2, 3))) + 0.5, r.standard_normal((3,))), name="bcast")]),
    OpInfo("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, unary),
    OpInfo("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, lambda r: unary(r, low=0.3)),
    OpInfo("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, unary),
    OpInfo("scalar_ops", lambda a: (3.0 - a) * 2 / 4.0 + 1, lambda a: (3.0 - a) * 2 / 4.0 + 1, scalar_samples),
    OpInfo("rdiv", lambda a: 1.0 / a, lambda a: 1.0 / a, lambda r: unary(r, low=0.5)),
    OpInfo("neg", lambda a: -a, lambda a: -a, unary),
    OpInfo("exp", lm.exp, torch.exp, unary),
    OpInfo("log", lm.log, torch.log, lambda r: unary(r, low=0.2)),
    OpInfo("sqrt", lm.sqrt, torch.sqrt, lambda r: unary(r, low=0.2)),
    OpInfo("square", lm.square, torch.square, unary),
    OpInfo("abs", lm.abs, torch.abs, lambda r: unary(r, avoid_zero=True)),
    OpInfo("sign", lm.sign, torch.sign, lambda r: unary(r, avoid_zero=True)),
    OpInfo("clamp", lambda a: lm.clamp(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7),
           lambda r: [Sample((np.array([-2.0, -0.9, -0.3, 0.1, 0.4, 0.9, 1.5]),))]),
    OpInfo("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1),
           lambda r: [Sample((np.array([[-1.0, 0.3], [0.6, -0.2]]),))]),
    OpInfo("maximum", lm.maximum, torch.maximum, separated),
    OpInfo("minimum", lm.minimum, torch.minimum, separated),
    OpInfo("maximum_ties", lm.maximum, torch.maximum,
           lambda r: [Sample((np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])))], gradcheck=False),
    OpInfo("where", lambda c, a, b: lm.where(c, a, b), lambda c, a, b: torch.where(c, a, b),
           lambda r: [Sample((r.standard_normal((3, 4)) > 0, r.standard_normal((3, 4)), r.standard_normal((4,))))]),
    OpInfo("cast64", lambda a: a.double() * 2, lambda a: a.double() * 2, scalar_samples, gradcheck=False),
    OpInfo("clone", lm.clone, torch.clone, scalar_samples),
    OpInfo("matmul", lambda a, b: a @ b, lambda a, b: a @ b, matmul_samples),
    OpInfo("linear", lambda x, w, b: lm.ops.linear(x, w, b) if b is not None else lm.ops.linear(x, w),
           lambda x, w, b: torch.nn.functional.linear(x, w, b), linear_samples),
]

"""cumsum and cumprod along every kind of dim, with dtype=, on integer tensors, and cumprod
with zeros in its input (one, several, first and last in a line), whose gradient needs no
division. Rows are named ``cumulative.<op>``."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample
from .trigonometric import method

DIMS = [((5,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), -3), ((), 0)]


def samples(rng):
    return [Sample((rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape), dim),
                   name=f"{shape}-dim{dim}") for shape, dim in DIMS]


def with_zeros(rng):
    x = rng.uniform(0.5, 1.5, (5, 6)) * rng.choice([-1.0, 1.0], (5, 6))
    x[0, 2] = 0.0                    # one zero inside a line
    x[1, 0] = 0.0                    # a zero first
    x[2, 5] = 0.0                    # a zero last
    x[3, 1] = x[3, 4] = 0.0          # two zeros
    y = rng.uniform(0.5, 1.5, (3, 4, 2))
    y[1, :, 0] = 0.0                 # a line of zeros
    y[0, 2, 1] = 0.0
    return [Sample((x, 1), name="rows"), Sample((x, 0), name="columns"),
            Sample((y, -2), name="3d")]


def integers(rng):
    return [Sample((rng.integers(-3, 4, (3, 4)), 1), name="int64"),
            Sample((rng.integers(-3, 4, (5,)).astype(np.int32), 0), name="int32"),
            Sample((rng.standard_normal((3, 4)) > 0, 0), name="bool")]


TABLE = [
    OpInfo("cumulative.cumsum", lm.cumsum, torch.cumsum, samples),
    OpInfo("cumulative.cumsum_method", method("cumsum"), method("cumsum"),
           lambda r: samples(r)[1:3]),
    OpInfo("cumulative.cumsum_dtype", lambda x, d: lm.cumsum(x, d, dtype=lm.float64),
           lambda x, d: torch.cumsum(x, d, dtype=torch.float64), lambda r: samples(r)[1:2]),
    OpInfo("cumulative.cumsum_int", lm.cumsum, torch.cumsum, integers, differentiable=False),
    OpInfo("cumulative.cumprod", lm.cumprod, torch.cumprod, samples),
    OpInfo("cumulative.cumprod_method", method("cumprod"), method("cumprod"),
           lambda r: samples(r)[1:3]),
    OpInfo("cumulative.cumprod_zeros", lm.cumprod, torch.cumprod, with_zeros),
    OpInfo("cumulative.cumprod_dtype", lambda x, d: x.cumprod(d, dtype=lm.float64),
           lambda x, d: x.cumprod(d, dtype=torch.float64), lambda r: with_zeros(r)[:1]),
    OpInfo("cumulative.cumprod_int", lm.cumprod, torch.cumprod, integers, differentiable=False),
]

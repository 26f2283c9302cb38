"""lerp with number and tensor weights (on both sides of 1/2, where PyTorch switches formula,
and outside [0, 1]), broadcasting all three operands; and the arithmetic aliases negative and
true_divide. Rows are named ``interpolation.<op>``."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample
from .trigonometric import method


def lerp_samples(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out = [Sample((a, b, w), name=f"w={w}") for w in (0.3, 0.5, 0.8, 1.0, -0.5, 1.5)]
    out += [Sample((a, b, rng.uniform(-0.5, 1.5, (3, 4))), name="tensor_weight"),
            Sample((a, rng.standard_normal((4,)), rng.uniform(0, 1, (3, 1))), name="broadcast"),
            Sample((rng.standard_normal(()), rng.standard_normal((2, 3)), np.array(0.7)),
                   name="0d")]
    return out


def binary(rng):
    return [Sample((rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (4,))), name="bcast"),
            Sample((rng.standard_normal((3, 4)), 2.5), name="number")]


TABLE = [
    OpInfo("interpolation.lerp", lm.lerp, torch.lerp, lerp_samples),
    OpInfo("interpolation.lerp_method", method("lerp"), method("lerp"),
           lambda r: lerp_samples(r)[5:8]),
    OpInfo("interpolation.negative", lm.negative, torch.negative,
           lambda r: [Sample((r.standard_normal((3, 4)),))]),
    OpInfo("interpolation.negative_method", method("negative"), method("negative"),
           lambda r: [Sample((r.standard_normal((3, 4)),))]),
    OpInfo("interpolation.true_divide", lm.true_divide, torch.true_divide, binary),
    OpInfo("interpolation.true_divide_method", method("true_divide"), method("true_divide"),
           binary),
    OpInfo("interpolation.true_divide_int", lm.true_divide, torch.true_divide,
           lambda r: [Sample((r.integers(-5, 6, (4,)), r.integers(1, 4, (4,))))],
           differentiable=False),
]

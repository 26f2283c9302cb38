"""What test_margin_losses.py and test_structured_hinge.py share: the reductions, dtypes and
tolerances they run under, scores drawn away from the kinks of a margin loss, and the
comparison with torch (values and input gradients; the target needs none), on the CPU or on
a device."""
from __future__ import annotations

import numpy as np

import lamina as lm

from tests.reference import check_against_torch
from tests.samples import ramp

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
X3, T3 = lm.randn(2, 3), lm.tensor([0, 2])   # scores and targets for the error cases


def scores_away_from_kinks(rng, shape, kinks, gap=1e-2):
    """Normal scores redrawn until every kink quantity kinks(x) is at least ``gap`` from 0."""
    while True:
        x = rng.standard_normal(shape)
        if np.all(np.abs(kinks(x)) > gap):
            return x


def compare(ours, theirs, inputs, target, dtype, cotangent, **tolerance):
    """check_against_torch on (*inputs, target) in ``dtype``; the inputs require grad, the
    target does not."""
    target = np.asarray(target)
    target = target.astype(dtype) if target.dtype.kind == "f" else target
    return check_against_torch(ours, theirs, *[np.asarray(x, dtype) for x in inputs], target,
                               grad=[True] * len(inputs) + [False], cotangent=cotangent, **tolerance)


def ramp_to_2(shape, dtype):
    return ramp(shape, dtype, 0.5, 2.0)


def compare_on_device(ours, theirs, inputs, target, cuda):
    """``compare`` in float32 with the tensors on the 'cuda' device: values and input gradients
    as torch's, every output and gradient on that device."""
    r = compare(ours, theirs, inputs, target, np.float32, ramp_to_2, rtol=2e-5, atol=2e-6,
                grad_rtol=2e-5, grad_atol=2e-6, device=cuda)
    assert r.lamina.values[0].dtype == np.float32

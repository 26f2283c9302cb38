"""conv2d and the poolings against PyTorch and float64 finite differences.

Sizes are odd and small on purpose (a few hundred elements per input keeps the element-wise
gradcheck fast). Max-pooling inputs are permutations of values 0.05 apart, so no window has
a tie and no finite-difference step moves a maximum; ties are tested in test_conv_pool.py.
"""
import warnings

import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

F = torch.nn.functional

# (input shape, weight shape, bias?, keyword arguments, which arrays require grad)
CONV = [
    ((2, 3, 7, 8), (4, 3, 3, 3), True, {}, None),
    ((2, 2, 9, 9), (3, 2, 3, 3), True, {"stride": 2, "padding": 1}, None),
    ((1, 2, 9, 8), (3, 2, 3, 2), True, {"dilation": 2}, None),
    ((2, 4, 6, 7), (6, 2, 3, 3), True, {"groups": 2, "padding": (1, 0)}, None),
    ((2, 3, 5, 7), (2, 3, 5, 3), False, {}, None),
    ((2, 2, 6, 9), (3, 2, 2, 4), True, {"stride": (2, 1), "padding": (0, 2)}, None),
    ((2, 3, 6, 6), (2, 3, 4, 4), True, {"padding": "same"}, None),
    ((1, 2, 7, 6), (2, 2, 3, 2), True, {"padding": "same", "dilation": (2, 3)}, None),
    ((2, 3, 6, 5), (2, 3, 3, 3), False, {"padding": "valid", "stride": (1, 2)}, None),
    # eight or more channels per group: col2im by per-offset products
    ((2, 9, 5, 5), (4, 9, 3, 3), True, {"padding": 1}, None),
    ((1, 16, 4, 5), (4, 8, 2, 2), True, {"groups": 2, "stride": 2, "padding": 1}, None),
    # sixteen or more output channels: channels-last output
    ((2, 2, 4, 4), (16, 2, 2, 2), True, {"dilation": (1, 2), "padding": (0, 1)}, None),
    ((1, 4, 5, 4), (16, 2, 3, 1), True, {"groups": 2}, None),
    # unbatched (C, H, W)
    ((3, 6, 5), (2, 3, 3, 3), True, {"padding": 1}, None),
    # only some inputs require a gradient
    ((2, 3, 5, 5), (2, 3, 3, 3), True, {}, (False, True, True)),
    ((2, 3, 5, 5), (2, 3, 3, 3), True, {"stride": 2}, (True, False, False)),
]


def conv_samples(rng):
    out = []
    for xs, ws, has_bias, kw, grad in CONV:
        x = rng.standard_normal(xs)
        w = rng.standard_normal(ws) * 0.5
        b = rng.standard_normal(ws[0]) if has_bias else None
        flags = grad if grad is None or has_bias else grad[:2]
        out.append(Sample((x, w, b), kw, grad=flags,
                          name=f"{xs}*{ws}{'' if has_bias else '-nobias'}-{kw}"))
    return out


def distinct(rng, shape):
    """Values 0.05 apart in random order: no ties, and no max changes under a small step."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.05).reshape(shape)


MAX_POOL = [
    ((2, 3, 6, 6), (2,), {}),
    ((2, 2, 7, 7), (3, 2), {}),                                   # overlapping windows
    ((2, 2, 6, 5), (3, 2, 1), {}),                                # -inf padding
    ((1, 2, 8, 9), ((2, 3), (1, 2), 1), {"dilation": 2}),
    ((1, 2, 8, 8), (3, 2), {"ceil_mode": True}),
    ((2, 2, 7, 6), ((3, 2), 2, (1, 1)), {"ceil_mode": True}),
    ((3, 5, 5), (2,), {}),                                        # unbatched
    ((1, 1, 5, 5), (5,), {}),                                     # one window
]


def max_samples(rng):
    return [Sample((distinct(rng, xs), *args), kw, name=f"{xs}-{args}-{kw}")
            for xs, args, kw in MAX_POOL]


AVG_POOL = [
    ((2, 3, 6, 6), (2,), {}),
    ((2, 2, 7, 6), (3, 2, 1), {}),
    ((2, 2, 7, 6), (3, 2, 1), {"count_include_pad": False}),
    ((1, 2, 8, 8), (3, 2, 1), {"ceil_mode": True}),
    ((1, 2, 8, 9), ((3, 2), 2, 1), {"ceil_mode": True, "count_include_pad": False}),
    ((2, 2, 7, 7), (3, 2), {"divisor_override": 3}),
    ((2, 2, 7, 8), ((3, 2), (2, 1)), {}),
    ((3, 5, 6), (2, 1), {}),                                     # unbatched, overlapping
]


def avg_samples(rng):
    return [Sample((rng.standard_normal(xs), *args), kw, name=f"{xs}-{args}-{kw}")
            for xs, args, kw in AVG_POOL]


ADAPTIVE = [((2, 3, 7, 9), (3, 4)), ((2, 2, 8, 8), 4), ((2, 3, 5, 6), 1), ((3, 5, 4), (7, None)),
            ((1, 2, 4, 9), (5, 3))]


def adaptive_samples(rng, make):
    return [Sample((make(rng, xs), size), name=f"{xs}->{size}") for xs, size in ADAPTIVE]


def torch_conv2d(x, w, b, **kw):
    with warnings.catch_warnings():   # PyTorch warns that even 'same' kernels copy the input
        warnings.simplefilter("ignore", UserWarning)
        return F.conv2d(x, w, b, **kw)


TABLE = [
    OpInfo("conv2d", lambda x, w, b, **kw: lm.conv2d(x, w, b, **kw), torch_conv2d, conv_samples),
    OpInfo("max_pool2d", lm.max_pool2d, F.max_pool2d, max_samples),
    OpInfo("max_pool2d_indices", lambda x, *a, **kw: lm.max_pool2d(x, *a, return_indices=True, **kw),
           lambda x, *a, **kw: F.max_pool2d(x, *a, return_indices=True, **kw), max_samples),
    OpInfo("avg_pool2d", lm.ops.avg_pool2d, F.avg_pool2d, avg_samples),
    OpInfo("adaptive_avg_pool2d", lm.ops.adaptive_avg_pool2d, F.adaptive_avg_pool2d,
           lambda r: adaptive_samples(r, lambda rng, s: rng.standard_normal(s))),
    OpInfo("adaptive_max_pool2d", lambda x, s: lm.ops.adaptive_max_pool2d(x, s, return_indices=True),
           lambda x, s: F.adaptive_max_pool2d(x, s, return_indices=True),
           lambda r: adaptive_samples(r, distinct)),
]

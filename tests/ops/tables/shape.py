"""Shape operations: views, permutations, copies, joining, splitting and padding.

Rows are named ``shape.<op>`` so that ``pytest -k shape`` selects them.
"""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

F = torch.nn.functional


def one(shape, *args, **kwargs):
    """Samples of one random input of ``shape`` followed by fixed arguments."""
    def make(rng):
        return [Sample((rng.standard_normal(shape),) + args, dict(kwargs))]
    return make


def each(*cases):
    """Samples from (shape, args, kwargs) triples: one random input each."""
    def make(rng):
        return [Sample((rng.standard_normal(s),) + tuple(a), dict(k), name=f"{s}-{a}-{k}")
                for s, a, k in cases]
    return make


def tensors(*shapes, dim=0):
    def make(rng):
        return [Sample(([rng.standard_normal(s) for s in shapes],), {"dim": dim})]
    return make


def pad_cases(rng):
    x3, x4 = rng.standard_normal((2, 3, 5)), rng.standard_normal((1, 2, 4, 5))
    return [Sample((x3, (1, 2)), {}, name="const1d"),
            Sample((x4, (1, 0, 2, 1)), {"value": 1.5}, name="const2d"),
            Sample((x4, (1, 1, 1, 1, 1, 0)), {}, name="const3d"),
            Sample((x3, (-1, 2)), {}, name="crop"),
            Sample((x4, (2, -1, -1, 1)), {"value": -2.0}, name="crop2d"),
            Sample((x3, (2, 3)), {"mode": "reflect"}, name="reflect1d"),
            Sample((x4, (2, 1, 3, 1)), {"mode": "reflect"}, name="reflect2d"),
            Sample((x3, (3, 4)), {"mode": "replicate"}, name="replicate1d"),
            Sample((x4, (1, 2, 2, 0)), {"mode": "replicate"}, name="replicate2d"),
            Sample((x3, (2, 5)), {"mode": "circular"}, name="circular1d"),
            Sample((x4, (1, 3, 2, 4)), {"mode": "circular"}, name="circular2d")]


def pair_shapes(rng):
    return [Sample((rng.standard_normal((2, 6)), rng.standard_normal((3, 4))), grad=(True, False))]


def split_cases(rng):
    x = rng.standard_normal((7, 3))
    return [Sample((x, 3), {}, name="size3"), Sample((x, [2, 4, 1]), {}, name="sections"),
            Sample((rng.standard_normal((2, 7)), 2), {"dim": -1}, name="last"),
            Sample((x, 7), {}, name="whole")]


TABLE = [
    OpInfo("shape.reshape", lambda x: lm.reshape(x, 4, 6), lambda x: torch.reshape(x, (4, 6)),
           one((2, 3, 4))),
    OpInfo("shape.reshape_infer", lambda x: x.reshape((2, -1)), lambda x: x.reshape((2, -1)),
           one((2, 3, 4))),
    OpInfo("shape.reshape_scalar", lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), one(())),
    OpInfo("shape.view", lambda x: x.view(-1), lambda x: x.view(-1), one((3, 4))),
    OpInfo("shape.view_as", lambda x, y: x.view_as(y), lambda x, y: x.view_as(y), pair_shapes),
    OpInfo("shape.reshape_as", lambda x, y: x.reshape_as(y), lambda x, y: x.reshape_as(y),
           pair_shapes),
    OpInfo("shape.flatten", lm.flatten, torch.flatten,
           each(((2, 3, 4), (), {}), ((2, 3, 4, 5), (1,), {}), ((2, 3, 4, 5), (1, -2), {}),
                ((), (), {}))),
    OpInfo("shape.flatten_method", lambda x: x.flatten(1), lambda x: x.flatten(1), one((2, 3, 4))),
    OpInfo("shape.transpose", lm.transpose, torch.transpose,
           each(((3, 4), (0, 1), {}), ((2, 3, 4), (-1, 0), {}), ((2, 3, 4), (1, 1), {}))),
    OpInfo("shape.T", lambda x: x.T * 1.0, lambda x: x.T * 1.0, one((3, 4))),
    OpInfo("shape.mT", lambda x: x.mT, lambda x: x.mT, one((2, 3, 4))),
    OpInfo("shape.permute", lambda x: lm.permute(x, 2, 0, 1), lambda x: torch.permute(x, (2, 0, 1)),
           one((2, 3, 4))),
    OpInfo("shape.permute_tuple", lambda x: x.permute((1, -1, 0)), lambda x: x.permute((1, -1, 0)),
           one((2, 3, 4))),
    OpInfo("shape.squeeze", lm.squeeze, torch.squeeze,
           each(((1, 3, 1, 4), (), {}), ((1, 3, 1, 4), (2,), {}), ((1, 3, 1, 4), (-4,), {}),
                ((1, 3, 1, 4), ((0, 2),), {}), ((1, 3, 1, 4), (1,), {}))),
    OpInfo("shape.unsqueeze", lm.unsqueeze, torch.unsqueeze,
           each(((3, 4), (0,), {}), ((3, 4), (2,), {}), ((3, 4), (-1,), {}), ((3, 4), (-3,), {}),
                ((), (0,), {}))),
    OpInfo("shape.expand", lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4), one((3, 1))),
    OpInfo("shape.expand_keep", lambda x: x.expand(-1, 5), lambda x: x.expand(-1, 5), one((3, 1))),
    OpInfo("shape.expand_as", lambda x, y: x.expand_as(y), lambda x, y: x.expand_as(y),
           lambda r: [Sample((r.standard_normal((1, 4)), r.standard_normal((2, 3, 4))),
                             grad=(True, False))]),
    OpInfo("shape.repeat", lambda x, *r: x.repeat(*r), lambda x, *r: x.repeat(*r),
           each(((2, 3), (2, 1), {}), ((2, 3), (1, 3), {}), ((2, 3), (2, 2, 3), {}),
                ((3,), (4,), {}))),
    OpInfo("shape.cat", lm.cat, torch.cat, tensors((2, 3), (4, 3), (1, 3))),
    OpInfo("shape.cat_last", lm.cat, torch.cat, tensors((2, 3, 1), (2, 3, 4), dim=-1)),
    OpInfo("shape.stack", lm.stack, torch.stack, tensors((2, 3), (2, 3), (2, 3))),
    OpInfo("shape.stack_last", lm.stack, torch.stack, tensors((2, 3), (2, 3), dim=-1)),
    OpInfo("shape.split", lm.split, torch.split, split_cases),
    OpInfo("shape.split_method", lambda x: x.split(2, 1), lambda x: x.split(2, 1), one((3, 5))),
    OpInfo("shape.chunk", lm.chunk, torch.chunk,
           each(((6, 2), (3,), {}), ((5, 2), (4,), {}), ((2, 7), (3,), {"dim": 1}))),
    OpInfo("shape.unbind", lm.unbind, torch.unbind,
           each(((3, 4), (), {}), ((2, 3, 4), (), {"dim": -1}))),
    OpInfo("shape.flip", lm.flip, torch.flip,
           each(((3, 4), ((0,),), {}), ((2, 3, 4), ((0, 2),), {}), ((2, 3, 4), ([-1],), {}))),
    OpInfo("shape.pad", lm.ops.pad, F.pad, pad_cases),
]

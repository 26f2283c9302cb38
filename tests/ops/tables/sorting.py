"""sort, argsort and topk along every kind of dim (negative ones, 0-d inputs), ascending and
descending, and integer tensors. Inputs are tie-free (entries at least 0.1 apart), so the
order is unique and finite differences never swap two entries; ties are tested in
tests/ops/test_elementwise_dtypes.py. Rows are named ``sorting.<op>``."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample
from .trigonometric import method


def distinct(rng, shape):
    """Values with no two closer than 0.1."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.02, n)).reshape(shape)


SORTS = [((5,), {}), ((3, 4), {"dim": 0}), ((3, 4), {"dim": -1, "descending": True}),
         ((2, 3, 4), {"dim": 1}), ((2, 3, 4), {"dim": -3, "descending": True}),
         ((3, 4), {"descending": True, "stable": True}), ((), {})]
TOPKS = [((6,), {"k": 3}), ((3, 5), {"k": 2, "dim": 0}), ((3, 5), {"k": 5}),
         ((3, 5), {"k": 2, "largest": False}), ((2, 3, 4), {"k": 1, "dim": 1, "largest": False}),
         ((2, 3, 4), {"k": 3, "dim": -1, "sorted": True}), ((4,), {"k": 0}), ((), {"k": 1})]


def samples(cases):
    def make(rng):
        return [Sample((distinct(rng, shape),), dict(kw), name=f"{shape}-{kw}")
                for shape, kw in cases]
    return make


def integer_samples(cases):
    def make(rng):
        return [Sample((rng.permutation(int(np.prod(shape))).reshape(shape) - 3,), dict(kw),
                       name=f"int-{shape}-{kw}") for shape, kw in cases if shape]
    return make


TABLE = [
    OpInfo("sorting.sort", lm.sort, torch.sort, samples(SORTS)),
    OpInfo("sorting.sort_method", method("sort"), method("sort"), samples(SORTS[1:3])),
    OpInfo("sorting.sort_int", lm.sort, torch.sort, integer_samples(SORTS[:3]),
           differentiable=False),
    OpInfo("sorting.argsort", lm.argsort, torch.argsort, samples(SORTS), differentiable=False),
    OpInfo("sorting.argsort_method", method("argsort"), method("argsort"), samples(SORTS[2:3]),
           differentiable=False),
    OpInfo("sorting.topk", lm.topk, torch.topk, samples(TOPKS)),
    OpInfo("sorting.topk_method", method("topk"), method("topk"), samples(TOPKS[1:4])),
    OpInfo("sorting.topk_int", lm.topk, torch.topk, integer_samples(TOPKS[:4]),
           differentiable=False),
    OpInfo("sorting.topk_positional", lambda x: lm.topk(x, 2, 0, False, True),
           lambda x: torch.topk(x, 2, 0, False, True),
           lambda r: [Sample((distinct(r, (3, 5)),), name="(3, 5)")]),
]

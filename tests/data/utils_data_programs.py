"""Small programs under torch.utils.data and lamina.utils.data, and their comparison.

A program takes ``(T, U)``, the framework and its ``utils.data`` module (``torch, tud`` or
``lm, lud``), and returns plain Python values; ``same(program)`` runs it under both and asserts
that ``plain`` of the results agree (tensors as (dtype name, shape, values), containers keeping
their kind). ``pairs`` and ``records`` are a user's map-style data sets of (tensor, int) and
dict samples in either framework; ``generator_of`` and ``seeded`` make random generators.
"""
import numpy as np

import lamina as lm
import lamina.utils.data as lud

from tests.reference import torch

tud = torch.utils.data


def generator_of(T):
    """A fresh Generator of framework ``T`` (lamina's lives in lamina.random)."""
    return torch.Generator() if T is torch else lm.random.Generator()


def seeded(seed):
    return lm.random.Generator().manual_seed(seed)


def plain(value):
    """Tensors as (dtype name, shape, values); containers keep their kind, recursively."""
    if isinstance(value, (torch.Tensor, lm.Tensor)):
        array = np.asarray(value.detach().numpy())
        return ("tensor", str(value.dtype).replace("torch.", ""), tuple(array.shape), array.tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return (type(value).__name__,) + tuple(plain(v) for v in value)
    if isinstance(value, list):
        return ["list"] + [plain(v) for v in value]
    return value


def same(program):
    expected, actual = program(torch, tud), program(lm, lud)
    assert plain(actual) == plain(expected)
    return actual


def pairs(T, U, n=7):
    class Pairs(U.Dataset):  # a user's data set: (tensor, int) samples
        def __len__(self):
            return n

        def __getitem__(self, i):
            return T.full((2,), float(i)), i
    return Pairs()


def records(U, n=5):
    class Records(U.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"id": i, "score": i / 2, "name": f"s{i}", "pair": (i, np.float32(i))}
    return Records()

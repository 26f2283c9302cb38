"""Indexing: basic, advanced (integer and boolean, as lists, arrays and tensors), mixed,
gather, index_select, take_along_dim and masked_fill.

Rows are named ``indexing.<op>`` so that ``pytest -k indexing`` selects them. Integer index
tensors come in as sample arrays (the harness makes int64 tensors of them).
"""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

# name -> index built from Python values (the same object works for lamina and torch).
BASIC = {
    "int": 1, "neg_int": -1, "slice": slice(1, 3), "step": slice(None, None, 2),
    "tuple": (1, slice(0, 3)), "none": (None, slice(None), 2), "ellipsis": (Ellipsis, 1),
    "mixed_basic": (slice(None), None, -2, slice(1, None)), "all_ints": (1, 2, 3),
}
ADVANCED = {
    "list": [0, 2], "repeat_list": [1, 1, 0, 1], "list_2d": ([0, 2, 2], [1, 0, 1]),
    "list_slice": (slice(None), [3, 0, 3]), "list_after_int": (0, slice(1, 3), [1, 1, 2]),
    "split_advanced": ([0, 1], slice(None), [2, 0]), "none_list": (None, [1, 0]),
    "ellipsis_list": (Ellipsis, [0, 0, 2]), "int_then_list": (1, [2, 0]),
    "list_int_list": ([2, 0], 1, [4, 4]),
}


def indexed(rng):
    return [Sample((rng.standard_normal((3, 4, 5)),), {"index": index}, name=name)
            for name, index in {**BASIC, **ADVANCED}.items()]


def tensor_index(rng):
    """An integer index tensor (with repeats) in several positions."""
    x = rng.standard_normal((4, 5))
    return [Sample((x, np.array([3, 0, 3, 1])), {"where": "first"}, name="first"),
            Sample((x, np.array([[4, 4], [0, 2]])), {"where": "second"}, name="second_2d"),
            Sample((x, np.array(2)), {"where": "first"}, name="zero_dim")]


def _place(index, where):
    return index if where == "first" else (slice(None), index)


def mask_index(rng):
    x = rng.standard_normal((3, 4))
    return [Sample((x, rng.standard_normal((3, 4)) > 0), {"where": "first"}, name="full"),
            Sample((x, np.array([True, False, True])), {"where": "first"}, name="rows"),
            Sample((x, np.array([False, True, True, False])), {"where": "second"}, name="cols")]


def gather_cases(rng):
    x = rng.standard_normal((3, 4))
    return [Sample((x, 1, rng.integers(0, 4, (3, 1))), name="pick"),
            Sample((x, 1, rng.integers(0, 4, (3, 6))), name="repeats"),
            Sample((x, 0, rng.integers(0, 3, (2, 4))), name="dim0"),
            Sample((x, -1, rng.integers(0, 4, (2, 3))), name="smaller"),
            Sample((rng.standard_normal((2, 3, 4)), 1, rng.integers(0, 3, (2, 5, 4))), name="3d")]


def index_select_cases(rng):
    x = rng.standard_normal((4, 5))
    return [Sample((x, 0, np.array([3, 0, 3])), name="rows_repeat"),
            Sample((x, -1, np.array([4, 1])), name="cols"),
            Sample((rng.standard_normal((2, 3, 4)), 1, np.array([2, 2, 2, 0])), name="3d")]


def take_along_cases(rng):
    x = rng.standard_normal((3, 4))
    return [Sample((x, rng.integers(0, 4, (3, 2))), {"dim": 1}, name="dim1"),
            Sample((x, rng.integers(0, 3, (1, 4))), {"dim": 0}, name="dim0"),
            Sample((x, rng.integers(0, 4, (1, 5))), {"dim": -1}, name="broadcast"),
            Sample((x, rng.integers(0, 12, (7,))), {}, name="flat")]


def masked_fill_cases(rng):
    x = rng.standard_normal((3, 4))
    return [Sample((x, rng.standard_normal((3, 4)) > 0), {"value": -1.5}, name="full"),
            Sample((x, rng.standard_normal((4,)) > 0), {"value": 0.0}, name="broadcast_mask"),
            Sample((x, rng.standard_normal((2, 3, 4)) > 0), {"value": 2.0}, name="broadcast_out"),
            Sample((x, np.array([[True], [False], [True]])), {"value": -1e4}, name="large")]


def masked_fill_tensor_value(rng):
    x = rng.standard_normal((3, 4))
    return [Sample((x, rng.standard_normal((3, 4)) > 0, np.array(0.7)), name="grad_value")]


TABLE = [
    OpInfo("indexing.getitem", lambda x, index: x[index], lambda x, index: x[index], indexed),
    OpInfo("indexing.getitem_fn", lambda x, index: lm.ops.getitem(x, index),
           lambda x, index: x[index], lambda r: indexed(r)[:3]),
    OpInfo("indexing.tensor_index", lambda x, i, where: x[_place(i, where)],
           lambda x, i, where: x[_place(i, where)], tensor_index),
    OpInfo("indexing.mask", lambda x, m, where: x[_place(m, where)],
           lambda x, m, where: x[_place(m, where)], mask_index),
    OpInfo("indexing.mask_and_list", lambda x, m: x[m, [0, 2]], lambda x, m: x[m, [0, 2]],
           lambda r: [Sample((r.standard_normal((3, 4)), np.array([True, False, True])))]),
    OpInfo("indexing.gather", lm.gather, torch.gather, gather_cases),
    OpInfo("indexing.index_select", lm.index_select, torch.index_select, index_select_cases),
    OpInfo("indexing.take_along_dim", lm.take_along_dim, torch.take_along_dim, take_along_cases),
    OpInfo("indexing.masked_fill", lm.masked_fill, torch.masked_fill, masked_fill_cases),
    OpInfo("indexing.masked_fill_tensor", lm.masked_fill, torch.masked_fill,
           masked_fill_tensor_value),
]

"""lamina.utils.data against torch.utils.data: the same small programs run under both.

Each program takes ``(T, U)``, the framework and its ``utils.data`` module, and returns plain
Python values (``plain`` turns tensors into (dtype, shape, values)), which must agree
(``tests/data/utils_data_programs.py``). Random orders are compared as sets (and for
reproducibility within lamina), not to torch's. Here: the data sets and collation;
test_utils_data_loader.py has the DataLoader and the samplers.
"""
import collections
import warnings

import numpy as np
import pytest

import lamina as lm
import lamina.utils.data as lud
from lamina.errors import LaminaError

from tests.data.utils_data_programs import generator_of, same, seeded, tud
from tests.reference import requires_torch, torch

Point = collections.namedtuple("Point", "x y")


# --------------------------------------------------------------------------- data sets
@requires_torch
def test_tensor_dataset_indexing():
    def program(T, U):
        ds = U.TensorDataset(T.arange(6), T.arange(12).reshape(6, 2) * 0.5)
        return [len(ds), ds[0], ds[-1], ds[2:4], list(ds.tensors)]
    same(program)


@requires_torch
def test_subset_and_concat_lengths_and_items():
    def program(T, U):
        a, b = U.TensorDataset(T.arange(4)), U.TensorDataset(T.arange(10, 13))
        sub = U.Subset(a, [3, 1])
        cat = U.ConcatDataset([a, b])
        added = a + b
        return [len(sub), sub[0], sub[1], len(cat), cat.cumulative_sizes, cat[3], cat[4], cat[-1],
                cat[-7], len(added), added[5], type(added).__name__]
    same(program)


@requires_torch
def test_concat_index_errors_match():
    for T, U in ((torch, tud), (lm, lud)):
        cat = U.ConcatDataset([U.TensorDataset(T.arange(2)), U.TensorDataset(T.arange(3))])
        with pytest.raises(ValueError):
            cat[-6]
    with pytest.raises(AssertionError):
        tud.ConcatDataset([])
    with pytest.raises(LaminaError, match="empty"):
        lud.ConcatDataset([])


@requires_torch
@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (11, [0.5, 0.3, 0.2]), (10, [0.34, 0.33, 0.33]),
                                       (7, [0.1, 0.9]), (5, [5, 0])])
def test_random_split_sizes_and_disjointness(n, lengths):
    def program(T, U):
        parts = U.random_split(U.TensorDataset(T.arange(n)), lengths,
                               generator=generator_of(T).manual_seed(1))
        return [len(p) for p in parts], sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a zero-length split warns in both
        sizes, members = same(program)
    assert sum(sizes) == n and members == list(range(n))  # disjoint and complete


@requires_torch
def test_random_split_is_reproducible_and_checks_lengths():
    ds = lud.TensorDataset(lm.arange(20))
    first = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=seeded(3))]
    again = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=seeded(3))]
    other = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=seeded(4))]
    assert first == again and first != other
    lm.manual_seed(8)
    by_global = [p.indices for p in lud.random_split(ds, [10, 10])]
    lm.manual_seed(8)
    assert [p.indices for p in lud.random_split(ds, [10, 10])] == by_global
    for U, T in ((tud, torch), (lud, lm)):
        with pytest.raises(ValueError):
            U.random_split(U.TensorDataset(T.arange(5)), [2, 2])
        with pytest.raises(ValueError):
            U.random_split(U.TensorDataset(T.arange(5)), [1.5, -0.5])


@requires_torch
def test_stack_and_chain_datasets():
    def program(T, U):
        a, b = U.TensorDataset(T.arange(3)), U.TensorDataset(T.arange(3) * 2)

        class Stream(U.IterableDataset):
            def __init__(self, lo, hi):
                self.lo, self.hi = lo, hi

            def __iter__(self):
                return iter(range(self.lo, self.hi))

            def __len__(self):
                return self.hi - self.lo
        chain = Stream(0, 2) + Stream(5, 7)
        return [U.StackDataset(a, b)[1], U.StackDataset(p=a, q=b)[2], list(chain), len(chain),
                type(chain).__name__]
    same(program)


# --------------------------------------------------------------------------- collation
COLLATE_CASES = {
    "ints": lambda T: [1, 2, 3],
    "floats": lambda T: [1.0, 2.5],
    "bools": lambda T: [True, False],
    "numpy scalars": lambda T: [np.float32(1), np.float32(2)],
    "numpy int32 arrays": lambda T: [np.arange(3, dtype=np.int32), np.ones(3, np.int32)],
    "numpy float16 arrays": lambda T: [np.zeros((2, 2), np.float16)] * 3,
    "tensors": lambda T: [T.full((2, 3), 1.0), T.zeros(2, 3)],
    "int tensors": lambda T: [T.arange(2), T.arange(2)],
    "tuples": lambda T: [(T.zeros(2), 0, 0.5), (T.ones(2), 1, 1.5)],
    "lists": lambda T: [[1, 2], [3, 4]],
    "dicts": lambda T: [{"a": 1, "b": "x", "c": [1.0]}, {"a": 2, "b": "y", "c": [2.0]}],
    "namedtuples": lambda T: [Point(1, 2.0), Point(3, 4.0)],
    "strings": lambda T: ["a", "b"],
    "nested": lambda T: [{"x": (T.zeros(1), {"k": np.int64(3)})}] * 2,
}


@requires_torch
@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_types_and_dtypes(case):
    same(lambda T, U: U.default_collate(COLLATE_CASES[case](T)))


@requires_torch
@pytest.mark.parametrize("sample", [(1, np.zeros(2)), [1, 2], np.float64(3), {"a": np.ones(2, np.int8)},
                                    Point(np.zeros(1), "s"), "text"])
def test_default_convert(sample):
    same(lambda T, U: U.default_convert(sample))


@requires_torch
@pytest.mark.parametrize("bad", [[object()], [np.array(["a"])], [None]])
def test_default_collate_rejects_what_torch_rejects(bad):
    with pytest.raises(TypeError):
        tud.default_collate(bad)
    with pytest.raises(TypeError, match="default_collate"):
        lud.default_collate(bad)


def test_default_collate_unequal_shapes_raise():
    for bad in ([[1, 2], [3]], [lm.zeros(2), lm.zeros(3)]):
        with pytest.raises(LaminaError):
            lud.default_collate(bad)

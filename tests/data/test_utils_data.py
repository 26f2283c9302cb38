"""lamina.utils.data against torch.utils.data: the same small programs run under both.

Each program takes ``(T, U)``, the framework and its ``utils.data`` module, and returns plain
Python values (``_plain`` turns tensors into (dtype, shape, values)), which must agree.
Random orders are compared as sets (and for reproducibility within lamina), not to torch's.
"""
import collections
import warnings

import numpy as np
import pytest

from tests.reference import requires_torch, torch
tud = torch.utils.data

import lamina as lm  # noqa: E402
import lamina.utils.data as lud  # noqa: E402
from lamina.errors import LaminaError  # noqa: E402

Point = collections.namedtuple("Point", "x y")


def _generator(T):
    """A fresh Generator of framework ``T`` (lamina's lives in lamina.random)."""
    return torch.Generator() if T is torch else lm.random.Generator()


def _seeded(seed):
    return lm.random.Generator().manual_seed(seed)


def _plain(value):
    """Tensors as (dtype name, shape, values); containers keep their kind, recursively."""
    if isinstance(value, (torch.Tensor, lm.Tensor)):
        array = np.asarray(value.detach().numpy())
        return ("tensor", str(value.dtype).replace("torch.", ""), tuple(array.shape), array.tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return (type(value).__name__,) + tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return ["list"] + [_plain(v) for v in value]
    return value


def _same(program):
    expected, actual = program(torch, tud), program(lm, lud)
    assert _plain(actual) == _plain(expected)
    return actual


def _pairs(T, U, n=7):
    class Pairs(U.Dataset):  # a user's data set: (tensor, int) samples
        def __len__(self):
            return n

        def __getitem__(self, i):
            return T.full((2,), float(i)), i
    return Pairs()


def _records(U, n=5):
    class Records(U.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"id": i, "score": i / 2, "name": f"s{i}", "pair": (i, np.float32(i))}
    return Records()


# --------------------------------------------------------------------------- data sets
@requires_torch
def test_tensor_dataset_indexing():
    def program(T, U):
        ds = U.TensorDataset(T.arange(6), T.arange(12).reshape(6, 2) * 0.5)
        return [len(ds), ds[0], ds[-1], ds[2:4], list(ds.tensors)]
    _same(program)


@requires_torch
def test_subset_and_concat_lengths_and_items():
    def program(T, U):
        a, b = U.TensorDataset(T.arange(4)), U.TensorDataset(T.arange(10, 13))
        sub = U.Subset(a, [3, 1])
        cat = U.ConcatDataset([a, b])
        added = a + b
        return [len(sub), sub[0], sub[1], len(cat), cat.cumulative_sizes, cat[3], cat[4], cat[-1],
                cat[-7], len(added), added[5], type(added).__name__]
    _same(program)


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
                               generator=_generator(T).manual_seed(1))
        return [len(p) for p in parts], sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a zero-length split warns in both
        sizes, members = _same(program)
    assert sum(sizes) == n and members == list(range(n))  # disjoint and complete


@requires_torch
def test_random_split_is_reproducible_and_checks_lengths():
    ds = lud.TensorDataset(lm.arange(20))
    first = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=_seeded(3))]
    again = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=_seeded(3))]
    other = [p.indices for p in lud.random_split(ds, [0.5, 0.5], generator=_seeded(4))]
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
    _same(program)


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
    _same(lambda T, U: U.default_collate(COLLATE_CASES[case](T)))


@requires_torch
@pytest.mark.parametrize("sample", [(1, np.zeros(2)), [1, 2], np.float64(3), {"a": np.ones(2, np.int8)},
                                    Point(np.zeros(1), "s"), "text"])
def test_default_convert(sample):
    _same(lambda T, U: U.default_convert(sample))


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


# --------------------------------------------------------------------------- DataLoader
@requires_torch
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (7, True), (1, False), (10, False)])
def test_loader_batches_of_a_user_dataset(batch_size, drop_last):
    def program(T, U):
        loader = U.DataLoader(_pairs(T, U), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), loader.batch_size, list(loader)]
    _same(program)


@requires_torch
def test_loader_with_dict_samples_and_batch_size_none():
    _same(lambda T, U: list(U.DataLoader(_records(U), batch_size=2)))
    _same(lambda T, U: list(U.DataLoader(_records(U), batch_size=None)))


@requires_torch
def test_loader_on_tensor_dataset_and_its_attributes():
    def program(T, U):
        ds = U.TensorDataset(T.arange(10) * 1.5, T.arange(10))
        loader = U.DataLoader(ds, batch_size=4)
        return [loader.dataset is ds, loader.batch_size, loader.drop_last, len(loader),
                type(loader.sampler).__name__, type(loader.batch_sampler).__name__, list(loader)]
    _same(program)


@requires_torch
def test_samplers_and_batch_samplers():
    def program(T, U):
        data = range(10)
        return [list(U.SequentialSampler(data)), len(U.SequentialSampler(data)),
                list(U.BatchSampler(U.SequentialSampler(data), 4, drop_last=False)),
                list(U.BatchSampler(U.SequentialSampler(data), 4, drop_last=True)),
                len(U.BatchSampler(range(10), 3, False)), len(U.BatchSampler(range(10), 3, True)),
                len(U.RandomSampler(data)), len(U.RandomSampler(data, replacement=True, num_samples=25)),
                sorted(U.RandomSampler(data)), sorted(U.SubsetRandomSampler([7, 3, 5])),
                len(list(U.RandomSampler(range(4), num_samples=10))),
                len(U.WeightedRandomSampler([1.0, 0.0, 2.0], 6))]
    _same(program)


@requires_torch
def test_loader_sampler_and_batch_sampler():
    def program(T, U):
        ds = _pairs(T, U, 10)
        by_sampler = list(U.DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 2]))
        by_batches = list(U.DataLoader(ds, batch_sampler=[[1, 2], [8], [0, 5, 6]]))
        batch_sampler = U.BatchSampler(U.SequentialSampler(ds), 4, drop_last=True)
        loader = U.DataLoader(ds, batch_sampler=batch_sampler)
        return [by_sampler, by_batches, len(loader), loader.batch_size, list(loader)]
    _same(program)


def test_random_samplers_draw_valid_indices_reproducibly():
    g = _seeded
    weighted = list(lud.WeightedRandomSampler([1.0, 0.0, 3.0, 0.0], 200, generator=g(0)))
    assert set(weighted) == {0, 2} and weighted.count(2) > weighted.count(0)
    assert sorted(lud.WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False, generator=g(1))) == [0, 1, 2]
    assert list(lud.RandomSampler(range(9), generator=g(5))) == list(lud.RandomSampler(range(9), generator=g(5)))
    cycled = list(lud.RandomSampler(range(4), num_samples=10, generator=g(4)))
    assert sorted(cycled[:8]) == [0, 0, 1, 1, 2, 2, 3, 3] and len(set(cycled[8:])) == 2
    drawn = list(lud.RandomSampler(range(4), replacement=True, num_samples=50, generator=g(2)))
    assert len(drawn) == 50 and set(drawn) <= set(range(4))
    assert list(lud.SubsetRandomSampler([4, 8, 9], generator=g(3))) == \
        list(lud.SubsetRandomSampler([4, 8, 9], generator=g(3)))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda U: U.BatchSampler(range(3), 0, False), lambda U: U.BatchSampler(range(3), 2, 1),
    lambda U: U.RandomSampler(range(3), num_samples=0), lambda U: U.WeightedRandomSampler([1.0], 0),
    lambda U: U.WeightedRandomSampler([[1.0, 2.0]], 1)])
def test_sampler_argument_errors_match(make):
    with pytest.raises(ValueError):
        make(tud)
    with pytest.raises(ValueError):
        make(lud)


@requires_torch
def test_shuffle_is_reproducible_under_a_seeded_generator():
    def orders(seed):
        ds = _pairs(lm, lud, 11)
        loader = lud.DataLoader(ds, batch_size=4, shuffle=True, generator=_seeded(seed))
        return [[int(i) for b in epoch for i in b[1].tolist()] for epoch in (list(loader), list(loader))]
    first, again, other = orders(7), orders(7), orders(8)
    assert first == again and first != other
    assert all(sorted(epoch) == list(range(11)) for epoch in first)
    assert first[0] != first[1]  # epochs differ
    # torch's order differs, but it too visits every sample once per epoch
    ds = _pairs(torch, tud, 11)
    torch_order = [i for b in tud.DataLoader(ds, batch_size=4, shuffle=True,
                                             generator=torch.Generator().manual_seed(7)) for i in b[1].tolist()]
    assert sorted(torch_order) == list(range(11))


@requires_torch
def test_fast_and_per_sample_paths_agree():
    x, y = lm.randn(23, 3), lm.arange(23)

    class Rows(lud.Dataset):  # the same data, read one sample at a time
        def __len__(self):
            return 23

        def __getitem__(self, i):
            return x[i], y[i]

    class Doubled(lud.TensorDataset):  # overrides __getitem__: must not take the fast path
        def __getitem__(self, i):
            a, b = super().__getitem__(i)
            return a * 2, b

    def epochs(ds):
        loader = lud.DataLoader(ds, batch_size=5, shuffle=True, seed=4)
        return [_plain(b) for _ in range(2) for b in loader]
    assert epochs(lud.TensorDataset(x, y)) == epochs(Rows())
    doubled = lud.TensorDataset(x * 2, y)
    assert epochs(Doubled(x, y)) == epochs(doubled)
    train, _ = lud.random_split(lud.TensorDataset(x, y), [0.6, 0.4], generator=_seeded(0))
    assert epochs(train) == epochs(lud.Subset(Rows(), train.indices))


@requires_torch
def test_iterable_dataset_batches():
    def program(T, U):
        class Stream(U.IterableDataset):
            def __iter__(self):
                return iter([(T.full((2,), float(i)), i) for i in range(7)])

            def __len__(self):
                return 7
        loaders = [U.DataLoader(Stream(), batch_size=3), U.DataLoader(Stream(), batch_size=3, drop_last=True)]
        return ([list(loader) for loader in loaders], [len(loader) for loader in loaders],
                list(U.DataLoader(Stream(), batch_size=None))[:2])
    _same(program)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(shuffle=True, sampler=[0, 1]),
                                    dict(batch_sampler=[[0]], batch_size=2),
                                    dict(batch_sampler=[[0]], drop_last=True),
                                    dict(batch_size=None, drop_last=True),
                                    dict(num_workers=-1), dict(persistent_workers=True),
                                    dict(prefetch_factor=2)])
def test_loader_argument_errors_match(kwargs):
    with pytest.raises(ValueError):
        tud.DataLoader(_pairs(torch, tud), **kwargs)
    with pytest.raises(ValueError):
        lud.DataLoader(_pairs(lm, lud), **kwargs)


@requires_torch
def test_iterable_dataset_refuses_shuffle_and_samplers():
    for U in (tud, lud):
        class Stream(U.IterableDataset):
            def __iter__(self):
                return iter(range(3))
        for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
            with pytest.raises(ValueError):
                U.DataLoader(Stream(), **kwargs)


@requires_torch
def test_every_torch_keyword_is_accepted():
    def program(T, U):
        loader = U.DataLoader(_pairs(T, U), batch_size=2, shuffle=False, sampler=None, batch_sampler=None,
                              num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                              worker_init_fn=None, multiprocessing_context=None, generator=_generator(T),
                              prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                              in_order=True)
        return list(loader)
    _same(program)
    with pytest.warns(UserWarning):
        loader = lud.DataLoader(_pairs(lm, lud), 2, False, None, None, 2, lud.default_collate, True, True, 5.0,
                                lambda wid: None, "fork", lm.random.Generator(), prefetch_factor=4,
                                persistent_workers=True, pin_memory_device="cpu", in_order=False)
    assert len(list(loader)) == 3 and loader.num_workers == 2


@requires_torch
def test_num_workers_warns_once_and_calls_worker_init_fn_per_worker():
    calls = []

    def init(worker_id):
        info = lud.get_worker_info()
        calls.append((worker_id, info.id, info.num_workers))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = lud.DataLoader(_pairs(lm, lud), batch_size=3, num_workers=3, worker_init_fn=init)
        epochs = [_plain(list(loader)) for _ in range(2)]
    assert [w.category for w in caught] == [UserWarning] and "main process" in str(caught[0].message)
    assert calls == [(i, i, 3) for i in range(3)] * 2 and lud.get_worker_info() is None
    assert epochs[0] == _plain(list(lud.DataLoader(_pairs(lm, lud), batch_size=3)))
    calls.clear()
    with pytest.warns(UserWarning):
        persistent = lud.DataLoader(_pairs(lm, lud), num_workers=2, worker_init_fn=init, persistent_workers=True)
    list(persistent), list(persistent)
    assert calls == [(0, 0, 2), (1, 1, 2)]


@requires_torch
def test_custom_collate_fn_gets_the_list_of_samples():
    def program(T, U):
        return list(U.DataLoader(_pairs(T, U, 5), batch_size=2, collate_fn=lambda s: [i for _, i in s]))
    _same(program)
    # on an array-backed data set too (no vectorised shortcut around collate_fn)
    assert list(lud.DataLoader(lud.TensorDataset(lm.arange(3)), batch_size=2, collate_fn=len)) == [2, 1]

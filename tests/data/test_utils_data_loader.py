"""lamina.utils.data's DataLoader and samplers against torch.utils.data's: the same small
programs run under both, and their plain results must agree
(``tests/data/utils_data_programs.py``). Random orders are compared as sets (and for
reproducibility within lamina), not to torch's.
"""
import warnings

import pytest

import lamina as lm
import lamina.utils.data as lud

from tests.data.utils_data_programs import generator_of, pairs, plain, records, same, seeded, tud
from tests.reference import requires_torch, torch


# --------------------------------------------------------------------------- DataLoader
@requires_torch
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (7, True), (1, False), (10, False)])
def test_loader_batches_of_a_user_dataset(batch_size, drop_last):
    def program(T, U):
        loader = U.DataLoader(pairs(T, U), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), loader.batch_size, list(loader)]
    same(program)


@requires_torch
def test_loader_with_dict_samples_and_batch_size_none():
    same(lambda T, U: list(U.DataLoader(records(U), batch_size=2)))
    same(lambda T, U: list(U.DataLoader(records(U), batch_size=None)))


@requires_torch
def test_loader_on_tensor_dataset_and_its_attributes():
    def program(T, U):
        ds = U.TensorDataset(T.arange(10) * 1.5, T.arange(10))
        loader = U.DataLoader(ds, batch_size=4)
        return [loader.dataset is ds, loader.batch_size, loader.drop_last, len(loader),
                type(loader.sampler).__name__, type(loader.batch_sampler).__name__, list(loader)]
    same(program)


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
    same(program)


@requires_torch
def test_loader_sampler_and_batch_sampler():
    def program(T, U):
        ds = pairs(T, U, 10)
        by_sampler = list(U.DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 2]))
        by_batches = list(U.DataLoader(ds, batch_sampler=[[1, 2], [8], [0, 5, 6]]))
        batch_sampler = U.BatchSampler(U.SequentialSampler(ds), 4, drop_last=True)
        loader = U.DataLoader(ds, batch_sampler=batch_sampler)
        return [by_sampler, by_batches, len(loader), loader.batch_size, list(loader)]
    same(program)


def test_random_samplers_draw_valid_indices_reproducibly():
    g = seeded
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
        ds = pairs(lm, lud, 11)
        loader = lud.DataLoader(ds, batch_size=4, shuffle=True, generator=seeded(seed))
        return [[int(i) for b in epoch for i in b[1].tolist()] for epoch in (list(loader), list(loader))]
    first, again, other = orders(7), orders(7), orders(8)
    assert first == again and first != other
    assert all(sorted(epoch) == list(range(11)) for epoch in first)
    assert first[0] != first[1]  # epochs differ
    # torch's order differs, but it too visits every sample once per epoch
    ds = pairs(torch, tud, 11)
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
        return [plain(b) for _ in range(2) for b in loader]
    assert epochs(lud.TensorDataset(x, y)) == epochs(Rows())
    doubled = lud.TensorDataset(x * 2, y)
    assert epochs(Doubled(x, y)) == epochs(doubled)
    train, _ = lud.random_split(lud.TensorDataset(x, y), [0.6, 0.4], generator=seeded(0))
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
    same(program)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(shuffle=True, sampler=[0, 1]),
                                    dict(batch_sampler=[[0]], batch_size=2),
                                    dict(batch_sampler=[[0]], drop_last=True),
                                    dict(batch_size=None, drop_last=True),
                                    dict(num_workers=-1), dict(persistent_workers=True),
                                    dict(prefetch_factor=2)])
def test_loader_argument_errors_match(kwargs):
    with pytest.raises(ValueError):
        tud.DataLoader(pairs(torch, tud), **kwargs)
    with pytest.raises(ValueError):
        lud.DataLoader(pairs(lm, lud), **kwargs)


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
        loader = U.DataLoader(pairs(T, U), batch_size=2, shuffle=False, sampler=None, batch_sampler=None,
                              num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                              worker_init_fn=None, multiprocessing_context=None, generator=generator_of(T),
                              prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                              in_order=True)
        return list(loader)
    same(program)
    with pytest.warns(UserWarning):
        loader = lud.DataLoader(pairs(lm, lud), 2, False, None, None, 2, lud.default_collate, True, True, 5.0,
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
        loader = lud.DataLoader(pairs(lm, lud), batch_size=3, num_workers=3, worker_init_fn=init)
        epochs = [plain(list(loader)) for _ in range(2)]
    assert [w.category for w in caught] == [UserWarning] and "main process" in str(caught[0].message)
    assert calls == [(i, i, 3) for i in range(3)] * 2 and lud.get_worker_info() is None
    assert epochs[0] == plain(list(lud.DataLoader(pairs(lm, lud), batch_size=3)))
    calls.clear()
    with pytest.warns(UserWarning):
        persistent = lud.DataLoader(pairs(lm, lud), num_workers=2, worker_init_fn=init, persistent_workers=True)
    list(persistent), list(persistent)
    assert calls == [(0, 0, 2), (1, 1, 2)]


@requires_torch
def test_custom_collate_fn_gets_the_list_of_samples():
    def program(T, U):
        return list(U.DataLoader(pairs(T, U, 5), batch_size=2, collate_fn=lambda s: [i for _, i in s]))
    same(program)
    # on an array-backed data set too (no vectorised shortcut around collate_fn)
    assert list(lud.DataLoader(lud.TensorDataset(lm.arange(3)), batch_size=2, collate_fn=len)) == [2, 1]

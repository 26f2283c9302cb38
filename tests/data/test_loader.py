"""DataLoader: batch shapes and dtypes, drop_last, reproducible shuffling, resuming."""
import numpy as np
import pytest

import lamina as lm
from lamina.data import ArrayDataset, DataLoader, Dataset, Digits, TensorDataset
from lamina.data import transforms as T
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError


def _images(n=23):
    data = np.arange(n * 2 * 3 * 3, dtype=np.uint8).reshape(n, 2, 3, 3)
    return ArrayDataset(data, np.arange(n), scale=1 / 255)  # label = sample id


def _epoch(loader):
    return [tuple(t.numpy().copy() for t in batch) for batch in loader]


@pytest.mark.parametrize("n,batch_size,drop_last,sizes", [
    (23, 5, False, [5, 5, 5, 5, 3]), (23, 5, True, [5, 5, 5, 5]), (20, 5, True, [5] * 4),
    (23, 1, False, [1] * 23), (23, 64, False, [23]), (23, 64, True, [])])
def test_batch_sizes_and_len(n, batch_size, drop_last, sizes):
    loader = DataLoader(_images(n), batch_size=batch_size, drop_last=drop_last)
    batches = _epoch(loader)
    assert [len(x) for x, _ in batches] == sizes and len(loader) == len(sizes)


def test_image_batches_are_float32_in_unit_range_and_labels_int64():
    x, y = next(iter(DataLoader(_images(), batch_size=4)))
    assert isinstance(x, lm.Tensor) and x.shape == (4, 2, 3, 3) and x.dtype == lm.float32
    assert y.shape == (4,) and y.dtype == lm.int64
    np.testing.assert_allclose(x.numpy(), np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3) / 255,
                               rtol=1e-6)


def test_every_sample_exactly_once_per_epoch_and_epochs_differ():
    loader = DataLoader(_images(), batch_size=4, shuffle=True, seed=3)
    epochs = [_epoch(loader) for _ in range(3)]
    orders = [np.concatenate([y for _, y in e]) for e in epochs]
    for epoch, order in zip(epochs, orders):
        assert sorted(order) == list(range(23))
        # Images travel with their labels.
        for x, y in epoch:
            np.testing.assert_array_equal(x, _images().arrays()[0][y])
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])


def test_shuffle_is_a_function_of_seed_and_epoch():
    a = DataLoader(_images(), batch_size=4, shuffle=True, seed=11)
    b = DataLoader(_images(), batch_size=4, shuffle=True, seed=11)
    c = DataLoader(_images(), batch_size=4, shuffle=True, seed=12)
    ea, eb, ec = _epoch(a), _epoch(b), _epoch(c)
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(ea, eb))
    assert not all(np.array_equal(p[0], q[0]) for p, q in zip(ea, ec))
    assert not np.array_equal(a.permutation(0), np.arange(23))


def test_set_epoch_and_state_dict_resume_exactly():
    loader = DataLoader(_images(), batch_size=5, shuffle=True, seed=5,
                        transform=T.Compose([T.RandomShift(1), T.GaussianNoise(0.1)]))
    epochs = [_epoch(loader) for _ in range(3)]
    state = {"seed": 5, "epoch": 2}
    resumed = DataLoader(_images(), batch_size=5, shuffle=True, seed=99,
                         transform=T.Compose([T.RandomShift(1), T.GaussianNoise(0.1)]))
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    for (x1, y1), (x2, y2) in zip(epochs[2], _epoch(resumed)):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert resumed.epoch == 3
    loader.set_epoch(1)
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(epochs[1], _epoch(loader)))


def test_default_seed_comes_from_manual_seed_or_a_generator():
    lm.manual_seed(42)
    first = DataLoader(_images(), shuffle=True).seed
    lm.manual_seed(42)
    assert DataLoader(_images(), shuffle=True).seed == first
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert DataLoader(_images(), generator=g1).seed == DataLoader(_images(), generator=g2).seed


def test_without_shuffle_the_order_is_the_data_set_order():
    ys = np.concatenate([y for _, y in _epoch(DataLoader(_images(), batch_size=6))])
    np.testing.assert_array_equal(ys, np.arange(23))


def test_transforms_apply_per_batch():
    loader = DataLoader(_images(), batch_size=4, transform=T.Flatten(), target_transform=T.OneHot(10))
    x, y = next(iter(loader))
    assert x.shape == (4, 18) and y.shape == (4, 10) and y.dtype == lm.float32
    np.testing.assert_array_equal(y.numpy().argmax(1), [0, 1, 2, 3])


def test_tensor_dataset_batches_are_copies():
    features, labels = lm.randn(10, 3), lm.arange(10)
    ds = TensorDataset(features, labels)
    x, y = ds[2]
    np.testing.assert_array_equal(x.numpy(), features.numpy()[2])
    batches = _epoch(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    xb.numpy()[:] = 0.0
    assert np.abs(features.numpy()[:4]).sum() > 0


def test_a_per_sample_data_set_works_through_the_generic_path():
    class Squares(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.float32(i), i * i

    batches = _epoch(DataLoader(Squares(), batch_size=3))
    assert [list(b[1]) for b in batches] == [[0, 1, 4], [9, 16, 25], [36]]


def test_digits_loader_gives_an_mlp_flat_inputs():
    x, y = next(iter(DataLoader(Digits(), batch_size=32, shuffle=True, seed=0, transform=T.Flatten())))
    assert x.shape == (32, 64) and x.dtype == lm.float32 and float(x.numpy().max()) <= 1.0


@pytest.mark.parametrize("kwargs,error", [({"batch_size": 0}, LaminaValueError),
                                          ({"batch_size": 2.5}, LaminaValueError),
                                          ({"seed": -1}, LaminaValueError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        DataLoader(_images(), **kwargs)


def test_bad_data_sets_and_states():
    with pytest.raises(LaminaTypeError):
        DataLoader(object())
    with pytest.raises(ShapeError):
        TensorDataset(lm.zeros(3, 2), lm.zeros(4))
    with pytest.raises(LaminaValueError):
        DataLoader(_images()).load_state_dict({"epoch": 1})

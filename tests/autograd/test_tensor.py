"""Tensor creation, dtype rules, attributes and reproducible randomness."""
import numpy as np
import pytest

import lamina as lm


@pytest.mark.parametrize("data,dtype", [
    (1.5, lm.float32), ([1.0, 2.0], lm.float32), ([1, 2.5], lm.float32), (3, lm.int64),
    ([[1, 2]], lm.int64), (True, lm.bool), (np.array([1.0]), lm.float64),
    (np.array([1], dtype=np.int32), lm.int32), (np.float64(2.0), lm.float64),
])
def test_dtype_inference_follows_pytorch(data, dtype):
    assert lm.tensor(data).dtype == dtype


def test_explicit_dtype_and_copy_semantics():
    a = np.array([1.0, 2.0])
    t = lm.tensor(a, dtype=lm.float32)
    a[0] = 9
    assert t.dtype == lm.float32 and t[0].item() == 1.0
    assert lm.from_numpy(a).numpy() is a


def test_attributes():
    x = lm.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size()[1:] == (3, 4)
    assert x.size(1) == 3 and x.ndim == 3 and x.numel() == 24 and x.dtype == lm.float32
    assert x.T.shape == (4, 3, 2)
    assert lm.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    assert lm.tensor([4.0]).item() == 4.0
    y = lm.tensor([1.0], requires_grad=True)
    assert y.is_leaf and y.requires_grad and not y.detach().requires_grad
    assert not (y * 2).is_leaf and (y * 2).grad_fn is not None


def test_item_of_many_elements_raises():
    with pytest.raises(lm.LaminaValueError, match="one element"):
        lm.zeros(3).item()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(lm.LaminaTypeError, match="floating"):
        lm.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("fn,shape,dtype", [
    (lambda: lm.zeros(2, 3), (2, 3), lm.float32), (lambda: lm.ones((4,)), (4,), lm.float32),
    (lambda: lm.full((2, 2), 7.0), (2, 2), lm.float32), (lambda: lm.arange(5), (5,), lm.int64),
    (lambda: lm.arange(0.0, 1.0, 0.25), (4,), lm.float32), (lambda: lm.linspace(0, 1, 5), (5,), lm.float32),
    (lambda: lm.eye(3), (3, 3), lm.float32), (lambda: lm.rand(2, 5), (2, 5), lm.float32),
    (lambda: lm.randn(3), (3,), lm.float32), (lambda: lm.randint(0, 10, (6,)), (6,), lm.int64),
    (lambda: lm.zeros_like(lm.ones(2, dtype=lm.float64)), (2,), lm.float64),
    (lambda: lm.ones_like(lm.zeros(3, 1)), (3, 1), lm.float32),
])
def test_creation_functions(fn, shape, dtype):
    t = fn()
    assert t.shape == shape and t.dtype == dtype


def test_creation_values():
    np.testing.assert_array_equal(lm.arange(2, 8, 2).numpy(), [2, 4, 6])
    np.testing.assert_allclose(lm.linspace(0, 1, 3).numpy(), [0, 0.5, 1])
    r = lm.randint(3, 5, (1000,)).numpy()
    assert r.min() == 3 and r.max() == 4
    u = lm.rand(10000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02


def test_manual_seed_makes_every_random_function_reproducible():
    def draw():
        return [lm.rand(3).numpy(), lm.randn(3).numpy(), lm.randint(0, 100, (3,)).numpy(),
                lm.randperm(5).numpy(), lm.zeros(4).normal_().numpy()]

    lm.manual_seed(42)
    a = draw()
    lm.manual_seed(42)
    b = draw()
    lm.manual_seed(43)
    c = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_rng_state_round_trip():
    state = lm.get_rng_state()
    first = lm.randn(4).numpy()
    lm.set_rng_state(state)
    np.testing.assert_array_equal(lm.randn(4).numpy(), first)


def test_comparisons_give_bool_tensors_without_grad():
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == lm.bool and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2.0).numpy(), [False, True, False])


def test_python_scalars_do_not_promote_float32():
    x = lm.ones(3)
    for y in (x * 2.5, 2.5 * x, x / 3, x + 1e-3, x ** 2.0, 1.0 - x):
        assert y.dtype == lm.float32


def test_repr_looks_like_pytorch():
    assert repr(lm.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(lm.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward0>" in repr(lm.tensor([1.0], requires_grad=True) * 2)

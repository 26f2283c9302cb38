"""The backward loop's accumulation (issue 13): gradients that meet at a node are summed in
place only into sums the engine made itself, never into an array it was handed; results
match PyTorch's wherever several paths meet."""
import numpy as np
import pytest

import lamina as lm

torch = pytest.importorskip("torch")


def _both(fn, *arrays):
    ours = [lm.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    fn(lm, *ours).backward()
    fn(torch, *theirs).backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(), (3,), (4, 5)])
def test_one_node_feeding_many_sums_its_gradients(shape):
    x = np.random.default_rng(0).standard_normal(shape)

    def fn(t, x):
        y = x * 2.0
        return (y * y + y + t.exp(y) + y.sin() * y).sum()

    _both(fn, x)


def test_many_uses_of_a_zero_dim_intermediate():
    # 0-d sums are NumPy scalars, which cannot be added into in place
    def fn(t, x):
        s = t.sin(x)
        return s * s * s + s + s

    _both(fn, np.array(0.7))


def test_a_gradient_handed_in_is_never_written_to():
    x = lm.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x * 3.0
    out = y + y + y                  # the seed reaches y three times
    seed = np.ones((2, 3))
    kept = seed.copy()
    out.backward(lm.tensor(seed))
    assert np.array_equal(seed, kept)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 9.0))


def test_a_retained_gradient_of_a_meeting_point_keeps_its_value():
    x = lm.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 1.0
    y.retain_grad()
    z = y * 2.0 + y * 3.0 + y          # y's gradient: 2 + 3 + 1 = 6, one sum
    w = z * z
    w.sum().backward()
    expected = 2 * (6 * np.array([1.0, 2.0])) * 6
    np.testing.assert_allclose(y.grad.numpy(), expected)
    np.testing.assert_allclose(x.grad.numpy(), expected)
    assert not np.shares_memory(y.grad.numpy(), x.grad.numpy())


def test_leaves_reached_by_one_array_get_separate_copies():
    a = lm.tensor(np.ones(3), requires_grad=True)
    b = lm.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()          # Add hands the same array to both
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[0] = 5.0
    assert b.grad.numpy()[0] == 1.0

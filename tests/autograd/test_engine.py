"""The backward engine: deep graphs, reuse, retain_graph, grad mode, in-place detection,
dtype discipline, retain_grad, gradcheck and the DOT graph."""
import threading

import numpy as np
import pytest

import lamina as lm
from lamina.autograd import Function
from lamina.autograd.gradcheck import GradcheckError


def test_deep_chain_of_100000_operations_backpropagates_without_recursion():
    x = lm.tensor(1.0, dtype=lm.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_reused_node_gets_the_sum_of_its_paths():
    x = lm.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_diamond_graph_visits_each_node_once():
    calls = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad * 2

    x = lm.tensor([1.0, 2.0], requires_grad=True)
    h = Spy.apply(x)
    (h * h + h.exp()).sum().backward()
    assert len(calls) == 1
    h_val = 2 * x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * h_val + np.exp(h_val)), rtol=1e-6)


def test_backward_accumulates_into_leaf_grad():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_second_backward_without_retain_graph_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(lm.GraphError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())


def test_backward_of_non_scalar_needs_gradient():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(lm.GraphError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(gradient=lm.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(lm.GraphError, match="does not require grad"):
        lm.tensor([1.0]).sum().backward()


def test_gradient_of_wrong_shape_raises():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(lm.ShapeError):
        (x * 2).backward(gradient=lm.tensor([1.0, 2.0, 3.0]))


def test_no_grad_records_nothing_and_keeps_no_intermediates():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    with lm.no_grad():
        y = (x * x).exp()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert lm.is_grad_enabled()


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = lm.tensor([1.0], requires_grad=True)

    @lm.no_grad()
    def f():
        with lm.enable_grad():
            inner = x * 2
        return x * 2, inner

    outer, inner = f()
    assert not outer.requires_grad and inner.requires_grad


def test_grad_mode_is_thread_local():
    seen = []
    with lm.no_grad():
        t = threading.Thread(target=lambda: seen.append(lm.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_intermediates_not_needed_by_backward_are_freed():
    import gc
    import weakref

    x = lm.randn(100, requires_grad=True)
    h = x * 2.0           # Mul by a constant: backward needs only the constant
    ref = weakref.ref(h)
    y = (h + 1.0).sum()   # Add keeps nothing
    del h
    gc.collect()
    assert ref() is None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


@pytest.mark.parametrize("make", [
    lambda x: (x * 0.5 + 2.0) / 3.0 - 1.0,
    lambda x: x.exp().log().sqrt() ** 2,
    lambda x: lm.tanh(lm.sigmoid(x)).sum(dim=0),
    lambda x: lm.softmax(x, dim=-1).mean(),
    lambda x: x @ lm.ones(3, 2),
])
def test_float32_stays_float32_through_forward_and_backward(make):
    x = lm.rand(4, 3, requires_grad=True)
    y = make(x + 0.5)
    assert y.dtype == lm.float32
    y.sum().backward()
    assert x.grad.dtype == lm.float32


def test_float64_works_end_to_end():
    x = lm.randn(3, 3, dtype=lm.float64, requires_grad=True)
    y = (x @ x * 2.0).sum()
    assert y.dtype == lm.float64
    y.backward()
    assert x.grad.dtype == lm.float64


def test_inplace_change_of_a_saved_tensor_is_detected():
    w = lm.randn(3)
    x = lm.randn(3, requires_grad=True)
    y = (x * w).sum()
    w += 1.0
    with pytest.raises(lm.InplaceError, match="modified in place"):
        y.backward()


def test_inplace_change_of_a_saved_output_is_detected():
    x = lm.randn(3, requires_grad=True)
    y = x.exp()
    z = y.sum()
    with lm.no_grad():
        y.mul_(2.0)
    with pytest.raises(lm.InplaceError):
        z.backward()


def test_inplace_on_tensor_requiring_grad_is_refused_outside_no_grad():
    x = lm.randn(3, requires_grad=True)
    with pytest.raises(lm.InplaceError, match="no_grad"):
        x += 1.0
    with lm.no_grad():
        x -= 1.0  # the optimiser's path


def test_inplace_operators_on_plain_tensors():
    x = lm.tensor([1.0, 2.0])
    x += 1
    x *= 2
    x -= lm.tensor([1.0, 1.0])
    np.testing.assert_array_equal(x.numpy(), [3.0, 5.0])
    assert x.dtype == lm.float32


def test_retain_grad_keeps_non_leaf_gradients_only_when_asked():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = h * 2
    h.retain_grad()
    (k * k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * k.numpy() * 2)
    assert k.grad is None


def test_leaf_grads_are_not_aliased_between_leaves():
    a = lm.tensor([1.0, 2.0], requires_grad=True)
    b = lm.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    with lm.no_grad():
        a.grad.mul_(10.0)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_multi_output_function_with_an_unused_output():
    x = lm.arange(6, dtype=lm.float32).requires_grad_()
    first, second = lm.split(x, 3)
    (first * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2, 0, 0, 0])


def test_gradcheck_accepts_a_correct_and_rejects_a_wrong_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * 3 * x  # should be 2x

    x = lm.randn(4, dtype=lm.float64, requires_grad=True)
    assert lm.autograd.gradcheck(lambda t: t * t, x)
    with pytest.raises(GradcheckError, match="mismatch"):
        lm.autograd.gradcheck(WrongSquare.apply, x)


def test_gradcheck_random_directions_for_large_inputs():
    x = lm.randn(80, 80, dtype=lm.float64, requires_grad=True)
    assert lm.autograd.gradcheck(lambda t: (t.tanh() @ t).sum(dim=0), x, max_elements=100)


def test_gradcheck_requires_float64():
    with pytest.raises(lm.LaminaTypeError):
        lm.autograd.gradcheck(lambda t: t * 2, lm.randn(3, requires_grad=True))


def test_to_dot_draws_the_graph_of_a_composite_function():
    w = lm.randn(2, 3, requires_grad=True)
    x = lm.randn(4, 3)
    y = lm.sigmoid(x @ w.T).sum()
    dot = lm.autograd.to_dot(y, names={id(w): "w"})
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for name in ("SigmoidBackward0", "MmBackward0", "SumBackward0", '"w\\n(2, 3)"'):
        assert name in dot, name
    assert dot.count("->") >= 4


def test_autograd_grad_returns_gradients_without_touching_grad():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    (g,) = lm.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert x.grad is None

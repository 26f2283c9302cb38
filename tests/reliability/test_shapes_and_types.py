"""Reliability, shapes and types: a user's mistake raises lamina's own error naming the bad
value and the expected one, and the edge cases of layers behave as documented.

Issue 8, lines 7-14. The parametrised error tables live in tests/nn/test_losses.py,
tests/nn/test_layers.py, tests/nn/test_extra_layers.py and tests/optim/test_optimizer_arguments.py;
each test here states one line of the issue.
"""
import numpy as np
import pytest

import lamina as lm
from lamina import nn, optim
from lamina.errors import GraphError, LaminaTypeError, LaminaValueError, ShapeError


# ---------------------------------------------------------------- line 7
def test_mse_loss_of_n1_against_n_raises_instead_of_broadcasting_to_nn():
    with pytest.raises(ShapeError, match=r"\(5, 1\).*\(5,\)"):
        lm.ops.mse_loss(lm.zeros(5, 1), lm.zeros(5))
    with pytest.raises(ShapeError, match=r"\(5, 1\).*\(5,\)"):
        nn.MSELoss()(lm.zeros(5, 1), lm.zeros(5))


# ---------------------------------------------------------------- line 8
@pytest.mark.parametrize("bad", [5, 6, -1, -7])
def test_cross_entropy_target_out_of_range_names_the_index_and_c(bad):
    with pytest.raises(LaminaValueError, match=rf"index {bad}\b.*\b5 classes"):
        lm.ops.cross_entropy(lm.randn(3, 5), lm.tensor([0, bad, 4]))


def test_cross_entropy_float_targets_for_indices_are_a_type_error():
    with pytest.raises(LaminaTypeError, match="integer"):
        lm.ops.cross_entropy(lm.randn(3, 5), lm.tensor([0.0, 1.0, 2.0]))


def test_cross_entropy_batch_mismatch_shows_both_shapes():
    with pytest.raises(ShapeError) as info:
        lm.ops.cross_entropy(lm.randn(4, 5), lm.tensor([0, 1, 2]))
    assert "(4, 5)" in str(info.value) and "(3,)" in str(info.value)


# ---------------------------------------------------------------- line 9
@pytest.mark.parametrize("shape", [(3, 8, 8), (2, 1, 8, 8)], ids=["3-D", "wrong-channels"])
def test_conv2d_wrong_input_names_the_expected_layout(shape):
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\) with C=3") as info:
        nn.Conv2d(3, 4, 3)(lm.zeros(*shape))
    assert str(shape) in str(info.value)


# ---------------------------------------------------------------- line 10
def test_backward_of_a_non_scalar_without_gradient_raises():
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"scalar.*(\(3,\)|\[3\])"):
        (x * 2).backward()
    assert x.grad is None


@pytest.mark.parametrize("make", [lambda: lm.tensor(2.0), lambda: lm.tensor([1.0, 2.0]).sum(),
                                  lambda: lm.tensor([1.0], requires_grad=True).detach().sum()],
                         ids=["leaf", "result", "detached"])
def test_backward_of_a_tensor_that_does_not_require_grad_raises(make):
    with pytest.raises(GraphError, match="does not require grad"):
        make().backward()


# ---------------------------------------------------------------- line 11
def _pool_grad(x: np.ndarray, cotangent: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    t = lm.tensor(x, requires_grad=True)
    nn.MaxPool2d(kernel, stride)(t).backward(gradient=lm.tensor(cotangent))
    return t.grad.numpy()


@pytest.mark.parametrize("kernel,stride,size", [(2, 2, 4), (3, 2, 7), (3, 1, 5)])
def test_max_pool_tie_sends_each_window_gradient_to_exactly_one_input(kernel, stride, size):
    x = np.ones((1, 1, size, size), np.float32)     # every window is one big tie
    out = (size - kernel) // stride + 1
    for i in range(out):
        for j in range(out):
            c = np.zeros((1, 1, out, out), np.float32)
            c[0, 0, i, j] = 1.0
            g = _pool_grad(x, c, kernel, stride)[0, 0]
            assert np.count_nonzero(g) == 1 and g.sum() == 1.0
            r, s = np.argwhere(g)[0]
            assert i * stride <= r < i * stride + kernel and j * stride <= s < j * stride + kernel


def test_max_pool_overlapping_windows_accumulate():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1.0                             # the maximum of all four 3x3 windows
    c = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)
    g = _pool_grad(x, c, 3, 2)[0, 0]
    assert g[2, 2] == 10.0 and np.count_nonzero(g) == 1


# ---------------------------------------------------------------- line 12
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm2d, (1, 3, 1, 1))])
def test_batchnorm_one_value_per_channel_raises_in_training(cls, shape):
    with pytest.raises(LaminaValueError, match="more than 1 value per channel"):
        cls(3)(lm.randn(*shape))


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm2d, (1, 3, 2, 2))])
def test_batchnorm_eval_with_batch_1_works_and_keeps_running_statistics(cls, shape):
    bn = cls(3)
    bn(lm.randn(6, *shape[1:]) * 3 + 1)             # non-trivial running statistics
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    bn.eval()
    x = lm.randn(*shape)
    y = bn(x)
    assert y.shape == shape and np.all(np.isfinite(y.numpy()))
    stats = (1, 3) + (1,) * (len(shape) - 2)
    mean, var = before["running_mean"].reshape(stats), before["running_var"].reshape(stats)
    expected = (x.numpy() - mean) / np.sqrt(var + bn.eps) * before["weight"].reshape(stats) \
        + before["bias"].reshape(stats)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)


# ---------------------------------------------------------------- line 13
@pytest.mark.parametrize("layer", [nn.Dropout(1.0), nn.Dropout2d(1.0)], ids=["Dropout", "Dropout2d"])
def test_dropout_p_1_gives_zeros_and_zero_gradient_without_nan(layer):
    x = lm.randn(2, 3, 4, 4, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), 0.0)
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)   # NaN would fail this too


@pytest.mark.parametrize("p", [-0.1, 1.1, float("nan")])
@pytest.mark.parametrize("make", [nn.Dropout, nn.Dropout2d, lambda p: lm.dropout(lm.ones(2), p)],
                         ids=["Dropout", "Dropout2d", "functional"])
def test_dropout_p_outside_0_1_raises(make, p):
    with pytest.raises(LaminaValueError, match="between 0 and 1"):
        make(p)


def test_dropout_in_eval_mode_is_the_identity():
    x = lm.randn(4, 5, requires_grad=True)
    layer = nn.Dropout(0.9).eval()
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    y.backward(gradient=lm.ones(4, 5))
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)


# ---------------------------------------------------------------- line 14
OPTIMIZERS = [optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad, optim.RMSprop]


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_optimizers_reject_a_negative_learning_rate(cls):
    with pytest.raises(LaminaValueError, match=r"learning rate.*-0\.01"):
        cls(nn.Linear(2, 2).parameters(), lr=-0.01)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_optimizers_reject_an_empty_parameter_list(cls):
    with pytest.raises(LaminaValueError, match="empty parameter list"):
        cls([], lr=0.1)
    with pytest.raises(LaminaValueError, match="empty parameter list"):
        cls(nn.ReLU().parameters(), lr=0.1)             # a model without parameters

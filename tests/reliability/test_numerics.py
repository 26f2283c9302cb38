"""Reliability, numerics: losses and activations at extreme values, gradients at the edges
of a function's domain, and float32 kept end to end through training with every optimiser.

Issue 8, lines 1-6. The comparisons with PyTorch at the extremes live in
tests/ops/test_numerics.py; these tests state each line's promise directly.
"""
import warnings

import numpy as np
import pytest

import lamina as lm
from lamina import nn, optim

pytestmark = pytest.mark.filterwarnings("error")   # an overflow or 0/0 warning is a failure

INF = np.inf
DTYPES = [np.float32, np.float64]
EXTREME_ROWS = {
    "1e4": np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 9999.0]]),
    "-inf": np.array([[0.0, -INF, 1.0], [-INF, 2.0, -INF], [5.0, -INF, 5.0]]),
}


def _value_and_grad(fn, x, cotangent=None):
    """fn(x) and d<c, fn(x)>/dx for a leaf built from the array x."""
    t = lm.tensor(x, requires_grad=True)
    y = fn(t)
    c = np.ones(y.shape, x.dtype) if cotangent is None else cotangent
    y.backward(gradient=lm.tensor(c.astype(x.dtype)))
    return y.numpy(), t.grad.numpy()


# ---------------------------------------------------------------- line 1
def test_cross_entropy_of_logits_scaled_by_1e8_equals_the_max_shifted_loss(rng):
    x = rng.standard_normal((6, 5)) * 1e8
    target = lm.tensor(rng.integers(0, 5, 6))
    loss, grad = _value_and_grad(lambda t: lm.ops.cross_entropy(t, target), x)
    shifted, shifted_grad = _value_and_grad(lambda t: lm.ops.cross_entropy(t, target),
                                            x - x.max(axis=1, keepdims=True))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(shifted, rel=1e-12)
    np.testing.assert_allclose(grad, shifted_grad, rtol=1e-12, atol=1e-15)


def _reference_logsumexp(x: np.ndarray) -> np.ndarray:
    """log sum_j exp(x_j) computed in float64 around the row maximum (the -inf rows of the
    tests have a finite maximum)."""
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", EXTREME_ROWS)
def test_log_softmax_and_logsumexp_at_1e4_and_minus_inf(kind, dtype):
    x = EXTREME_ROWS[kind].astype(dtype)
    finite = np.isfinite(x)
    lse = _reference_logsumexp(x)
    value, grad = _value_and_grad(lambda t: lm.logsumexp(t, dim=1), x)
    assert value.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, lse, rtol=1e-6)
    # d logsumexp / dx = softmax(x), exactly 0 at -inf. Like PyTorch, lamina takes it as
    # exp(x - y); y ~ 1e4 in float32 carries an error of ~1e-3, hence the float32 tolerance.
    rtol = 1e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(grad, np.exp(x - lse[:, None]), rtol=rtol, atol=1e-7)
    assert np.all(grad[~finite] == 0)

    c = np.linspace(0.5, 1.5, x.size).reshape(x.shape)
    value, grad = _value_and_grad(lambda t: lm.log_softmax(t, dim=1), x, c)
    np.testing.assert_allclose(value[finite], (x - lse[:, None])[finite], rtol=1e-6)
    assert np.all(value[~finite] == -INF)
    assert np.all(np.isfinite(grad))
    softmax = np.exp(x.astype(np.float64) - lse[:, None])
    expected = c - softmax * c.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- line 2
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_probabilities_0_and_1_with_the_opposite_target(dtype):
    p, target = np.array([0.0, 1.0], dtype), lm.tensor(np.array([1.0, 0.0], dtype))
    loss, grad = _value_and_grad(
        lambda t: lm.ops.binary_cross_entropy(t, target, reduction="none"), p)
    np.testing.assert_array_equal(loss, [100.0, 100.0])       # -log clamped at -100
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("bad", [-1e-3, 1.0 + 1e-3, float("nan")])
def test_bce_rejects_a_probability_outside_0_1(bad):
    with pytest.raises(lm.LaminaValueError, match="probabilities"):
        lm.ops.binary_cross_entropy(lm.tensor([0.5, bad]), lm.tensor([0.0, 1.0]))


# ---------------------------------------------------------------- line 3
def test_bce_with_logits_at_1e4_is_finite_and_equals_bce_of_the_sigmoid():
    x = np.array([1e4, -1e4, 1e4, -1e4], np.float32)
    target = lm.tensor(np.array([0.0, 1.0, 1.0, 0.0], np.float32))
    loss, grad = _value_and_grad(
        lambda t: lm.binary_cross_entropy_with_logits(t, target, reduction="none"), x)
    np.testing.assert_array_equal(loss, [1e4, 1e4, 0.0, 0.0])   # softplus(1e4) = 1e4
    np.testing.assert_array_equal(grad, [1.0, -1.0, 0.0, 0.0])  # sigmoid(x) - t
    # where 1 - sigmoid(x) still has digits, the fused loss is BCE of the sigmoid
    x = np.linspace(-12.0, 12.0, 25)
    t = lm.tensor(np.linspace(0.0, 1.0, 25))
    fused = lm.binary_cross_entropy_with_logits(lm.tensor(x), t, reduction="none").numpy()
    plain = lm.ops.binary_cross_entropy(lm.sigmoid(lm.tensor(x)), t, reduction="none").numpy()
    np.testing.assert_allclose(fused, plain, rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------- line 4
def test_kl_div_with_zeros_in_the_target_and_batchmean_is_the_true_kl(rng):
    p = rng.uniform(0.1, 1.0, (4, 6))
    p[:, 1::2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    q = rng.uniform(0.1, 1.0, (4, 6))
    q /= q.sum(axis=1, keepdims=True)
    loss, grad = _value_and_grad(lambda t: lm.ops.kl_div(t, lm.tensor(p), reduction="batchmean"),
                                 np.log(q))
    support = p > 0
    true_kl = np.sum(p[support] * np.log(p[support] / q[support])) / len(p)  # mean over rows
    assert loss == pytest.approx(true_kl, rel=1e-10)
    assert not np.isnan(grad).any() and np.all(grad[~support] == 0)


# ---------------------------------------------------------------- line 5
def test_where_of_sqrt_has_zero_gradient_where_masked():
    x = np.array([-4.0, -1e-300, 0.0, 1e-300, 4.0])
    t = lm.tensor(x, requires_grad=True)
    with warnings.catch_warnings():   # NumPy notes sqrt(-4) = nan in the discarded branch
        warnings.simplefilter("ignore", RuntimeWarning)
        y = lm.where(t > 0, lm.sqrt(t), 0.0)
    y.sum().backward()
    grad = t.grad.numpy()
    assert not np.isnan(grad).any()
    np.testing.assert_array_equal(grad[:3], 0.0)
    assert grad[4] == pytest.approx(0.25)            # 1 / (2 sqrt 4)


@pytest.mark.parametrize("power", [lambda t: t ** 2, lambda t: lm.pow(t, 2), lm.square],
                         ids=["operator", "pow", "square"])
def test_square_of_zero_has_gradient_zero(power):
    t = lm.tensor([0.0, -0.0, 3.0], requires_grad=True)
    power(t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0, 6.0])


# ---------------------------------------------------------------- line 6
# Python floats everywhere a user types a hyper-parameter.
OPTIMIZERS = {
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
    "adam": lambda ps: optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-3, weight_decay=0.01),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop-centered-momentum": lambda ps: optim.RMSprop(ps, lr=1e-3, alpha=0.9, centered=True,
                                                          momentum=0.9, weight_decay=1e-4),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_stays_float32_through_training(name, rng):
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Dropout(0.25), nn.Linear(3 * 4 * 4, 5))
    opt = OPTIMIZERS[name](model.parameters())
    x = lm.tensor(rng.standard_normal((8, 1, 6, 6)).astype(np.float32))
    y = lm.tensor(rng.integers(0, 5, 8))
    for _ in range(4):
        opt.zero_grad()
        out = model(x)
        loss = lm.ops.cross_entropy(out, y, label_smoothing=0.1) + 1e-3 * (out ** 2).mean()
        assert out.dtype == lm.float32 and loss.dtype == lm.float32
        loss.backward()
        assert all(p.grad.dtype == lm.float32 for p in model.parameters())
        opt.step()
    assert all(p.dtype == lm.float32 for p in model.parameters())
    assert all(b.dtype in (lm.float32, lm.int64) for b in model.buffers())
    arrays = [v for entry in opt.state.values() for v in entry.values()
              if isinstance(v, (np.ndarray, lm.Tensor))]
    assert arrays, "the optimiser keeps state arrays"
    assert all(a.dtype == np.float32 for a in arrays), {a.dtype for a in arrays}

"""Activations and losses at extreme values: +-1e4 logits, -inf entries, probabilities of
exactly 0 and 1, zeros in KL targets. Every RuntimeWarning (overflow, invalid value) is an
error here, except where a test says otherwise."""
import warnings

import numpy as np
import pytest

import lamina as lm
from tests.reference import check_against_torch, requires_torch, torch

F = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("error")

INF = np.inf
EXTREME = np.array([-1e4, -800.0, -100.0, -20.0, 0.0, 20.0, 100.0, 800.0, 1e4])
DTYPES = [np.float32, np.float64]


def run_both(lm_fn, torch_fn, *arrays, rtol, atol, grad_rtol, grad_atol):
    """check_against_torch with the first array the only one requiring grad and the
    cotangent 0.5 ... 1.5 (every element weighed differently); lamina's value and gradient."""
    r = check_against_torch(lm_fn, torch_fn, *arrays, grad=[True] + [False] * (len(arrays) - 1),
                            cotangent="ramp", rtol=rtol, atol=atol, grad_rtol=grad_rtol,
                            grad_atol=grad_atol)
    return r.lamina.values[0], r.lamina.grads[0]


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "softplus", "logsigmoid", "silu", "gelu", "elu",
                                  "tanh"])
def test_elementwise_activation_at_extremes(name, dtype):
    lm_fn = getattr(lm.ops, name)
    torch_fn = getattr(torch, name, None) or getattr(F, name)
    y, g = run_both(lm_fn, torch_fn, EXTREME.astype(dtype), rtol=1e-6, atol=1e-30,
                    grad_rtol=1e-6, grad_atol=1e-30)
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


def test_sigmoid_keeps_tiny_values():
    """sigma(-100) = e^{-100} / (1 + e^{-100}) is representable in float64; 1 - tanh tricks lose it."""
    assert lm.sigmoid(lm.tensor([-100.0], dtype=lm.float64)).item() == pytest.approx(np.exp(-100))
    assert lm.ops.logsigmoid(lm.tensor([100.0], dtype=lm.float64)).item() == pytest.approx(-np.exp(-100))


ROWS = [
    np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 9999.0]]),
    np.array([[0.0, -INF, 1.0], [-INF, 2.0, -INF], [5.0, -INF, 5.0]]),
]


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x", ROWS, ids=["1e4", "-inf"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_finite_at_extremes(name, x, dtype):
    x = x.astype(dtype)
    y, g = run_both(lambda t: getattr(lm.ops, name)(t, dim=1), lambda t: getattr(F, name)(t, dim=1),
                    x, rtol=1e-6, atol=0, grad_rtol=1e-5, grad_atol=1e-6)  # -inf where torch has -inf
    assert np.all(np.isfinite(g))
    finite_in = np.isfinite(x)
    assert np.all(np.isfinite(y[finite_in]))


@requires_torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_all_minus_inf_row_gives_nan_like_torch(name):
    x = np.array([[-INF, -INF], [0.0, 1.0]], np.float32)
    with warnings.catch_warnings():   # NumPy may note the -inf - (-inf); the value is what counts
        warnings.simplefilter("ignore", RuntimeWarning)
        y = getattr(lm.ops, name)(lm.tensor(x), dim=-1).numpy()
    yt = getattr(F, name)(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(yt))
    assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()


@pytest.mark.parametrize("smoothing,weight", [(0.0, None), (0.1, None), (0.0, [1.0, 2.0, 0.5, 1.0])])
def test_cross_entropy_with_huge_logits_equals_shifted_logits(smoothing, weight, rng):
    x = rng.standard_normal((5, 4)) * 1e8
    t = lm.tensor(rng.integers(0, 4, 5))
    w = None if weight is None else lm.tensor(weight, dtype=lm.float64)
    results = []
    for logits in (x, x - x.max(axis=1, keepdims=True)):
        a = lm.tensor(logits, requires_grad=True)
        loss = lm.ops.cross_entropy(a, t, weight=w, label_smoothing=smoothing)
        loss.backward()
        results.append((loss.item(), a.grad.numpy()))
    (la, ga), (lb, gb) = results
    assert np.isfinite(la) and np.all(np.isfinite(ga))
    assert la == pytest.approx(lb, rel=1e-12)
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-15)


@requires_torch
def test_cross_entropy_at_1e4_matches_torch():
    x = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, 1e4, 1e4]], np.float32)
    run_both(lambda s: lm.ops.cross_entropy(s, lm.tensor([1, 2]), reduction="none"),
             lambda s: F.cross_entropy(s, torch.tensor([1, 2]), reduction="none"), x,
             rtol=1e-6, atol=0, grad_rtol=1e-6, grad_atol=1e-7)


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_exact_zero_and_one(dtype):
    """p = 0 with target 1 and p = 1 with target 0: loss 100 (log clamped), finite gradient."""
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    y, g = run_both(lambda a, b: lm.ops.binary_cross_entropy(a, b, reduction="none"),
                    lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), p, t,
                    rtol=1e-7, atol=0, grad_rtol=1e-6, grad_atol=0)
    np.testing.assert_allclose(y, [100, 100, 0, 0])
    assert np.all(np.isfinite(g))


@requires_torch
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_bce_with_logits_at_extremes(pos_weight):
    x = EXTREME.astype(np.float32)
    t = np.tile([0.0, 1.0, 0.3], 3).astype(np.float32)
    pw = None if pos_weight is None else np.full(9, pos_weight, np.float32)
    args = (x, t) if pw is None else (x, t, pw)

    def make(fn):
        return lambda a, b, w=None: fn(a, b, pos_weight=w, reduction="none")

    y, g = run_both(make(lm.binary_cross_entropy_with_logits), make(F.binary_cross_entropy_with_logits),
                    *args, rtol=1e-6, atol=1e-6, grad_rtol=1e-6, grad_atol=1e-6)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


def test_bce_with_logits_equals_bce_of_sigmoid_where_representable():
    x = np.linspace(-12, 12, 49)     # beyond, 1 - sigmoid(x) has too few digits for BCE
    t = np.linspace(0, 1, 49)
    logits = lm.binary_cross_entropy_with_logits(lm.tensor(x), lm.tensor(t), reduction="none")
    probs = lm.ops.binary_cross_entropy(lm.sigmoid(lm.tensor(x)), lm.tensor(t), reduction="none")
    np.testing.assert_allclose(logits.numpy(), probs.numpy(), rtol=1e-9, atol=1e-15)
    huge = lm.binary_cross_entropy_with_logits(lm.tensor([1e4, -1e4]), lm.tensor([0.0, 1.0]),
                                               reduction="none")
    np.testing.assert_allclose(huge.numpy(), [1e4, 1e4])   # BCE of sigmoid would clamp at 100


def _distributions(rng):
    """p with zeros in every other column, and q > 0, as rows of (4, 6)."""
    p = rng.uniform(0.1, 1.0, (4, 6))
    p[:, ::2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    q = rng.uniform(0.1, 1.0, (4, 6))
    q /= q.sum(axis=1, keepdims=True)
    return p, q


def test_kl_div_zeros_in_target_and_batchmean_is_true_kl(rng):
    p, q = _distributions(rng)
    x = lm.tensor(np.log(q), requires_grad=True)
    loss = lm.ops.kl_div(x, lm.tensor(p), reduction="batchmean")
    loss.backward()
    nz = p > 0
    true_kl = np.sum(p[nz] * np.log(p[nz] / q[nz])) / 4
    assert not np.isnan(loss.item()) and not np.isnan(x.grad.numpy()).any()
    assert loss.item() == pytest.approx(true_kl, rel=1e-5)
    pointwise = lm.ops.kl_div(lm.tensor(np.log(q)), lm.tensor(p), reduction="none").numpy()
    assert np.all(pointwise[~nz] == 0)


@requires_torch
def test_kl_div_reductions_match_torch(rng):
    p, q = _distributions(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch's note on reduction='mean'
        for red in ("mean", "sum", "batchmean"):
            ref = F.kl_div(torch.tensor(np.log(q)), torch.tensor(p), reduction=red).item()
            assert lm.ops.kl_div(lm.tensor(np.log(q)), lm.tensor(p), reduction=red).item() == \
                pytest.approx(ref, rel=1e-10)


def test_heaviside_step_and_zero_gradient():
    x = lm.tensor([-3.0, -1e-30, 0.0, 1e-30, 2.0], requires_grad=True)
    y = lm.heaviside(x)
    np.testing.assert_array_equal(y.numpy(), [0, 0, 1, 1, 1])
    (y * lm.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5, np.float32))


@pytest.mark.parametrize("call,match", [
    (lambda x: lm.softmax(x), "dim"),
    (lambda x: lm.log_softmax(x), "dim"),
    (lambda x: lm.softmax(x, dim=2), "dim 2"),
    (lambda x: lm.ops.gelu(x, approximate="fast"), "fast"),
    (lambda x: lm.ops.hardtanh(x, 1.0, -1.0), "min_val"),
])
def test_activation_argument_errors(call, match):
    with pytest.raises(lm.LaminaValueError, match=match):
        call(lm.randn(2, 3))

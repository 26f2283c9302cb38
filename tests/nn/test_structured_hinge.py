"""The epsilon-smoothed structured hinge of Schwing & Telgarsky, "Deep Neural Networks"
(``F.smooth_structured_hinge_loss``, ``nn.SmoothStructuredHingeLoss``) against its two limits:
cross-entropy (eps = 1, L = 0) and the Crammer-Singer / binary hinge (eps = 0, L = 0-1); its
task losses, gradients, errors, and its values and gradients on a device."""
from __future__ import annotations

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
import lamina.nn.functional as F
from lamina.autograd.gradcheck import gradcheck
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

from tests.nn.margin_helpers import (DTYPES, REDUCTIONS, T3, TOL, X3, compare, compare_on_device,
                                     ramp_to_2, scores_away_from_kinks)
from tests.reference import requires_torch, torch

TF = torch.nn.functional


# ----------------------------------------------------------------- the lecture's structured loss
SSH = F.smooth_structured_hinge_loss


def _crammer_singer(x, t):
    """max(0, 1 + max_{j != y} x_j - x_y) per sample, directly in NumPy."""
    other = np.where(np.arange(x.shape[1]) == t[:, None], -np.inf, x)
    return np.maximum(0.0, 1.0 + other.max(axis=1) - x[np.arange(len(t)), t])


def _lse_loss(x, t, L, eps):
    a = (L[t] + x) / eps
    m = a.max(axis=1, keepdims=True)
    return eps * (m[:, 0] + np.log(np.exp(a - m).sum(axis=1))) - x[np.arange(len(t)), t]


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("form", ["functional", "module"])
def test_eps_one_without_task_loss_is_cross_entropy(form, dtype, reduction, rng):
    x, t = 2 * rng.standard_normal((7, 5)).astype(dtype), rng.integers(0, 5, 7)
    if form == "module":
        ours = nn.SmoothStructuredHingeLoss("zero", 1.0, reduction)
    else:
        ours = lambda a, t: SSH(a, t, task_loss="zero", epsilon=1.0, reduction=reduction)  # noqa: E731
    tol = TOL[dtype]
    r = compare(ours, lambda b, t: TF.cross_entropy(b, t, reduction=reduction), (x,), t, dtype,
                ramp_to_2, rtol=tol["rtol"], atol=tol["atol"], grad_rtol=tol["rtol"],
                grad_atol=tol["atol"])
    assert r.lamina.values[0].dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_eps_zero_with_zero_one_is_the_crammer_singer_hinge(dtype, rng):
    x = scores_away_from_kinks(rng, (8, 4),
                               lambda x: x[:, :, None] - x[:, None, :] + np.eye(4) * 9 - 1)
    x[:3] *= 0.2                     # some samples inside the margin, some beyond it
    t = rng.integers(0, 4, 8)
    a = lm.tensor(x.astype(dtype), requires_grad=True)
    out = SSH(a, lm.tensor(t), epsilon=0, reduction="none")
    expected = _crammer_singer(x.astype(dtype), t)
    assert 0 < np.count_nonzero(expected) < 8
    np.testing.assert_allclose(out.numpy(), expected, **TOL[dtype])
    out.sum().backward()
    other = np.where(np.arange(4) == t[:, None], -np.inf, x)
    grad = np.zeros_like(x)
    active = expected > 0
    grad[np.arange(8), other.argmax(axis=1)] += active
    grad[np.arange(8), t] -= active
    np.testing.assert_array_equal(a.grad.numpy(), grad)
    mean = nn.SmoothStructuredHingeLoss(epsilon=0.0)(lm.tensor(x.astype(dtype)), lm.tensor(t))
    assert mean.item() == pytest.approx(expected.mean(), rel=1e-6)


def test_eps_to_zero_converges_monotonically_within_eps_log_c(rng):
    x, t = 3 * rng.standard_normal((10, 6)), rng.integers(0, 6, 10)
    limit = SSH(lm.tensor(x), lm.tensor(t), epsilon=0.0, reduction="none").numpy()
    previous = None
    for eps in [2.0, 1.0, 0.5, 0.1, 0.01, 1e-3, 1e-6]:
        loss = SSH(lm.tensor(x), lm.tensor(t), epsilon=eps, reduction="none").numpy()
        gap = loss - limit
        assert np.all(gap >= -1e-12) and np.all(gap <= eps * np.log(6) + 1e-12)
        if previous is not None:
            assert np.all(loss <= previous + 1e-12)
        previous = loss
    np.testing.assert_allclose(previous, limit, atol=1e-5)


@requires_torch
def test_two_classes_at_eps_zero_is_the_binary_hinge(rng):
    x = scores_away_from_kinks(rng, (12, 2), lambda x: np.abs(x[:, 1] - x[:, 0]) - 1)
    t = rng.integers(0, 2, 12)
    y, f = 2.0 * t - 1, x[:, 1] - x[:, 0]       # labels in {-1, 1}, score difference
    out = SSH(lm.tensor(x), lm.tensor(t), epsilon=0, reduction="none").numpy()
    np.testing.assert_allclose(out, np.maximum(0.0, 1 - y * f), rtol=1e-12)
    # ... which for two classes is also torch's multi-class hinge times C
    ref = TF.multi_margin_loss(torch.tensor(x), torch.tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(out, 2 * ref, rtol=1e-12)


def test_task_loss_matrix_and_callable(rng):
    x, t = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    L = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    for eps in (0.7, 1.0):
        expected = _lse_loss(x, t, L, eps)
        by_matrix = SSH(lm.tensor(x), lm.tensor(t), task_loss=lm.tensor(L), epsilon=eps,
                        reduction="none")
        by_call = SSH(lm.tensor(x), lm.tensor(t), task_loss=lambda y: L[y.numpy()],
                      epsilon=eps, reduction="none")
        np.testing.assert_allclose(by_matrix.numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(by_call.numpy(), expected, rtol=1e-12)
    zero_one = SSH(lm.tensor(x), lm.tensor(t), "zero_one", 0.5).item()
    assert zero_one == pytest.approx(SSH(lm.tensor(x), lm.tensor(t), 1 - np.eye(3), 0.5).item())
    assert zero_one == pytest.approx(_lse_loss(x, t, 1 - np.eye(3), 0.5).mean())


@pytest.mark.parametrize("eps,task", [(1.0, "zero_one"), (0.3, "zero"), (0.05, "zero_one"),
                                      (0.5, [[0.0, 2.0, 1.0, 0.5]] * 4)])
def test_gradcheck_float64(eps, task, rng):
    x = lm.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = lm.tensor(rng.integers(0, 4, 5))
    task = np.array(task) if isinstance(task, list) else task
    assert gradcheck(lambda s: SSH(s, t, task, eps, "sum"), [x])
    assert gradcheck(lambda s: SSH(s, t, task, eps, "none"), [x])


@requires_torch
def test_vector_input_and_tie_at_eps_zero():
    out = SSH(lm.tensor([2.0, 0.0, -1.0]), lm.tensor(0), "zero")
    ref = TF.cross_entropy(torch.tensor([2.0, 0.0, -1.0]), torch.tensor(0))
    assert out.shape == () and out.item() == pytest.approx(ref.item(), rel=1e-6)
    # margin met exactly (F_y = 1 + F_other): loss 0 and, as max(0, z) at 0, zero gradient
    x = lm.tensor([[1.5, 0.5, -2.0]], requires_grad=True)
    loss = SSH(x, lm.tensor([0]), epsilon=0)
    loss.backward()
    assert loss.item() == 0.0 and np.all(x.grad.numpy() == 0)


def test_tiny_eps_large_scores_stay_finite():
    x = lm.tensor([[500.0, -300.0, 20.0]], dtype=lm.float32, requires_grad=True)
    loss = SSH(x, lm.tensor([1]), epsilon=1e-4)
    loss.backward()
    assert loss.dtype == lm.float32 and loss.item() == pytest.approx(801.0, rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


SSH_BAD = [
    (lambda: SSH(X3, T3, epsilon=-0.5), LaminaValueError, "-0.5"),
    (lambda: nn.SmoothStructuredHingeLoss(epsilon=-1), LaminaValueError, "-1"),
    (lambda: SSH(X3, T3, epsilon=float("nan")), LaminaValueError, "nan"),
    (lambda: SSH(X3, T3, task_loss="hamming"), LaminaValueError, "'hamming'"),
    (lambda: SSH(X3, T3, task_loss=np.ones((2, 2))), ShapeError, r"\(3, 3\)"),
    (lambda: SSH(X3, T3, task_loss=lambda y: np.ones((5, 3))), ShapeError, r"\(5, 3\)"),
    (lambda: SSH(X3, T3, reduction="avg"), LaminaValueError, "'avg'"),
    (lambda: SSH(X3, lm.tensor([0, 3])), LaminaValueError, "index 3"),
    (lambda: SSH(X3, lm.tensor([0.0, 1.0])), LaminaTypeError, "integer"),
    (lambda: SSH(X3, lm.tensor([0])), ShapeError, r"\(2,\)"),
    (lambda: SSH(lm.tensor([[1, 2]]), lm.tensor([0])), LaminaTypeError, "floating"),
]


@pytest.mark.parametrize("call,error,match", SSH_BAD, ids=[f"bad-{i}" for i in range(len(SSH_BAD))])
def test_structured_loss_errors_name_the_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- on a device
def _torch_structured_hinge(scores, target, cost, eps):
    """eps ln sum_c exp((L[y, c] + F_c) / eps) - F_y per sample, written in torch."""
    a = torch.as_tensor(cost, dtype=scores.dtype)[target] + scores
    return eps * torch.logsumexp(a / eps, dim=1) - scores.gather(1, target[:, None])[:, 0]


def _device_structured(cost_name, eps):
    def pair(cuda, reduction):
        cost = 1 - np.eye(4) if cost_name == "zero_one" else np.array([[0.0, 2.0, 1.0, 0.5]] * 4)
        task = "zero_one" if cost_name == "zero_one" else lm.tensor(cost, device=cuda)

        def theirs(x, t):
            per = _torch_structured_hinge(x, t, cost, eps)
            return per if reduction == "none" else getattr(per, reduction)()
        return (lambda x, t: SSH(x, t, task_loss=task, epsilon=eps, reduction=reduction)), theirs
    return pair


@requires_torch
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("cost_name", ["zero_one", "matrix"])
def test_structured_hinge_on_device_match_torch(cost_name, reduction, cuda, rng):
    """The structured hinge with the scores (and the cost matrix) on the 'cuda' device: values
    and input gradients as torch's, every output and gradient on it."""
    x = rng.standard_normal((5, 4))
    inputs, target = (x,), rng.integers(0, 4, 5)
    ours, theirs = _device_structured(cost_name, 0.5)(cuda, reduction)
    compare_on_device(ours, theirs, inputs, target, cuda)

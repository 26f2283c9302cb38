"""Margin losses against torch (values and gradients; functional and module forms; float32 and
float64; every reduction; weights; 1-D and 2-D inputs; PyTorch's subgradient at the kinks), and
the epsilon-smoothed structured hinge of Schwing & Telgarsky against its two limits:
cross-entropy (eps = 1, L = 0) and the Crammer-Singer / binary hinge (eps = 0, L = 0-1)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
import lamina.nn.functional as F
from lamina.autograd.gradcheck import gradcheck
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import ramp

TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


# ----------------------------------------------------------------- data away from the kinks
def _scores(rng, shape, kinks, gap=1e-2):
    """Normal scores redrawn until every kink quantity kinks(x) is at least ``gap`` from 0."""
    while True:
        x = rng.standard_normal(shape)
        if np.all(np.abs(kinks(x)) > gap):
            return x


def _multi_margin_data(rng, shape, margin):
    n, c = (1, shape[0]) if len(shape) == 1 else shape
    t = rng.integers(0, c, n)
    x = _scores(rng, (n, c), lambda x: margin - x[np.arange(n), t][:, None] + x)
    return (x[0], t[0]) if len(shape) == 1 else (x, t)


def _multilabel_data(rng, shape):
    n, c = (1, shape[0]) if len(shape) == 1 else shape
    t = np.full((n, c), -1)
    for i in range(n):
        k = rng.integers(0, c)              # 0 .. c-1 targets, then -1 padding and junk
        t[i, :k] = rng.choice(c, k, replace=False)
        if k < c - 1:
            t[i, k + 1:] = rng.integers(-1, c, c - k - 1)   # after the first -1: ignored
    t[0, :2] = [1, 1] if c > 2 else t[0, :2]                # a repeated target counts twice
    t[0, 2:3] = -1 if c > 2 else t[0, 2:3]
    x = _scores(rng, (n, c), lambda x: 1 - x[:, :, None] + x[:, None, :])
    return (x[0], t[0]) if len(shape) == 1 else (x, t)


def _elementwise_data(rng, kind, shape):
    y = rng.choice([-1.0, 1.0], shape)
    if kind == "hinge":
        return _scores(rng, shape, lambda x: 0.7 - x), y
    if kind == "soft":
        return 2 * rng.standard_normal(shape), y
    x1 = rng.standard_normal(shape)
    x2 = _scores(rng, shape, lambda x2: 0.3 - y * (x1 - x2))
    return (x1, x2), y


def _single(data):
    """(inputs, target) with the one input in a tuple."""
    return (data[0],), data[1]


def _mm(shape, margin=1.0):
    return lambda r: _single(_multi_margin_data(r, shape, margin))


def _ml(shape):
    return lambda r: _single(_multilabel_data(r, shape))


def _ew(kind, shape):
    return lambda r: _single(_elementwise_data(r, kind, shape))


W4 = [0.5, 2.0, 1.0, 1.5]
# (name, kwargs of both the function and the module, data(rng) -> (inputs tuple, target))
CASES = [
    ("multi_margin_loss", {}, _mm((6, 4))),
    ("multi_margin_loss", {"p": 2, "margin": 0.7}, _mm((5, 3), 0.7)),
    ("multi_margin_loss", {"weight": W4}, _mm((6, 4))),
    ("multi_margin_loss", {"p": 2, "weight": W4}, _mm((6, 4))),
    ("multi_margin_loss", {}, _mm((5,))),
    ("multilabel_margin_loss", {}, _ml((5, 4))),
    ("multilabel_margin_loss", {}, _ml((6,))),
    ("hinge_embedding_loss", {"margin": 0.7}, _ew("hinge", (4, 3))),
    ("hinge_embedding_loss", {"margin": 0.7}, _ew("hinge", (7,))),
    ("soft_margin_loss", {}, _ew("soft", (4, 3))),
    ("margin_ranking_loss", {"margin": 0.3}, lambda r: _elementwise_data(r, "rank", (4, 3))),
    ("margin_ranking_loss", {"margin": 0.3}, lambda r: _elementwise_data(r, "rank", (6,))),
]
MODULES = {"multi_margin_loss": "MultiMarginLoss", "multilabel_margin_loss": "MultiLabelMarginLoss",
           "hinge_embedding_loss": "HingeEmbeddingLoss", "soft_margin_loss": "SoftMarginLoss",
           "margin_ranking_loss": "MarginRankingLoss"}


def _kw(kwargs, make, dtype):
    return {k: make(np.array(v, dtype)) if isinstance(v, list) else v for k, v in kwargs.items()}


def _compare(ours, theirs, inputs, target, dtype, cotangent, **tolerance):
    """check_against_torch on (*inputs, target) in ``dtype``; the inputs require grad, the
    target does not."""
    target = np.asarray(target)
    target = target.astype(dtype) if target.dtype.kind == "f" else target
    return check_against_torch(ours, theirs, *[np.asarray(x, dtype) for x in inputs], target,
                               grad=[True] * len(inputs) + [False], cotangent=cotangent, **tolerance)


def _ramp_to_2(shape, dtype):
    return ramp(shape, dtype, 0.5, 2.0)


@requires_torch
@pytest.mark.parametrize("form", ["functional", "module"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", range(len(CASES)),
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_margin_loss_matches_torch(case, dtype, reduction, form, rng):
    name, kwargs, data = CASES[case]
    inputs, target = data(rng)
    ours_kw, theirs_kw = _kw(kwargs, lm.tensor, dtype), _kw(kwargs, torch.tensor, dtype)
    if form == "functional":
        ours = lambda *a: getattr(F, name)(*a, reduction=reduction, **ours_kw)  # noqa: E731
        theirs = lambda *a: getattr(TF, name)(*a, reduction=reduction, **theirs_kw)  # noqa: E731
    else:
        ours = getattr(nn, MODULES[name])(reduction=reduction, **ours_kw)
        theirs = getattr(torch.nn, MODULES[name])(reduction=reduction, **theirs_kw)
    tol = TOL[dtype]
    r = _compare(ours, theirs, inputs, target, dtype, _ramp_to_2, rtol=tol["rtol"], atol=tol["atol"],
                 grad_rtol=tol["rtol"], grad_atol=tol["atol"])
    assert r.lamina.values[0].dtype == dtype


@requires_torch
def test_margin_ranking_target_gradient_matches_torch(rng):
    (x1, x2), y = _elementwise_data(rng, "rank", (5,))
    check_against_torch(lambda *a: F.margin_ranking_loss(*a, margin=0.3),
                        lambda *a: TF.margin_ranking_loss(*a, margin=0.3), x1, x2, y,
                        cotangent="ones", rtol=1e-12, atol=0, grad_rtol=1e-12, grad_atol=0)


@requires_torch
def test_multi_margin_zero_dim_target_for_a_vector():
    x = [0.1, 0.2, 0.4, 0.8]
    for t in ([3], 3):
        out = F.multi_margin_loss(lm.tensor(x), lm.tensor(t), reduction="none")
        ref = TF.multi_margin_loss(torch.tensor(x), torch.tensor(t), reduction="none")
        assert out.shape == tuple(ref.shape)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


# ----------------------------------------------------------------- subgradients at the kinks
KINKS = [   # (name, inputs, target, kwargs): a violation exactly 0 somewhere, in exact binary
    ("multi_margin_loss", ([[0.0, 1.0, 0.25], [0.5, -0.5, 0.5]],), [1, 0], {}),
    ("multi_margin_loss", ([[0.0, 1.0, 0.25], [0.5, -0.5, 0.5]],), [1, 0], {"p": 2}),
    ("multilabel_margin_loss", ([[0.0, 1.0, 0.25], [0.5, -0.5, 0.5]],), [[1, -1, -1], [0, 2, -1]], {}),
    ("hinge_embedding_loss", ([1.0, 0.5, 2.0, 1.0],), [-1.0, -1.0, 1.0, 0.5], {}),
    ("margin_ranking_loss", ([0.5, 1.0, 0.25], [0.5, 0.25, 0.75]), [1.0, -1.0, 1.0], {"margin": 0.0}),
    ("margin_ranking_loss", ([0.75, 1.0], [0.25, 0.5]), [1.0, -1.0], {"margin": 0.5}),
]


@requires_torch
@pytest.mark.parametrize("name,inputs,target,kwargs", KINKS, ids=[k[0] for k in KINKS])
def test_subgradient_at_the_kink_is_torchs(name, inputs, target, kwargs):
    _compare(lambda *a: getattr(F, name)(*a, reduction="sum", **kwargs),
             lambda *a: getattr(TF, name)(*a, reduction="sum", **kwargs), inputs, target,
             np.float64, "ones", rtol=1e-6, atol=1e-12, grad_rtol=0, grad_atol=0)


# ----------------------------------------------------------------- options and errors
@requires_torch
def test_multi_margin_weight_is_a_buffer_like_torch():
    ours = nn.MultiMarginLoss(weight=lm.tensor([1.0, 2.0, 3.0]))
    theirs = torch.nn.MultiMarginLoss(weight=torch.tensor([1.0, 2.0, 3.0]))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert len(list(ours.parameters())) == 0
    assert nn.MultiMarginLoss().weight is None


@requires_torch
@pytest.mark.filterwarnings("ignore:size_average and reduce:UserWarning")
@pytest.mark.parametrize("size_average,reduce", [(False, None), (True, False), (None, False)])
def test_legacy_size_average_and_reduce(size_average, reduce, rng):
    x, t = _multi_margin_data(rng, (4, 3), 1.0)
    out = F.multi_margin_loss(lm.tensor(x), lm.tensor(t), size_average=size_average, reduce=reduce)
    ref = TF.multi_margin_loss(torch.tensor(x), torch.tensor(t), size_average=size_average,
                               reduce=reduce)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    for cls in MODULES.values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            expected = getattr(torch.nn, cls)(size_average=size_average, reduce=reduce).reduction
        assert getattr(nn, cls)(size_average=size_average, reduce=reduce).reduction == expected


X3, T3 = lm.randn(2, 3), lm.tensor([0, 2])
BAD = [
    (lambda: F.multi_margin_loss(X3, T3, reduction="avg"), LaminaValueError, "'avg'"),
    (lambda: F.multilabel_margin_loss(X3, lm.tensor([[0, -1, 1], [1, 2, -1]]), reduction="max"), LaminaValueError, "'max'"),
    (lambda: F.hinge_embedding_loss(lm.randn(3), lm.ones(3), reduction="x"), LaminaValueError, "'x'"),
    (lambda: F.soft_margin_loss(lm.randn(3), lm.ones(3), reduction="x"), LaminaValueError, "'x'"),
    (lambda: F.margin_ranking_loss(lm.randn(3), lm.randn(3), lm.ones(3), reduction="x"), LaminaValueError, "'x'"),
    (lambda: nn.MarginRankingLoss(reduction="batchmean"), LaminaValueError, "batchmean"),
    (lambda: F.multi_margin_loss(X3, T3, p=3), LaminaValueError, "p must be 1 or 2, got 3"),
    (lambda: nn.MultiMarginLoss(p=0), LaminaValueError, "got 0"),
    (lambda: F.multi_margin_loss(X3, lm.tensor([0, 1, 2])), ShapeError, r"\(2,\)"),
    (lambda: F.multi_margin_loss(lm.randn(3), lm.tensor([0, 1])), ShapeError, r"\(1,\)"),
    (lambda: F.multi_margin_loss(lm.randn(2, 3, 4), T3), ShapeError, r"\(2, 3, 4\)"),
    (lambda: F.multi_margin_loss(X3, lm.tensor([0, 3])), LaminaValueError, "index 3"),
    (lambda: F.multi_margin_loss(X3, lm.tensor([0.0, 1.0])), LaminaTypeError, "integer"),
    (lambda: F.multi_margin_loss(X3, T3, weight=lm.ones(2)), ShapeError, r"\(3,\)"),
    (lambda: F.multilabel_margin_loss(X3, T3), ShapeError, r"\(2, 3\)"),
    (lambda: F.multilabel_margin_loss(X3, lm.tensor([[0, -2, 1], [1, 2, -1]])), LaminaValueError, "-2"),
    (lambda: F.multilabel_margin_loss(X3, lm.tensor([[0, -1, 7], [1, 2, -1]])), LaminaValueError, "7"),
    (lambda: F.hinge_embedding_loss(lm.randn(3, 2), lm.ones(2)), ShapeError, r"\(2,\)"),
    (lambda: F.soft_margin_loss(lm.randn(3, 2), lm.ones(3)), ShapeError, r"\(3,\)"),
    (lambda: F.margin_ranking_loss(lm.randn(3), lm.randn(3), lm.ones(1)), ShapeError, r"\(1,\)"),
    (lambda: F.soft_margin_loss(lm.randn(3), lm.ones(3, requires_grad=True)), LaminaValueError, "target"),
]


@pytest.mark.parametrize("call,error,match", BAD, ids=[f"bad-{i}" for i in range(len(BAD))])
def test_bad_arguments_name_the_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


@requires_torch
def test_torch_rejects_the_same_targets():
    with pytest.raises((RuntimeError, ValueError)):
        TF.multi_margin_loss(torch.randn(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError):
        TF.multi_margin_loss(torch.randn(2, 3), torch.tensor([0, 2]), p=3)
    with pytest.raises(RuntimeError):
        TF.multilabel_margin_loss(torch.randn(2, 3), torch.tensor([[0, -2, 1], [1, 2, -1]]))


def test_soft_margin_does_not_overflow():
    out = F.soft_margin_loss(lm.tensor([-800.0, 800.0]), lm.tensor([1.0, -1.0]), reduction="none")
    np.testing.assert_allclose(out.numpy(), [800.0, 800.0])


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
    r = _compare(ours, lambda b, t: TF.cross_entropy(b, t, reduction=reduction), (x,), t, dtype,
                 _ramp_to_2, rtol=tol["rtol"], atol=tol["atol"], grad_rtol=tol["rtol"],
                 grad_atol=tol["atol"])
    assert r.lamina.values[0].dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_eps_zero_with_zero_one_is_the_crammer_singer_hinge(dtype, rng):
    x = _scores(rng, (8, 4), lambda x: x[:, :, None] - x[:, None, :] + np.eye(4) * 9 - 1)
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
    x = _scores(rng, (12, 2), lambda x: np.abs(x[:, 1] - x[:, 0]) - 1)
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


def test_names_are_exported():
    for name in MODULES.values():
        assert name in nn.__all__ and name in nn.losses.__all__
    assert "SmoothStructuredHingeLoss" in nn.__all__
    for name in list(MODULES) + ["smooth_structured_hinge_loss"]:
        assert name in F.__all__ and callable(getattr(F, name))


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


DEVICE_CASES = [CASES[0], CASES[1], CASES[3], CASES[4], CASES[5], CASES[7], CASES[9], CASES[10]]


@requires_torch
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("case", range(len(DEVICE_CASES) + 2),
                         ids=[c[0] for c in DEVICE_CASES] + ["structured-zero_one", "structured-matrix"])
def test_margin_losses_on_device_match_torch(case, reduction, cuda, rng):
    """A handful of the cases above with the tensors (and class weights, cost matrices) on the
    'cuda' device: values and input gradients as torch's, every output and gradient on it."""
    if case < len(DEVICE_CASES):
        name, kwargs, data = DEVICE_CASES[case]
        inputs, target = data(rng)
        ours_kw = _kw(kwargs, lambda a: lm.tensor(a, device=cuda), np.float32)
        theirs_kw = _kw(kwargs, torch.tensor, np.float32)
        ours = lambda *a: getattr(F, name)(*a, reduction=reduction, **ours_kw)  # noqa: E731
        theirs = lambda *a: getattr(TF, name)(*a, reduction=reduction, **theirs_kw)  # noqa: E731
    else:
        x = rng.standard_normal((5, 4))
        inputs, target = (x,), rng.integers(0, 4, 5)
        ours, theirs = _device_structured(("zero_one", "matrix")[case - len(DEVICE_CASES)], 0.5)(
            cuda, reduction)
    target = np.asarray(target)
    target = target.astype(np.float32) if target.dtype.kind == "f" else target
    r = check_against_torch(ours, theirs, *[np.asarray(x, np.float32) for x in inputs], target,
                            grad=[True] * len(inputs) + [False], cotangent=_ramp_to_2,
                            rtol=2e-5, atol=2e-6, grad_rtol=2e-5, grad_atol=2e-6, device=cuda)
    assert r.lamina.values[0].dtype == np.float32


@requires_torch
def test_margin_ranking_target_gradient_on_device(cuda, rng):
    (x1, x2), y = _elementwise_data(rng, "rank", (6,))
    check_against_torch(lambda *a: F.margin_ranking_loss(*a, margin=0.3),
                        lambda *a: TF.margin_ranking_loss(*a, margin=0.3), x1, x2, y,
                        dtype=np.float32, cotangent="ones", rtol=1e-6, atol=1e-7,
                        grad_rtol=1e-6, grad_atol=1e-7, device=cuda)


def test_margin_loss_weight_on_another_device_is_refused(checking_cuda):
    x = lm.tensor([[0.1, 0.2, 0.4]], device="cuda")
    with pytest.raises(LaminaValueError, match="same device"):
        F.multi_margin_loss(x, lm.tensor([2], device="cuda"), weight=lm.tensor([1.0, 2.0, 3.0]))

"""Margin losses against torch (values and gradients; functional and module forms; float32 and
float64; every reduction; weights; 1-D and 2-D inputs; PyTorch's subgradient at the kinks).
The epsilon-smoothed structured hinge of Schwing & Telgarsky is tested in
test_structured_hinge.py."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
import lamina.nn.functional as F
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

from tests.nn.margin_helpers import (DTYPES, REDUCTIONS, T3, TOL, X3, compare, compare_on_device,
                                     ramp_to_2, scores_away_from_kinks)
from tests.reference import check_against_torch, requires_torch, torch

TF = torch.nn.functional


# ----------------------------------------------------------------- data away from the kinks
def _multi_margin_data(rng, shape, margin):
    n, c = (1, shape[0]) if len(shape) == 1 else shape
    t = rng.integers(0, c, n)
    x = scores_away_from_kinks(rng, (n, c), lambda x: margin - x[np.arange(n), t][:, None] + x)
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
    x = scores_away_from_kinks(rng, (n, c), lambda x: 1 - x[:, :, None] + x[:, None, :])
    return (x[0], t[0]) if len(shape) == 1 else (x, t)


def _elementwise_data(rng, kind, shape):
    y = rng.choice([-1.0, 1.0], shape)
    if kind == "hinge":
        return scores_away_from_kinks(rng, shape, lambda x: 0.7 - x), y
    if kind == "soft":
        return 2 * rng.standard_normal(shape), y
    x1 = rng.standard_normal(shape)
    x2 = scores_away_from_kinks(rng, shape, lambda x2: 0.3 - y * (x1 - x2))
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
    r = compare(ours, theirs, inputs, target, dtype, ramp_to_2, rtol=tol["rtol"], atol=tol["atol"],
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
    compare(lambda *a: getattr(F, name)(*a, reduction="sum", **kwargs),
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


def test_names_are_exported():
    for name in MODULES.values():
        assert name in nn.__all__ and name in nn.losses.__all__
    assert "SmoothStructuredHingeLoss" in nn.__all__
    for name in list(MODULES) + ["smooth_structured_hinge_loss"]:
        assert name in F.__all__ and callable(getattr(F, name))


# ----------------------------------------------------------------- on a device
DEVICE_CASES = [CASES[0], CASES[1], CASES[3], CASES[4], CASES[5], CASES[7], CASES[9], CASES[10]]


@requires_torch
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("case", range(len(DEVICE_CASES)), ids=[c[0] for c in DEVICE_CASES])
def test_margin_losses_on_device_match_torch(case, reduction, cuda, rng):
    """A handful of the cases above with the tensors (and class weights) on the 'cuda' device:
    values and input gradients as torch's, every output and gradient on it."""
    name, kwargs, data = DEVICE_CASES[case]
    inputs, target = data(rng)
    ours_kw = _kw(kwargs, lambda a: lm.tensor(a, device=cuda), np.float32)
    theirs_kw = _kw(kwargs, torch.tensor, np.float32)
    ours = lambda *a: getattr(F, name)(*a, reduction=reduction, **ours_kw)  # noqa: E731
    theirs = lambda *a: getattr(TF, name)(*a, reduction=reduction, **theirs_kw)  # noqa: E731
    compare_on_device(ours, theirs, inputs, target, cuda)


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

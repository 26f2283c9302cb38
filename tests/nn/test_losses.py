"""Loss modules against torch.nn's classes (same constructor arguments, values and gradients),
their buffers, and every bad-target error of the loss functions."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import ramp

tnn = torch.nn


def _probs(rng, shape, axis=-1):
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


def _data(rng, kind):
    """(input, target) arrays for each kind of loss; the input is float32 and requires grad."""
    if kind == "indices":
        return rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    if kind == "indices_ignored":
        return rng.standard_normal((6, 4)), np.array([0, -100, 3, 1, 1, 3])
    if kind == "indices_2d":
        return rng.standard_normal((2, 4, 3, 3)), rng.integers(0, 4, (2, 3, 3))
    if kind == "probs":
        return rng.standard_normal((5, 4)), _probs(rng, (5, 4))
    if kind == "log_probs":
        return np.log(_probs(rng, (6, 4))), rng.integers(0, 4, 6)
    if kind == "regression":
        x = rng.standard_normal((4, 3))
        return x, x + rng.choice([-1, 1], (4, 3)) * rng.uniform(0.2, 2.0, (4, 3))
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    if kind == "logits":
        return 3 * rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))
    if kind == "kl":
        return np.log(_probs(rng, (4, 5))), _probs(rng, (4, 5))
    if kind == "kl_log":
        return np.log(_probs(rng, (4, 5))), np.log(_probs(rng, (4, 5)))
    raise AssertionError(kind)


W4 = [0.5, 2.0, 1.0, 1.5]
# (lamina class name, torch class, kwargs, kind); tensors in kwargs are given as lists.
CASES = [
    ("CrossEntropyLoss", {}, "indices"),
    ("CrossEntropyLoss", {"reduction": "sum", "label_smoothing": 0.15}, "indices"),
    ("CrossEntropyLoss", {"weight": W4, "ignore_index": -100}, "indices_ignored"),
    ("CrossEntropyLoss", {"weight": W4, "reduction": "none", "label_smoothing": 0.1}, "indices_2d"),
    ("CrossEntropyLoss", {"ignore_index": 1}, "indices"),
    ("CrossEntropyLoss", {"label_smoothing": 0.2}, "probs"),
    ("NLLLoss", {}, "log_probs"),
    ("NLLLoss", {"weight": W4, "reduction": "sum"}, "log_probs"),
    ("MSELoss", {}, "regression"),
    ("MSELoss", {"reduction": "none"}, "regression"),
    ("L1Loss", {"reduction": "sum"}, "regression"),
    ("SmoothL1Loss", {"beta": 0.5}, "regression"),
    ("HuberLoss", {"delta": 0.7, "reduction": "sum"}, "regression"),
    ("BCELoss", {}, "probabilities"),
    ("BCELoss", {"weight": [[1.0, 2.0, 0.5]], "reduction": "none"}, "probabilities"),
    ("BCEWithLogitsLoss", {}, "logits"),
    ("BCEWithLogitsLoss", {"pos_weight": [1.0, 3.0, 0.5], "weight": [[2.0, 1.0, 1.0]]}, "logits"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, "kl_log"),
    ("KLDivLoss", {}, "kl"),
]


def _kwargs(kwargs, make):
    return {k: make(np.array(v, np.float32)) if isinstance(v, list) else v for k, v in kwargs.items()}


@requires_torch
@pytest.mark.parametrize("name,kwargs,kind", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_loss_module_matches_torch(name, kwargs, kind, rng):
    x, t = _data(rng, kind)
    x = x.astype(np.float32)
    t = t.astype(np.float32) if t.dtype.kind == "f" else t
    ours = getattr(nn, name)(**_kwargs(kwargs, lm.tensor))
    theirs = getattr(tnn, name)(**_kwargs(kwargs, torch.tensor))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch's note on KLDivLoss 'mean'
        r = check_against_torch(ours, theirs, x, t, grad=(True, False),
                                cotangent=lambda shape, dtype: ramp(shape, dtype, 0.5, 2.0),
                                rtol=1e-5, atol=1e-6, grad_rtol=1e-4, grad_atol=1e-6)
    assert r.lamina.values[0].dtype == np.float32


@requires_torch
@pytest.mark.parametrize("name,buffers", [
    ("CrossEntropyLoss", ["weight"]), ("NLLLoss", ["weight"]), ("BCELoss", ["weight"]),
    ("BCEWithLogitsLoss", ["weight", "pos_weight"]),
])
def test_weights_are_buffers_like_torch(name, buffers):
    kwargs = {b: [1.0, 2.0, 3.0] for b in buffers}
    ours = getattr(nn, name)(**_kwargs(kwargs, lm.tensor))
    theirs = getattr(tnn, name)(**_kwargs(kwargs, torch.tensor))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == buffers
    assert len(list(ours.parameters())) == 0
    for b in buffers:
        np.testing.assert_array_equal(getattr(ours, b).numpy(), [1.0, 2.0, 3.0])
    assert getattr(nn, name)().weight is None


def test_quadratic_loss_module_is_the_lecture_cost(rng):
    """C = 1/(2n) sum_x ||y(x) - a||^2, and dC/da = (a - y) / n."""
    a = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 3))
    out = lm.tensor(a, requires_grad=True)
    cost = nn.QuadraticLoss()(out, lm.tensor(y))
    cost.backward()
    assert cost.item() == pytest.approx(np.sum((y - a) ** 2) / (2 * 5), rel=1e-6)
    np.testing.assert_allclose(out.grad.numpy(), (a - y) / 5, rtol=1e-5)
    per_sample = nn.QuadraticLoss(reduction="none")(lm.tensor(a), lm.tensor(y))
    np.testing.assert_allclose(per_sample.numpy(), 0.5 * np.sum((a - y) ** 2, axis=1), rtol=1e-5)
    total = nn.QuadraticLoss(reduction="sum")(lm.tensor(a), lm.tensor(y))
    assert total.item() == pytest.approx(0.5 * np.sum((a - y) ** 2), rel=1e-5)


@requires_torch
@pytest.mark.filterwarnings("ignore:size_average and reduce:UserWarning")
@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, None, "mean"), (False, None, "sum"), (True, False, "none"), (None, False, "none")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    assert nn.MSELoss(size_average=size_average, reduce=reduce).reduction == expected
    assert tnn.MSELoss(size_average=size_average, reduce=reduce).reduction == expected


# ----------------------------------------------------------------- bad targets
ELEMENTWISE = [lm.ops.mse_loss, lm.ops.l1_loss, lm.ops.quadratic_loss, lm.ops.binary_cross_entropy,
               lm.binary_cross_entropy_with_logits, lm.ops.smooth_l1_loss, lm.ops.huber_loss, lm.ops.kl_div]


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=lambda f: f.__name__)
def test_no_silent_broadcast_of_targets(fn):
    x = lm.full((4, 1), 0.5)
    with pytest.raises(ShapeError, match=r"\(4, 1\).*\(4,\)"):
        fn(x, lm.full((4,), 0.5))


@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.QuadraticLoss, nn.BCELoss,
                                 nn.BCEWithLogitsLoss, nn.KLDivLoss])
def test_modules_reject_mismatched_shapes(cls):
    with pytest.raises(ShapeError, match=r"\(3, 1\).*\(3,\)"):
        cls()(lm.full((3, 1), 0.5), lm.full((3,), 0.5))


@pytest.mark.parametrize("fn", [lm.ops.cross_entropy, lm.ops.nll_loss], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [4, 7, -1, -5])
def test_class_index_out_of_range(fn, bad):
    with pytest.raises(LaminaValueError, match=rf"index {bad}\b.*4 classes"):
        fn(lm.randn(3, 4), lm.tensor([0, bad, 1]))


def test_ignore_index_is_not_out_of_range():
    x = lm.randn(3, 4)
    assert np.isfinite(lm.ops.cross_entropy(x, lm.tensor([0, -100, 1])).item())
    assert np.isfinite(lm.ops.cross_entropy(x, lm.tensor([0, 9, 1]), ignore_index=9).item())
    with pytest.raises(LaminaValueError, match="index -100"):
        lm.ops.cross_entropy(x, lm.tensor([0, -100, 1]), ignore_index=9)


@pytest.mark.parametrize("fn", [lm.ops.cross_entropy, lm.ops.nll_loss], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 5)])
def test_float_class_indices_are_a_type_error(fn, shape):
    x = lm.randn(*shape)
    target_shape = shape[:1] + shape[2:]
    with pytest.raises(LaminaTypeError, match="integer"):
        fn(x, lm.zeros(*target_shape))


@pytest.mark.parametrize("fn", [lm.ops.cross_entropy, lm.ops.nll_loss], ids=lambda f: f.__name__)
@pytest.mark.parametrize("x_shape,t_shape", [((3, 4), (5,)), ((3, 4), (3, 4)), ((2, 4, 5), (2, 4)),
                                             ((4,), (1,))])
def test_wrong_index_target_shape(fn, x_shape, t_shape):
    with pytest.raises(ShapeError) as info:
        fn(lm.randn(*x_shape), lm.zeros(*t_shape, dtype=lm.int64))
    assert str(x_shape) in str(info.value) and str(t_shape) in str(info.value)


def test_cross_entropy_class_module_errors():
    with pytest.raises(LaminaValueError, match="index 3"):
        nn.CrossEntropyLoss()(lm.randn(2, 3), lm.tensor([0, 3]))
    with pytest.raises(LaminaTypeError):
        nn.CrossEntropyLoss()(lm.randn(2, 3), lm.tensor([0.0, 1.0]))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        nn.CrossEntropyLoss(weight=lm.ones(4))(lm.randn(2, 3), lm.tensor([0, 1]))


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bce_rejects_non_probabilities(bad):
    x = lm.tensor([0.2, bad, 0.7])
    with pytest.raises(LaminaValueError, match="probabilities"):
        lm.ops.binary_cross_entropy(x, lm.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(LaminaValueError, match="probabilities"):
        nn.BCELoss()(x, lm.tensor([0.0, 1.0, 1.0]))


LOSS_CALLS = {
    "cross_entropy": lambda r: lm.ops.cross_entropy(lm.randn(2, 3), lm.tensor([0, 1]), reduction=r),
    "nll_loss": lambda r: lm.ops.nll_loss(lm.randn(2, 3), lm.tensor([0, 1]), reduction=r),
    "mse_loss": lambda r: lm.ops.mse_loss(lm.randn(2), lm.randn(2), reduction=r),
    "quadratic_loss": lambda r: lm.ops.quadratic_loss(lm.randn(2), lm.randn(2), reduction=r),
    "kl_div": lambda r: lm.ops.kl_div(lm.randn(2), lm.rand(2), reduction=r),
    "CrossEntropyLoss": lambda r: nn.CrossEntropyLoss(reduction=r),
    "BCEWithLogitsLoss": lambda r: nn.BCEWithLogitsLoss(reduction=r),
}
BAD_REDUCTIONS = [(name, r) for name in LOSS_CALLS for r in ("avg", "batchmean", "Mean")
                  if not (name == "kl_div" and r == "batchmean")]


@pytest.mark.parametrize("name,reduction", BAD_REDUCTIONS)
def test_unknown_reduction(name, reduction):
    with pytest.raises(LaminaValueError, match=repr(reduction)):
        LOSS_CALLS[name](reduction)


def test_batchmean_only_for_kl_div():
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(LaminaValueError, match="batchmean"):
        lm.ops.mse_loss(lm.randn(2), lm.randn(2), reduction="batchmean")


@pytest.mark.parametrize("call,error,match", [
    (lambda: lm.ops.cross_entropy(lm.randn(2, 3), lm.tensor([0, 1]), label_smoothing=1.5), LaminaValueError, "1.5"),
    (lambda: lm.ops.smooth_l1_loss(lm.randn(2), lm.randn(2), beta=-1.0), LaminaValueError, "beta"),
    (lambda: lm.ops.huber_loss(lm.randn(2), lm.randn(2), delta=0.0), LaminaValueError, "delta"),
    (lambda: lm.binary_cross_entropy_with_logits(lm.randn(2, 3), lm.rand(2, 3), pos_weight=lm.ones(2)),
     ShapeError, "pos_weight"),
    (lambda: lm.ops.cross_entropy(lm.tensor(1.0), lm.tensor(0)), ShapeError, "class dimension"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@requires_torch
def test_one_hot():
    t = lm.tensor([[0, 2], [1, 0]])
    out = lm.ops.one_hot(t, 4)
    ref = torch.nn.functional.one_hot(torch.tensor([[0, 2], [1, 0]]), 4)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(lm.ops.one_hot(lm.tensor([0, 2])).numpy(), np.eye(3, dtype=int)[[0, 2]])
    with pytest.raises(LaminaValueError, match="5"):
        lm.ops.one_hot(lm.tensor([0, 5]), 4)
    with pytest.raises(LaminaValueError, match="-1"):
        lm.ops.one_hot(lm.tensor([0, -1]), 4)
    with pytest.raises(LaminaTypeError):
        lm.ops.one_hot(lm.tensor([0.0, 1.0]), 4)

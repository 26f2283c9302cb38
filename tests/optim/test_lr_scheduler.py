"""lamina.optim.lr_scheduler against torch.optim.lr_scheduler, InverseTimeLR against its formula."""
import math

import numpy as np
import pytest

import lamina as lm
from lamina.errors import LaminaTypeError, LaminaValueError
from lamina.optim import lr_scheduler

from tests.reference import requires_torch, torch

STEPS = 30
LRS = (0.1, 0.05)  # two groups with different starting rates


def _halving(k):
    return 0.5 ** (k // 4)


# (id, class name, positional/keyword arguments); lambdas are shared by both libraries.
CASES = [
    ("lambda", "LambdaLR", dict(lr_lambda=lambda k: 0.95 ** k)),
    ("lambda-per-group", "LambdaLR", dict(lr_lambda=[lambda k: 1 / (k + 1), _halving])),
    ("step", "StepLR", dict(step_size=7, gamma=0.5)),
    ("step-default-gamma", "StepLR", dict(step_size=3)),
    ("multistep", "MultiStepLR", dict(milestones=[5, 12, 12, 20], gamma=0.3)),
    ("exponential", "ExponentialLR", dict(gamma=0.9)),
    ("cosine", "CosineAnnealingLR", dict(T_max=10)),
    ("cosine-eta-min", "CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
]
CASE_IDS = [case[0] for case in CASES]


def _optimizer():
    """lamina's SGD over two groups with the rates LRS."""
    a, b = lm.tensor([1.0], requires_grad=True), lm.tensor([1.0], requires_grad=True)
    return lm.optim.SGD([{"params": [a], "lr": LRS[0]}, {"params": [b], "lr": LRS[1]}], lr=1.0)


def _optimizers():
    """lamina's and torch's SGD over two groups with the rates LRS."""
    ta, tb = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([{"params": [ta], "lr": LRS[0]}, {"params": [tb], "lr": LRS[1]}], lr=1.0)
    return _optimizer(), topt


def _schedule(opt, sched, steps):
    rates = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr())
        assert rates[-1] == [group["lr"] for group in opt.param_groups]
    return np.array(rates)


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch(case):
    _, name, kwargs = case
    opt, topt = _optimizers()
    ours = _schedule(opt, getattr(lr_scheduler, name)(opt, **kwargs), STEPS)
    theirs = _schedule(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), STEPS)
    assert ours.shape == (STEPS + 1, 2)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


@requires_torch
@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.01)])
def test_cosine_recursion_matches_closed_form(T_max, eta_min):
    """PyTorch's recursive rates agree with the closed form to 1e-12, and so do lamina's."""
    opt, topt = _optimizers()
    ours = _schedule(opt, lr_scheduler.CosineAnnealingLR(opt, T_max, eta_min), STEPS)
    theirs = _schedule(topt, torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max, eta_min), STEPS)
    k = np.arange(STEPS + 1)[:, None]
    closed = eta_min + (np.array(LRS) - eta_min) * (1 + np.cos(np.pi * k / T_max)) / 2
    np.testing.assert_allclose(theirs, closed, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, closed, rtol=0, atol=1e-12)


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("offset", [1, 10])
def test_inverse_time_follows_its_formula(power, offset):
    opt = _optimizer()
    rates = _schedule(opt, lr_scheduler.InverseTimeLR(opt, power=power, offset=offset), STEPS)
    k = np.arange(STEPS + 1)[:, None]
    np.testing.assert_allclose(rates, np.array(LRS) / (k + offset) ** power, rtol=1e-15, atol=0)


@pytest.mark.parametrize("power, alpha", [(1.0, lambda n: 1 / n), (0.5, lambda n: 1 / math.sqrt(n))])
def test_inverse_time_gives_the_lecture_step_sizes(power, alpha):
    """With lr=1 the n-th optimiser step (n = 1, 2, ...) uses alpha^(n) = 1/n or 1/sqrt(n)."""
    w = lm.tensor([0.0], requires_grad=True)
    opt = lm.optim.SGD([w], lr=1.0)
    sched = lr_scheduler.InverseTimeLR(opt, power=power)
    for n in range(1, 11):
        before = w.item()
        w.grad = lm.tensor([-1.0])  # gradient -1: the step equals alpha^(n)
        opt.step()
        sched.step()
        assert w.item() - before == pytest.approx(alpha(n), rel=1e-6)


@pytest.mark.parametrize("case", CASES + [("inverse-time", "InverseTimeLR", dict(power=0.5))],
                         ids=CASE_IDS + ["inverse-time"])
def test_state_dict_resume(case, tmp_path):
    _, name, kwargs = case
    opt = _optimizer()
    full = _schedule(opt, getattr(lr_scheduler, name)(opt, **kwargs), STEPS)

    opt = _optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    _schedule(opt, sched, 12)
    lm.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "s.safetensors")
    saved = lm.load(tmp_path / "s.safetensors")

    fresh = _optimizer()
    resumed = getattr(lr_scheduler, name)(fresh, **kwargs)  # before load_state_dict, as in torch
    fresh.load_state_dict(saved["optimizer"])
    resumed.load_state_dict(saved["scheduler"])
    assert resumed.last_epoch == 12
    rest = _schedule(fresh, resumed, STEPS - 12)
    np.testing.assert_array_equal(rest, full[12:])


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = _optimizer()
    with pytest.raises(LaminaValueError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=5)
    lr_scheduler.StepLR(opt, step_size=2)
    sched = lr_scheduler.StepLR(opt, step_size=2, last_epoch=5)  # initial_lr is there now
    assert sched.last_epoch == 6 and sched.base_lrs == list(LRS)


@pytest.mark.parametrize("make, error, shown", [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), LaminaValueError, "0"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=-0.5), LaminaValueError, "-0.5"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), LaminaValueError, "0"),
    (lambda opt: lr_scheduler.InverseTimeLR(opt, power=-1.0), LaminaValueError, "-1.0"),
    (lambda opt: lr_scheduler.InverseTimeLR(opt, offset=0), LaminaValueError, "offset"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda k: 1.0]), LaminaValueError, "2"),
    (lambda opt: lr_scheduler.LambdaLR(opt, 3.0), LaminaTypeError, "callable"),
    (lambda opt: lr_scheduler.StepLR(object(), step_size=1), LaminaTypeError, "Optimizer"),
])
def test_bad_arguments_raise(make, error, shown):
    opt = _optimizer()
    with pytest.raises(error, match=shown):
        make(opt)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", patience=1, factor=0.5),
                                    dict(patience=2, cooldown=2, min_lr=0.004),
                                    dict(threshold_mode="abs", threshold=0.05, patience=0)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.51, 0.52, 0.53, 0.54, 0.55] * 3
    ours = lm.optim.SGD([lm.zeros(1, requires_grad=True)], lr=0.1)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    s = lm.optim.lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    for m in metrics:
        s.step(lm.tensor(m))
        t.step(m)
        assert s.get_last_lr() == pytest.approx(t.get_last_lr(), rel=1e-12)
        assert (s.num_bad_epochs, s.cooldown_counter) == (t.num_bad_epochs, t.cooldown_counter)

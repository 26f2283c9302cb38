"""lamina.optim on a CUDA device: every optimiser of tests/optim/optimizer_cases.py's CASES,
step for step on device parameters against the same optimiser on CPU parameters, its state
on the device, and checkpoints moving between a device optimiser and a CPU one.

Through the ``cuda`` fixture (tests/conftest.py): on the checking array module (NumPy under
the hood) the two runs do the same floating-point operations in the same order, so they must
agree bit for bit; on CuPy the GPU's compiler may fuse a multiply and an add into one
rounding, so there they must agree to float64 rounding (relative 1e-12 after 20 steps).
"""
from __future__ import annotations

import numpy as np
import pytest

import lamina as lm
from lamina.backend import device_of

from tests.optim.optimizer_cases import CASE_IDS, CASES, _arrange, _gradients, _initial
from tests.samples import randn

DEVICE = lm.device("cuda", 0)


def _make(name, kwargs, layout, values, device=None):
    params = [lm.tensor(v, requires_grad=True, device=device) for v in values]
    return params, getattr(lm.optim, name)(_arrange(params, layout), **kwargs)


def _feed(params, grads, device=None):
    for p, g in zip(params, grads):
        p.grad = None if g is None else lm.tensor(g, device=device)


def _assert_same(device_value, host_value, exact: bool, where: str) -> None:
    got = device_value.cpu().numpy() if isinstance(device_value, lm.Tensor) else lm.backend.to_host(device_value)
    expected = host_value.numpy() if isinstance(host_value, lm.Tensor) else host_value
    if exact:
        np.testing.assert_array_equal(got, expected, err_msg=where)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=where)


def _exact(cuda) -> bool:
    """Bit-identical on the checking module; to rounding on a real GPU."""
    return type(lm.backend.cuda_backend()).__name__ == "CheckingBackend"


def _state_arrays(opt):
    return [(index, key, v) for index, entry in opt.state.items() for key, v in entry.items()
            if hasattr(v, "shape") and hasattr(v, "dtype")]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_device_steps_match_cpu_steps(case, cuda):
    _, name, kwargs, layout = case
    exact = _exact(cuda)
    host, host_opt = _make(name, kwargs, layout, _initial())
    device, device_opt = _make(name, kwargs, layout, _initial(), cuda)
    for k, step in enumerate(_gradients()):
        _feed(host, step)
        _feed(device, step, cuda)
        host_opt.step()
        device_opt.step()
        for i, (p, q) in enumerate(zip(device, host)):
            assert p.device == DEVICE and p.dtype == lm.float64
            _assert_same(p, q, exact, f"step {k + 1}, parameter {i}")
    states = _state_arrays(device_opt)
    assert len(states) == len(_state_arrays(host_opt))   # plain SGD keeps none
    for index, key, value in states:
        assert device_of(value) == DEVICE, f"state {index} {key} is on {device_of(value)}"
        _assert_same(value, host_opt.state[index][key], exact, f"state {index} {key}")


@pytest.mark.parametrize("case", CASES[::3], ids=CASE_IDS[::3])
def test_float32_state_stays_float32_on_device(case, cuda):
    _, name, kwargs, layout = case
    params, opt = _make(name, kwargs, layout, _initial(np.float32), cuda)
    for step in _gradients(np.float32)[:4]:
        _feed(params, step, cuda)
        opt.step()
    assert all(p.dtype == lm.float32 and p.is_cuda for p in params)
    assert all(v.dtype == np.float32 for _, key, v in _state_arrays(opt))
    saved = opt.state_dict()["state"]
    tensors = [v for entry in saved.values() for v in entry.values() if isinstance(v, lm.Tensor)]
    assert len(tensors) == len(_state_arrays(opt))
    assert all(t.is_cuda and t.dtype == lm.float32 for t in tensors)


# One case per optimiser family: a device checkpoint resumes on the CPU and back.
RESUME = [case for case in CASES if case[0] in (
    "sgd-nesterov", "adam-amsgrad", "adamw-groups", "adagrad-lr-decay", "rmsprop-centered-momentum-wd",
    "adadelta", "adamax-weight-decay", "nadam-decoupled-weight-decay", "radam-groups")]


@pytest.mark.parametrize("case", RESUME, ids=[c[0] for c in RESUME])
def test_state_dict_moves_between_device_and_cpu(case, cuda):
    _, name, kwargs, layout = case
    exact = _exact(cuda)
    grads = _gradients()
    straight, straight_opt = _make(name, kwargs, layout, _initial())
    for step in grads:
        _feed(straight, step)
        straight_opt.step()
    # 8 steps on the device, 6 on the CPU from the device's checkpoint, 6 on the device again
    device, device_opt = _make(name, kwargs, layout, _initial(), cuda)
    for step in grads[:8]:
        _feed(device, step, cuda)
        device_opt.step()
    saved = device_opt.state_dict()
    assert all(v.is_cuda for entry in saved["state"].values() for v in entry.values()
               if isinstance(v, lm.Tensor))
    host, host_opt = _make(name, kwargs, layout, [p.cpu().numpy() for p in device])
    host_opt.load_state_dict(saved)
    assert all(isinstance(v, np.ndarray) for _, _, v in _state_arrays(host_opt))
    for step in grads[8:14]:
        _feed(host, step)
        host_opt.step()
    back, back_opt = _make(name, kwargs, layout, [p.numpy() for p in host], cuda)
    back_opt.load_state_dict(host_opt.state_dict())
    assert all(device_of(v) == DEVICE for _, _, v in _state_arrays(back_opt))
    for step in grads[14:]:
        _feed(back, step, cuda)
        back_opt.step()
    for i, (p, q) in enumerate(zip(back, straight)):
        _assert_same(p, q, exact, f"parameter {i}")


def test_lr_scheduler_drives_a_device_optimiser(cuda):
    exact = _exact(cuda)
    runs = []
    for device in (None, cuda):
        params, opt = _make("SGD", dict(lr=0.5, momentum=0.9), None, _initial(), device)
        sched = lm.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        plateau_params, plateau_opt = _make("Adam", dict(lr=0.1), None, _initial(), device)
        plateau = lm.optim.lr_scheduler.ReduceLROnPlateau(plateau_opt, patience=1)
        for step in _gradients()[:10]:
            _feed(params, step, device)
            _feed(plateau_params, step, device)
            opt.step()
            plateau_opt.step()
            sched.step()
            plateau.step(lm.tensor(1.0, device=device))   # a device metric is read once
        runs.append((params + plateau_params, opt.param_groups[0]["lr"],
                     plateau_opt.param_groups[0]["lr"]))
    (host, lr, plateau_lr), (device, device_lr, device_plateau_lr) = runs
    assert (lr, plateau_lr) == (device_lr, device_plateau_lr) and plateau_lr < 0.1
    for i, (p, q) in enumerate(zip(device, host)):
        assert p.is_cuda
        _assert_same(p, q, exact, f"parameter {i}")


def test_clip_grad_norm_then_step_on_device(cuda):
    exact = _exact(cuda)
    runs = []
    for device in (None, cuda):
        params, opt = _make("Adam", dict(lr=0.05), None, _initial(), device)
        norms = []
        for step in _gradients()[:6]:
            _feed(params, [None if g is None else g * 10 for g in step], device)
            norms.append(lm.nn.utils.clip_grad_norm_(params, max_norm=1.0))
            opt.step()
        runs.append((params, norms))
    (host, host_norms), (device, device_norms) = runs
    for k, (a, b) in enumerate(zip(device_norms, host_norms)):
        assert a.is_cuda
        np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-12, err_msg=f"norm {k}")
    for i, (p, q) in enumerate(zip(device, host)):
        _assert_same(p, q, exact, f"parameter {i}")


def test_zero_grad_keeps_device_gradients_on_the_device(cuda):
    params, opt = _make("SGD", dict(lr=0.1), None, _initial(), cuda)
    _feed(params, _gradients()[0], cuda)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad.is_cuda and not p.grad.cpu().numpy().any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_lbfgs_on_device_matches_cpu(cuda):
    c = randn((6,), seed=3, dtype=np.float64) ** 2 + 0.5
    t = randn((6,), seed=4, dtype=np.float64)
    results = []
    for device in (None, cuda):
        w = lm.tensor(np.zeros(6), requires_grad=True, device=device)
        opt = lm.optim.LBFGS([w], lr=1.0, max_iter=10, history_size=4)
        cc, tt = lm.tensor(c, device=device), lm.tensor(t, device=device)

        def closure():
            opt.zero_grad()
            loss = (cc * (w - tt) ** 2).sum() * 0.5
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append((w, opt))
    (host, host_opt), (device, device_opt) = results
    assert device.is_cuda
    np.testing.assert_allclose(device.cpu().numpy(), host.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host.numpy(), t, atol=1e-4)   # and it nears the minimiser
    state = device_opt.state_dict()["state"][0]
    arrays = [v for value in state.values() for v in (value if isinstance(value, list) else [value])
              if isinstance(v, lm.Tensor)]
    assert arrays and all(a.is_cuda for a in arrays)
    host_opt.load_state_dict(device_opt.state_dict())
    assert isinstance(host_opt.state[0]["d"], np.ndarray)
    assert all(isinstance(v, np.ndarray) for v in host_opt.state[0]["old_dirs"])

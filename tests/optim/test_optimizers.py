"""lamina.optim against torch.optim step for step, checkpoints and dtypes (the cases are in
tests/optim/optimizer_cases.py; test_optimizer_arguments.py has what the constructors refuse)."""
import numpy as np
import pytest

import lamina as lm
from lamina.errors import InplaceError

from tests.optim.optimizer_cases import (CASE_IDS, CASES, STEPS, _assert_close, _feed,
                                         _gradients, _initial, _lamina, _run, _torch)
from tests.reference import requires_torch, torch


@pytest.fixture
def torch_float64():
    """Run the torch reference with float64 scalar state (NAdam's mu_product would
    otherwise be a float32 tensor, ~1e-7 off lamina's float64 product)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_step_for_step(case, torch_float64):
    _, name, kwargs, layout = case
    params, opt = _lamina(name, kwargs, layout, _initial())
    tparams, topt = _torch(name, kwargs, layout, _initial())
    for k, step in enumerate(_gradients()):
        _feed(params, step, lambda g: lm.tensor(g.copy()))
        _feed(tparams, step, lambda g: torch.tensor(g))
        opt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert p.dtype == lm.float64
            _assert_close(p.numpy(), tp.detach().numpy(), f"step {k + 1}, parameter {i}")
            # the update never writes into the gradient arrays (they may be shared)
            if step[i] is not None:
                np.testing.assert_array_equal(p.grad.numpy(), step[i])


@requires_torch
def test_quadratic_with_closure_matches_torch():
    """Gradients of f(w) = 1/2 sum(c (w - t)^2) computed by backward inside a closure."""
    c = np.array([1.0, 4.0, 0.5])
    t = np.array([0.5, -1.0, 2.0])
    w = lm.tensor(np.zeros(3), requires_grad=True)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = lm.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9, nesterov=True)

    def closure():
        opt.zero_grad()
        loss = (lm.tensor(c) * (w - lm.tensor(t)) ** 2).sum() * 0.5
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = (torch.tensor(c) * (tw - torch.tensor(t)) ** 2).sum() * 0.5
        loss.backward()
        return loss

    for _ in range(3 * STEPS):
        with lm.no_grad():  # the closure must still record the graph
            loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert abs(loss.item() - tloss.item()) <= 1e-10
        assert np.max(np.abs(w.numpy() - tw.detach().numpy())) <= 1e-10
    assert np.max(np.abs(w.numpy() - t)) < 0.05  # and it converges to the minimiser


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_dict_resume_is_bit_identical(case, dtype, tmp_path):
    _, name, kwargs, layout = case
    grads = _gradients(dtype)
    params, opt = _lamina(name, kwargs, layout, _initial(dtype))
    _run(params, opt, grads)

    first, opt_first = _lamina(name, kwargs, layout, _initial(dtype))
    _run(first, opt_first, grads[:9])
    saved = opt_first.state_dict()
    snapshot = [p.numpy().copy() for p in first]
    _run(first, opt_first, grads[9:12])  # steps after the snapshot must not change it
    lm.save({"optimizer": saved, "params": snapshot}, tmp_path / "ckpt.safetensors")
    loaded = lm.load(tmp_path / "ckpt.safetensors")

    resumed, opt_resumed = _lamina(name, kwargs, layout, loaded["params"])
    opt_resumed.load_state_dict(loaded["optimizer"])
    _run(resumed, opt_resumed, grads[9:])
    for p, q in zip(params, resumed):
        assert q.dtype == dtype
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt_resumed.param_groups[0].keys() == opt.param_groups[0].keys()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_float32_parameters_keep_float32_state(case):
    _, name, kwargs, layout = case
    # NumPy float64 scalars as hyper-parameters must not promote anything to float64
    kwargs = {k: np.float64(v) if isinstance(v, float) else v for k, v in kwargs.items()}
    params, opt = _lamina(name, kwargs, layout, _initial(np.float32))
    _run(params, opt, _gradients(np.float32)[:5])
    assert all(p.dtype == lm.float32 for p in params)
    arrays = [v for entry in opt.state.values() for v in entry.values() if isinstance(v, np.ndarray)]
    assert all(a.dtype == np.float32 for a in arrays)
    assert all(v.dtype == lm.float32 for entry in opt.state_dict()["state"].values()
               for v in entry.values() if isinstance(v, lm.Tensor))


def test_adagrad_initial_accumulator_per_group():
    """G^{(0)} comes from each group (PyTorch takes the constructor's value for every group)."""
    a, b = lm.tensor([1.0], requires_grad=True), lm.tensor([1.0], requires_grad=True)
    opt = lm.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}],
                           lr=0.5, initial_accumulator_value=0.0)
    a.grad, b.grad = lm.tensor([1.0]), lm.tensor([1.0])
    opt.step()
    # w - alpha g / (sqrt(G^{(0)} + g^2) + eps)
    np.testing.assert_allclose([a.item(), b.item()], [1 - 0.5 / 1.0, 1 - 0.5 / 2.0], rtol=1e-6)


def test_state_is_keyed_by_index_in_group_order():
    params, opt = _lamina("SGD", dict(lr=0.1, momentum=0.9), [{}, {}], _initial())
    _run(params, opt, _gradients()[:1])
    assert sorted(opt.state) == [0, 1, 2]
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]  # params 0, 2 | 1
    np.testing.assert_array_equal(sd["state"][1]["momentum_buffer"].numpy(), _gradients()[0][2])


def test_update_bumps_version_so_graph_sees_the_change():
    w = lm.tensor([1.0, 2.0], requires_grad=True)
    opt = lm.optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    w.grad = lm.tensor([1.0, 1.0])
    before = w._version
    opt.step()
    assert w._version == before + 1
    with pytest.raises(InplaceError):
        y.backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    a = lm.tensor([1.0, 2.0], requires_grad=True)
    b = lm.tensor([3.0, 4.0], requires_grad=True)
    shared = np.array([5.0, 6.0], dtype=np.float32)
    a.grad, b.grad = lm.from_numpy(shared), lm.from_numpy(shared)
    held = a.grad
    lm.optim.SGD([a], lr=0.1).zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert a.grad is None
    else:
        assert a.grad is held and np.all(held.numpy() == 0) and held.dtype == lm.float32
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 6.0])  # the shared array is intact

@requires_torch
@pytest.mark.parametrize("case", [c for c in CASES if c[3] is None and c[0] in (
    "sgd-momentum", "adam-amsgrad", "adamw", "adagrad-lr-decay", "rmsprop-centered-momentum-wd",
    "adadelta-weight-decay-maximize", "adamax-weight-decay", "nadam-decoupled-weight-decay",
    "radam-decoupled-weight-decay")],
    ids=lambda c: c[0])
def test_torch_state_dict_loads_and_training_continues(case, torch_float64):
    """A PyTorch optimiser's state dict (tensors, float step counts) resumes in lamina."""
    _, name, kwargs, layout = case
    grads = _gradients()
    tparams, topt = _torch(name, kwargs, layout, _initial())
    for step in grads[:8]:
        _feed(tparams, step, lambda g: torch.tensor(g))
        topt.step()
    params, opt = _lamina(name, kwargs, layout, [p.detach().numpy().copy() for p in tparams])
    opt.load_state_dict(topt.state_dict())
    for step in grads[8:]:
        _feed(tparams, step, lambda g: torch.tensor(g))
        topt.step()
    _run(params, opt, grads[8:])
    for i, (p, tp) in enumerate(zip(params, tparams)):
        _assert_close(p.numpy(), tp.detach().numpy(), f"parameter {i}")


NEW = ["Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"]


@requires_torch
@pytest.mark.parametrize("name", NEW)
def test_signature_and_groups_match_torch(name):
    """Same parameter names, kinds and defaults as torch.optim, and the same group keys."""
    import inspect

    ours = inspect.signature(getattr(lm.optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    opt = getattr(lm.optim, name)([lm.tensor([1.0], requires_grad=True)])
    topt = getattr(torch.optim, name)([torch.tensor([1.0], requires_grad=True)])
    assert opt.param_groups[0].keys() == topt.param_groups[0].keys()
    for key, value in topt.param_groups[0].items():
        if key != "params":
            assert opt.param_groups[0][key] == value, key

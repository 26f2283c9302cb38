"""lamina.optim against torch.optim step for step, checkpoints, dtypes and validation."""
import re

import numpy as np
import pytest

import lamina as lm
from lamina.errors import InplaceError, LaminaTypeError, LaminaValueError

from tests.reference import requires_torch, torch

SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 20

# (id, class name, kwargs, group layout). A layout is None (one list of parameters) or a
# list of per-group overrides; group i holds the parameters i, i + n, ... (n groups).
CASES = [
    ("sgd", "SGD", dict(lr=0.1), None),
    ("sgd-momentum", "SGD", dict(lr=0.1, momentum=0.9), None),
    ("sgd-dampening", "SGD", dict(lr=0.1, momentum=0.8, dampening=0.3), None),
    ("sgd-nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True), None),
    ("sgd-weight-decay", "SGD", dict(lr=0.1, weight_decay=0.05), None),
    ("sgd-nesterov-wd-maximize", "SGD",
     dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.1, maximize=True), None),
    ("sgd-maximize", "SGD", dict(lr=0.1, maximize=True), None),
    ("sgd-groups", "SGD", dict(lr=0.1, momentum=0.9),
     [dict(weight_decay=0.1), dict(lr=0.01, momentum=0.0), dict(nesterov=True)]),
    ("adam", "Adam", dict(lr=0.01), None),
    ("adam-betas-eps", "Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-3), None),
    ("adam-amsgrad", "Adam", dict(lr=0.01, amsgrad=True), None),
    ("adam-weight-decay", "Adam", dict(lr=0.01, weight_decay=0.1), None),
    ("adam-maximize-amsgrad", "Adam", dict(lr=0.01, maximize=True, amsgrad=True), None),
    ("adam-groups", "Adam", dict(lr=0.01),
     [dict(weight_decay=0.0), dict(lr=0.1, betas=(0.5, 0.6), amsgrad=True)]),
    ("adamw", "AdamW", dict(lr=0.01), None),
    ("adamw-amsgrad-wd", "AdamW", dict(lr=0.01, weight_decay=0.2, amsgrad=True), None),
    ("adamw-maximize", "AdamW", dict(lr=0.01, maximize=True), None),
    ("adamw-groups", "AdamW", dict(lr=0.01), [dict(weight_decay=0.0), dict(weight_decay=0.5)]),
    ("adagrad", "Adagrad", dict(lr=0.1), None),
    ("adagrad-lr-decay", "Adagrad", dict(lr=0.1, lr_decay=0.05), None),
    ("adagrad-weight-decay", "Adagrad", dict(lr=0.1, weight_decay=0.1), None),
    ("adagrad-initial-accumulator", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6), None),
    ("adagrad-maximize", "Adagrad", dict(lr=0.1, maximize=True), None),
    ("adagrad-groups", "Adagrad", dict(lr=0.1),
     [dict(lr_decay=0.1), dict(eps=1e-3, weight_decay=0.2)]),
    ("rmsprop", "RMSprop", dict(lr=0.01), None),
    ("rmsprop-alpha-eps", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4), None),
    ("rmsprop-centered", "RMSprop", dict(lr=0.01, centered=True), None),
    ("rmsprop-momentum", "RMSprop", dict(lr=0.01, momentum=0.9), None),
    ("rmsprop-centered-momentum-wd", "RMSprop",
     dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1), None),
    ("rmsprop-maximize", "RMSprop", dict(lr=0.01, maximize=True), None),
    ("rmsprop-groups", "RMSprop", dict(lr=0.01),
     [dict(centered=True), dict(momentum=0.9, alpha=0.5)]),
    ("adadelta", "Adadelta", dict(), None),
    ("adadelta-lr-rho-eps", "Adadelta", dict(lr=0.5, rho=0.6, eps=1e-4), None),
    ("adadelta-weight-decay-maximize", "Adadelta", dict(weight_decay=0.1, maximize=True), None),
    ("adadelta-foreach", "Adadelta", dict(lr=2.0, foreach=True), None),
    ("adadelta-groups", "Adadelta", dict(lr=1.0),
     [dict(rho=0.5), dict(lr=0.1, weight_decay=0.2, eps=1e-3)]),
    ("adamax", "Adamax", dict(), None),
    ("adamax-betas-eps", "Adamax", dict(lr=0.05, betas=(0.7, 0.8), eps=1e-3), None),
    ("adamax-weight-decay", "Adamax", dict(lr=0.02, weight_decay=0.1), None),
    ("adamax-maximize-foreach", "Adamax", dict(lr=0.02, maximize=True, foreach=True), None),
    ("adamax-groups", "Adamax", dict(lr=0.02),
     [dict(weight_decay=0.3), dict(lr=0.1, betas=(0.5, 0.6))]),
    ("nadam", "NAdam", dict(), None),
    ("nadam-betas-momentum-decay", "NAdam",
     dict(lr=0.02, betas=(0.8, 0.9), eps=1e-4, momentum_decay=0.05), None),
    ("nadam-weight-decay", "NAdam", dict(lr=0.01, weight_decay=0.1), None),
    ("nadam-decoupled-weight-decay", "NAdam",
     dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True), None),
    ("nadam-maximize-foreach", "NAdam", dict(lr=0.01, maximize=True, foreach=True), None),
    ("nadam-groups", "NAdam", dict(lr=0.01),
     [dict(weight_decay=0.1, decoupled_weight_decay=True), dict(momentum_decay=0.0)]),
    ("radam", "RAdam", dict(), None),
    ("radam-betas-eps", "RAdam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-4), None),
    ("radam-weight-decay", "RAdam", dict(lr=0.01, weight_decay=0.1), None),
    ("radam-decoupled-weight-decay", "RAdam",
     dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True), None),
    ("radam-maximize-foreach", "RAdam", dict(lr=0.01, maximize=True, foreach=True), None),
    ("radam-groups", "RAdam", dict(lr=0.01),
     [dict(betas=(0.5, 0.7), decoupled_weight_decay=True, weight_decay=0.3), dict(eps=1e-3)]),
]
CASE_IDS = [case[0] for case in CASES]


@pytest.fixture
def torch_float64():
    """Run the torch reference with float64 scalar state (NAdam's mu_product would
    otherwise be a float32 tensor, ~1e-7 off lamina's float64 product)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _assert_close(actual, expected, where):
    """|a - b| <= 1e-10 and, where |b| >= 1e-6, |a - b| / |b| <= 1e-10."""
    diff = np.abs(actual - expected)
    assert np.max(diff) <= 1e-10, f"{where}: max abs difference {np.max(diff)}"
    large = np.abs(expected) >= 1e-6
    relative = np.max(diff[large] / np.abs(expected[large]), initial=0.0)
    assert relative <= 1e-10, f"{where}: max relative difference {relative}"


def _initial(dtype=np.float64):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def _gradients(dtype=np.float64):
    """Per step, per parameter: a random gradient, or None (skipped) now and then."""
    rng = np.random.default_rng(11)
    steps = []
    for k in range(STEPS):
        steps.append([None if (k + i) % 7 == 3 else rng.standard_normal(shape).astype(dtype)
                      for i, shape in enumerate(SHAPES)])
    return steps


def _arrange(params, layout):
    if layout is None:
        return list(params)
    n = len(layout)
    return [dict(override, params=list(params[i::n])) for i, override in enumerate(layout)]


def _lamina(name, kwargs, layout, values):
    params = [lm.tensor(v, requires_grad=True) for v in values]
    return params, getattr(lm.optim, name)(_arrange(params, layout), **kwargs)


def _torch(name, kwargs, layout, values):
    params = [torch.tensor(v, requires_grad=True) for v in values]
    return params, getattr(torch.optim, name)(_arrange(params, layout), **kwargs)


def _feed(params, grads, make):
    for p, g in zip(params, grads):
        p.grad = None if g is None else make(g)


def _run(params, opt, grads):
    for step in grads:
        _feed(params, step, lambda g: lm.tensor(g))
        opt.step()


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


BAD = [
    ("SGD", dict(lr=-0.1), "-0.1"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "-0.5"),
    ("SGD", dict(lr=0.1, momentum=1.5), "1.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4), "-0.0001"),
    ("SGD", dict(lr=0.1, nesterov=True), "momentum=0"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    ("Adam", dict(lr=-1.0), "-1.0"),
    ("Adam", dict(betas=(1.0, 0.999)), "1.0"),
    ("Adam", dict(betas=(0.9, -0.2)), "-0.2"),
    ("Adam", dict(eps=-1e-8), "-1e-08"),
    ("AdamW", dict(weight_decay=-0.01), "-0.01"),
    ("Adagrad", dict(lr_decay=-0.3), "-0.3"),
    ("Adagrad", dict(initial_accumulator_value=-2.0), "-2.0"),
    ("RMSprop", dict(alpha=-0.9), "-0.9"),
    ("RMSprop", dict(momentum=-0.25), "-0.25"),
    ("RMSprop", dict(eps=float("nan")), "nan"),
    ("Adadelta", dict(rho=1.5), "1.5"),
    ("Adadelta", dict(lr=-2.0), "-2.0"),
    ("Adadelta", dict(eps=-1e-6), "-1e-06"),
    ("Adamax", dict(betas=(0.9, 1.0)), "1.0"),
    ("Adamax", dict(weight_decay=-0.5), "-0.5"),
    ("NAdam", dict(momentum_decay=-0.004), "-0.004"),
    ("NAdam", dict(betas=(-0.1, 0.999)), "-0.1"),
    ("RAdam", dict(eps=-1.0), "-1.0"),
    ("RAdam", dict(lr=-0.001), "-0.001"),
]


@pytest.mark.parametrize("name, kwargs, shown", BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD])
def test_bad_hyperparameters_raise_naming_the_value(name, kwargs, shown):
    with pytest.raises(LaminaValueError, match=re.escape(shown)):
        getattr(lm.optim, name)([lm.tensor([1.0], requires_grad=True)], **kwargs)


def test_bad_hyperparameter_in_a_group_raises():
    a, b = lm.tensor([1.0], requires_grad=True), lm.tensor([2.0], requires_grad=True)
    with pytest.raises(LaminaValueError, match="-0.5"):
        lm.optim.Adam([{"params": [a]}, {"params": [b], "lr": -0.5}])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax",
                                  "NAdam", "RAdam", "LBFGS"])
def test_empty_parameter_list_raises(name):
    with pytest.raises(LaminaValueError, match="empty parameter list"):
        getattr(lm.optim, name)([], lr=0.1)
    with pytest.raises(LaminaValueError, match="empty parameter list"):
        getattr(lm.optim, name)(iter([]), lr=0.1)


def test_bad_parameter_collections_raise():
    a = lm.tensor([1.0], requires_grad=True)
    with pytest.raises(LaminaValueError, match="twice"):
        lm.optim.SGD([a, a], lr=0.1)
    with pytest.raises(LaminaValueError, match="twice"):
        lm.optim.SGD([{"params": [a]}, {"params": [a], "lr": 0.01}], lr=0.1)
    with pytest.raises(LaminaTypeError, match="set"):
        lm.optim.SGD({a}, lr=0.1)
    with pytest.raises(LaminaTypeError, match="list"):
        lm.optim.SGD(a, lr=0.1)
    with pytest.raises(LaminaValueError, match="non-leaf"):
        lm.optim.SGD([a * 2], lr=0.1)
    opt = lm.optim.SGD([a], lr=0.1)
    with pytest.raises(LaminaValueError, match="twice"):
        opt.add_param_group({"params": [a]})


def test_add_param_group_takes_defaults_and_steps():
    a, b = lm.tensor([1.0], requires_grad=True), lm.tensor([1.0], requires_grad=True)
    opt = lm.optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.5
    a.grad, b.grad = lm.tensor([1.0]), lm.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5], rtol=1e-6)


def test_load_state_dict_rejects_mismatched_groups():
    params, opt = _lamina("Adam", {}, None, _initial())
    _run(params, opt, _gradients()[:2])
    other = lm.optim.Adam(params[:2])
    with pytest.raises(LaminaValueError, match="parameter group 0 has 3"):
        other.load_state_dict(opt.state_dict())
    grouped = lm.optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(LaminaValueError, match="this optimizer has 2"):
        grouped.load_state_dict(opt.state_dict())


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


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_capturable_and_differentiable_are_refused(name):
    """Neither has a CPU meaning lamina could honour (torch fails on CPU leaves too)."""
    a = lm.tensor([1.0], requires_grad=True)
    with pytest.raises(LaminaValueError, match="capturable=True"):
        getattr(lm.optim, name)([a], capturable=True)
    with pytest.raises(LaminaValueError, match="differentiable=True"):
        getattr(lm.optim, name)([a], differentiable=True)
    with pytest.raises(LaminaTypeError, match="foreach"):
        getattr(lm.optim, name)([a], foreach="yes")
    b = lm.tensor([1.0], requires_grad=True)
    opt = getattr(lm.optim, name)([a], foreach=False)
    with pytest.raises(LaminaValueError, match="capturable=True"):
        opt.add_param_group({"params": [b], "capturable": True})

"""lamina.optim.LBFGS against torch.optim.LBFGS: iterations, line search, checkpoints, errors."""
import re

import numpy as np
import pytest

import lamina as lm
from lamina.errors import LaminaTypeError, LaminaValueError

from tests.reference import requires_torch, torch

CALLS = 4  # step(closure) calls per comparison


def rosenbrock(params):
    """Two Rosenbrock-like valleys (a 4-vector and a 2x3 matrix read row-major), coupled;
    the global minimum 0 is at all ones.

    The valley's curvature factor is 10, not Rosenbrock's 100: at 100 the iterates are so
    sensitive that torch against itself from a start moved by 1e-15 drifts past 1e-10
    within a few calls. The third parameter never enters the loss (its gradient stays None).
    """
    a, b, _ = params
    flat = b.reshape(-1)

    def valley(x):
        return (10 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    return valley(a) + valley(flat) + 0.5 * ((a[0] - flat[0]) ** 2)


def quadratic(params):
    """A strictly convex quadratic: 1/2 sum(c (w - t)^2) plus a coupling of neighbours."""
    a, b, _ = params
    c = np.array([1.0, 4.0, 0.5, 2.0])
    t = np.array([0.5, -1.0, 2.0, 1.5])
    tensor = lm.tensor if isinstance(a, lm.Tensor) else torch.tensor
    loss = 0.5 * (tensor(c) * (a - tensor(t)) ** 2).sum() + 0.3 * (a[1:] * a[:-1]).sum()
    return loss + (3.0 * (b - 0.7) ** 2).sum() + 0.5 * (b[0] * b[1]).sum()


def steep_quadratic(params):
    """The quadratic with curvature 1e4 times larger: its steps shrink below a tolerance
    while its loss still changes by more than it."""
    return 1e4 * quadratic(params)


PROBLEMS = {"rosenbrock": rosenbrock, "quadratic": quadratic, "steep-quadratic": steep_quadratic}

# (id, problem, LBFGS keyword arguments)
CASES = [
    ("quadratic", "quadratic", dict()),
    ("quadratic-strong-wolfe", "quadratic", dict(line_search_fn="strong_wolfe")),
    ("quadratic-lr-short-history", "quadratic", dict(lr=0.5, max_iter=6, history_size=2)),
    ("rosenbrock-strong-wolfe", "rosenbrock", dict(line_search_fn="strong_wolfe")),
    ("rosenbrock-strong-wolfe-short-history", "rosenbrock",
     dict(line_search_fn="strong_wolfe", history_size=3, max_iter=10)),
    ("rosenbrock-lr", "rosenbrock", dict(lr=0.05, max_iter=15)),
    ("rosenbrock-max-eval", "rosenbrock", dict(line_search_fn="strong_wolfe", max_eval=12)),
    ("rosenbrock-loose-tolerances", "rosenbrock",
     dict(line_search_fn="strong_wolfe", tolerance_grad=1e-3, tolerance_change=1e-4)),
    # a short first step makes the line search extrapolate, a long one zoom
    ("rosenbrock-strong-wolfe-small-lr", "rosenbrock", dict(line_search_fn="strong_wolfe", lr=0.01)),
    ("rosenbrock-strong-wolfe-large-lr", "rosenbrock", dict(line_search_fn="strong_wolfe", lr=8.0)),
    ("quadratic-strong-wolfe-large-lr", "quadratic", dict(line_search_fn="strong_wolfe", lr=30.0)),
    ("steep-quadratic-step-tolerance", "steep-quadratic", dict(lr=1e-5, tolerance_change=1e-3)),
    ("steep-quadratic-strong-wolfe-step-tolerance", "steep-quadratic",
     dict(line_search_fn="strong_wolfe", tolerance_change=1e-2)),
]
CASE_IDS = [case[0] for case in CASES]


def _initial(dtype=np.float64):
    return [np.array([-1.2, 1.0, 0.8, 1.1], dtype=dtype),
            np.array([[0.5, 0.7, 1.3], [0.9, 1.1, 0.4]], dtype=dtype),
            np.array([3.0, -4.0], dtype=dtype)]


def _make(module, problem, kwargs, values):
    """Parameters, optimiser and closure, the same source for torch and lamina."""
    params = [module.tensor(v.copy(), requires_grad=True) for v in values]
    opt = module.optim.LBFGS(params, **kwargs)
    function = PROBLEMS[problem]

    def closure():
        opt.zero_grad()
        loss = function(params)
        loss.backward()
        return loss

    return params, opt, closure


def _assert_close(actual, expected, where, scale=0.0):
    """|a - b| <= 1e-10 everywhere, and max|a - b| / max(max|b|, scale) <= 1e-10.

    The relative test is norm-wise: iterates pass close to zero on their way (and losses
    shrink to zero), where a coordinate's own relative error measures cancellation, not
    agreement. ``scale`` is the size a quantity is computed from (the first loss, for losses).
    """
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    diff = np.max(np.abs(actual - expected), initial=0.0)
    assert diff <= 1e-10, f"{where}: max abs difference {diff}"
    size = max(np.max(np.abs(expected), initial=0.0), scale)
    if size > 0:
        assert diff / size <= 1e-10, f"{where}: relative difference {diff / size}"


def _compare_state(state, tstate, where, loss_scale):
    """Counters exactly (the same iterations, evaluations and kept pairs); t and the loss to
    1e-10. Gradient-like vectors are differences of nearly equal numbers near a minimum, so
    rounding in the parameters shows in them multiplied by the Hessian: they are compared
    to 1e-7 of their size."""
    for key in ("func_evals", "n_iter"):
        assert state[key] == tstate[key], f"{where}: {key} {state[key]} != {tstate[key]}"
    assert len(state["old_dirs"]) == len(tstate["old_dirs"]) == len(state["ro"]), where
    _assert_close(state["t"], float(tstate["t"]), f"{where}: t")
    _assert_close(state["prev_loss"], tstate["prev_loss"], f"{where}: prev_loss", loss_scale)
    pairs = [(state["d"], tstate["d"]), (state["prev_flat_grad"], tstate["prev_flat_grad"]),
             (state["H_diag"], tstate["H_diag"])]
    pairs += list(zip(state["old_stps"] + state["old_dirs"], tstate["old_stps"] + tstate["old_dirs"]))
    for mine, theirs in pairs:
        theirs = np.asarray(theirs.numpy() if isinstance(theirs, torch.Tensor) else theirs)
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-7 * np.max(np.abs(theirs)),
                                   err_msg=where)


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_call_for_call(case):
    _, problem, kwargs = case
    params, opt, closure = _make(lm, problem, kwargs, _initial())
    tparams, topt, tclosure = _make(torch, problem, kwargs, _initial())
    start = PROBLEMS[problem]([lm.tensor(v) for v in _initial()]).item()
    for call in range(CALLS):
        with lm.no_grad():  # the closure must still record the graph
            loss = opt.step(closure)
        tloss = topt.step(tclosure)
        where = f"call {call + 1}"
        _assert_close(loss.item(), tloss.item(), f"{where}: returned loss", start)
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert p.dtype == lm.float64
            _assert_close(p.numpy(), tp.detach().numpy(), f"{where}, parameter {i}")
        _compare_state(opt.state[0], topt.state[tparams[0]], where, start)
    assert sorted(opt.state) == [0]
    final = PROBLEMS[problem](params).item()
    assert final < start  # and the runs made progress (they are not trivially equal)
    np.testing.assert_array_equal(params[2].numpy(), _initial()[2])  # no gradient, no move


def _bump(centre, width, height, slope):
    """A gentle slope with a Gaussian bump (height > 0) or dip on it, and its derivative."""
    def f(x):
        return -slope * x + height * np.exp(-((x - centre) / width) ** 2) + 0.05 * x ** 2

    def g(x):
        bump = np.exp(-((x - centre) / width) ** 2)
        return -slope - 2 * height * (x - centre) / width ** 2 * bump + 0.1 * x

    return f, g


# One-dimensional line-search problems phi(t) = f(x0 + t d), d = -sign f'(x0): smooth,
# wiggly, nearly linear, bumpy and non-smooth ones, so that every branch of the search runs
# (extrapolation, bracketing on a rise, zoom, the 10% safeguard towards either end, the
# evaluation limit, the tiny-interval stop, cubics without a minimum or with a zero
# denominator).
LINE_FUNCTIONS = {
    "bump": _bump(0.3, 0.1, 0.05, 0.2),
    "dip": _bump(0.3, 0.05, -1.0, 0.02),
    "wiggly": (lambda x: np.sin(3 * x) + 0.1 * x ** 2, lambda x: 3 * np.cos(3 * x) + 0.2 * x),
    "quartic": (lambda x: (x - 2.0) ** 4 - x, lambda x: 4 * (x - 2.0) ** 3 - 1),
    "exponential": (lambda x: np.exp(2 * x) - 5 * x, lambda x: 2 * np.exp(2 * x) - 5),
    "sixth": (lambda x: x ** 6 - x, lambda x: 6 * x ** 5 - 1),
    "bumpy": (lambda x: 0.3 * np.sin(9 * x) + (x - 1.5) ** 2,
              lambda x: 2.7 * np.cos(9 * x) + 2 * (x - 1.5)),
    "kink": (lambda x: np.abs(x - 1.3) ** 1.5 - 0.1 * x,
             lambda x: 1.5 * np.sign(x - 1.3) * np.abs(x - 1.3) ** 0.5 - 0.1),
    "cliff": (lambda x: np.log(np.cosh(4 * (x - 1))) - 0.5 * x,
              lambda x: 4 * np.tanh(4 * (x - 1)) - 0.5),
}


@requires_torch
@pytest.mark.parametrize("name", list(LINE_FUNCTIONS))
def test_strong_wolfe_line_search_matches_torch(name):
    """lamina's line search against torch's own (torch.optim.lbfgs._strong_wolfe)."""
    from lamina.optim.lbfgs import _strong_wolfe

    reference = pytest.importorskip("torch.optim.lbfgs")._strong_wolfe
    f, g = LINE_FUNCTIONS[name]
    f64 = torch.float64
    for x0 in (-3.0, -0.3, 0.0, 0.4):
        d = np.array([-np.sign(g(x0)) or 1.0])
        f0, g0 = float(f(x0)), np.array([g(x0)])
        gtd = float(g0 @ d)

        def phi(t):
            return float(f(x0 + t * d[0])), np.array([g(x0 + t * d[0])])

        def obj(x, t, direction):
            x = float(x[0] + t * direction[0])
            return float(f(x)), torch.tensor([g(x)], dtype=f64)

        for t0 in (1e-4, 0.05, 1.0, 7.0, 50.0):
            for max_ls, tolerance in ((25, 1e-9), (3, 1e-9), (25, 0.3)):
                mine = _strong_wolfe(phi, t0, d, f0, g0, gtd, max_ls=max_ls, tolerance_change=tolerance)
                theirs = reference(obj, torch.tensor([x0], dtype=f64), t0, torch.tensor(d), f0,
                                   torch.tensor(g0), torch.tensor(gtd, dtype=f64), max_ls=max_ls,
                                   tolerance_change=tolerance)
                where = f"x0={x0}, t0={t0}, max_ls={max_ls}, tolerance_change={tolerance}"
                assert mine[3] == theirs[3], f"{where}: {mine[3]} != {theirs[3]} evaluations"
                for value, expected in zip(mine[:3], theirs[:3]):
                    expected = expected.numpy() if isinstance(expected, torch.Tensor) else expected
                    _assert_close(value, expected, where)


def test_strong_wolfe_reaches_the_minimum():
    params, opt, closure = _make(lm, "rosenbrock", dict(line_search_fn="strong_wolfe"), _initial())
    for _ in range(CALLS):
        opt.step(closure)
    np.testing.assert_allclose(params[0].numpy(), np.ones(4), atol=1e-7)
    np.testing.assert_allclose(params[1].numpy(), np.ones((2, 3)), atol=1e-7)


def _run(opt, closure, calls):
    return [opt.step(closure).item() for _ in range(calls)]


@pytest.mark.parametrize("case", [CASES[1], CASES[4]], ids=[CASES[1][0], CASES[4][0]])
def test_state_dict_resume_is_bit_identical(case, tmp_path):
    _, problem, kwargs = case
    params, opt, closure = _make(lm, problem, kwargs, _initial())
    losses = _run(opt, closure, 3)

    first, opt_first, closure_first = _make(lm, problem, kwargs, _initial())
    _run(opt_first, closure_first, 1)
    saved = opt_first.state_dict()
    snapshot = [p.numpy().copy() for p in first]
    _run(opt_first, closure_first, 1)  # steps after the snapshot must not change it
    lm.save({"optimizer": saved, "params": snapshot}, tmp_path / "lbfgs.safetensors")
    loaded = lm.load(tmp_path / "lbfgs.safetensors")
    assert isinstance(saved["state"][0]["old_dirs"][0], lm.Tensor)

    resumed, opt_resumed, closure_resumed = _make(lm, problem, kwargs,
                                                  [p.numpy() for p in loaded["params"]])
    opt_resumed.load_state_dict(loaded["optimizer"])
    assert _run(opt_resumed, closure_resumed, 2) == losses[1:]
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt_resumed.state[0]["n_iter"] == opt.state[0]["n_iter"]
    assert opt_resumed.param_groups[0] == {**opt.param_groups[0], "params": resumed}


@requires_torch
def test_torch_state_dict_loads_and_training_continues():
    kwargs = dict(line_search_fn="strong_wolfe", history_size=4)
    tparams, topt, tclosure = _make(torch, "rosenbrock", kwargs, _initial())
    topt.step(tclosure)
    params, opt, closure = _make(lm, "rosenbrock", kwargs,
                                 [p.detach().numpy().copy() for p in tparams])
    opt.load_state_dict(topt.state_dict())
    for _ in range(2):
        topt.step(tclosure)
        opt.step(closure)
    for i, (p, tp) in enumerate(zip(params, tparams)):
        _assert_close(p.numpy(), tp.detach().numpy(), f"parameter {i}")
    _compare_state(opt.state[0], topt.state[tparams[0]], "after loading", 1.0)


def test_float32_parameters_keep_float32():
    params, opt, closure = _make(lm, "quadratic", dict(line_search_fn="strong_wolfe"),
                                 _initial(np.float32))
    opt.step(closure)
    assert all(p.dtype == lm.float32 for p in params)
    state = opt.state[0]
    assert state["d"].dtype == np.float32 and state["prev_flat_grad"].dtype == np.float32
    assert all(s.dtype == np.float32 for s in state["old_stps"] + state["old_dirs"])


def test_closure_is_required():
    w = lm.tensor([1.0, 2.0], requires_grad=True)
    opt = lm.optim.LBFGS([w])
    message = re.escape("LBFGS.step(closure) needs a closure")
    with pytest.raises(LaminaTypeError, match=message):
        opt.step()
    with pytest.raises(LaminaTypeError, match=message + ".*got None"):
        opt.step(None)
    with pytest.raises(LaminaTypeError, match=message + ".*got 3.0"):
        opt.step(3.0)
    assert opt.state == {}


def test_returns_first_loss_and_stops_when_already_optimal():
    w = lm.tensor([0.0, 0.0], requires_grad=True)
    opt = lm.optim.LBFGS([w])
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() + 5.0
        loss.backward()
        calls.append(loss.item())
        return loss

    assert opt.step(closure).item() == 5.0
    assert calls == [5.0] and opt.state[0] == {"func_evals": 1, "n_iter": 0}
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])


def test_defaults_and_one_group_only():
    a, b = lm.tensor([1.0], requires_grad=True), lm.tensor([2.0], requires_grad=True)
    group = lm.optim.LBFGS([a], max_iter=8).param_groups[0]
    assert group["max_eval"] == 10 and group["lr"] == 1 and group["history_size"] == 100
    with pytest.raises(LaminaValueError, match="parameter groups"):
        lm.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = lm.optim.LBFGS([a])
    with pytest.raises(LaminaValueError, match="parameter groups"):
        opt.add_param_group({"params": [b]})


BAD = [
    (dict(lr=-1.0), "-1.0"),
    (dict(line_search_fn="armijo"), "'armijo'"),
    (dict(max_iter=0), "max_iter must be a positive integer, got 0"),
    (dict(history_size=0), "history_size must be a positive integer, got 0"),
    (dict(tolerance_grad=-1e-7), "-1e-07"),
    (dict(tolerance_change=float("nan")), "nan"),
]


@pytest.mark.parametrize("kwargs, shown", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_hyperparameters_raise_naming_the_value(kwargs, shown):
    with pytest.raises(LaminaValueError, match=re.escape(shown)):
        lm.optim.LBFGS([lm.tensor([1.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize("kwargs", [dict(max_eval=2.5), dict(max_iter=True), dict(lr="1")])
def test_hyperparameters_of_the_wrong_type_raise(kwargs):
    with pytest.raises(LaminaTypeError, match=re.escape(repr(next(iter(kwargs.values()))))):
        lm.optim.LBFGS([lm.tensor([1.0], requires_grad=True)], **kwargs)


def test_load_state_dict_checks_the_flat_size():
    params, opt, closure = _make(lm, "quadratic", {}, _initial())
    opt.step(closure)
    other = lm.optim.LBFGS([lm.tensor(np.zeros(shape), requires_grad=True)
                            for shape in [(4,), (2, 2), (2,)]])
    with pytest.raises(lm.errors.ShapeError, match=r"\(12,\).*\(10,\)"):
        other.load_state_dict(opt.state_dict())

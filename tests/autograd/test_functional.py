"""lamina.autograd.functional against torch.autograd.functional: the same function of the same
float64 inputs, run under both libraries (every function takes the library as ``lib``)."""
import numpy as np
import pytest

import lamina as lm
from lamina.autograd import functional as LF
from lamina.autograd.second_order import supported
from lamina.errors import GraphError, InplaceError, LaminaTypeError, LaminaValueError

from tests.reference import requires_torch, torch
TF = torch.autograd.functional
RNG = np.random.default_rng(0)


def _arrays(*shapes):
    return [RNG.standard_normal(s) * 0.7 + 0.1 for s in shapes]


def _to(lib, arrays, requires_grad=False):
    make = (lambda a: lm.tensor(a, requires_grad=requires_grad)) if lib is lm else (
        lambda a: torch.tensor(a, requires_grad=requires_grad))
    return tuple(make(a) for a in arrays)


def _numpy(value):
    if isinstance(value, tuple):
        return tuple(_numpy(v) for v in value)
    return value.detach().numpy()


def _close(ours, theirs, tol=1e-9):
    assert isinstance(ours, tuple) == isinstance(theirs, tuple), (type(ours), type(theirs))
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b, tol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=tol, atol=tol)


# Scalar functions of (a tuple of) inputs: hessian, vhp and hvp apply to these.
def two_layer_loss(lib, w1, w2):
    """The lecture's least-squares loss of a two-layer network (Linear = one fused op)."""
    x = _to(lib, [np.linspace(-1, 1, 12).reshape(4, 3)])[0]
    y = _to(lib, [np.linspace(0, 1, 8).reshape(4, 2)])[0]
    F = lib.nn.functional
    return F.mse_loss(F.linear(F.linear(x, w1).tanh(), w2), y)


SCALAR = {
    "cube-sin of a 0-d tensor": ((lambda lib, x: (x ** 3).sin() * x.exp()), [()]),
    "sum of x*exp(y)+x@y": ((lambda lib, x, y: (x * y.exp()).sum() + x @ y), [(3,), (3,)]),
    "matrix tanh quadratic": ((lambda lib, w: ((w @ w.t()).tanh() ** 2).mean()), [(2, 3)]),
    "two-layer loss": (two_layer_loss, [(5, 3), (2, 5)]),
    "softmax, log_softmax, logsumexp": (
        (lambda lib, x: (x.softmax(-1) * x.log_softmax(0)).sum() + x.logsumexp(1).sum()),
        [(2, 3)]),
    "sigmoid, relu, softplus, silu, leaky relu": (
        (lambda lib, x: (x.sigmoid() * lib.nn.functional.softplus(2 * x, beta=1.5)
                         + lib.nn.functional.silu(x) * x.relu()
                         + lib.nn.functional.leaky_relu(x, 0.1) ** 2).sum()), [(4,)]),
    "division, sqrt, abs, clamp, where, maximum": (
        (lambda lib, x, y: ((x * x / (y * y + 1) + 0.1).sqrt().sum()
                            + (x.abs() * y.clamp(-0.2, 0.5)).sum()
                            + lib.where(x > 0, x * y, -y).sum() + lib.maximum(x, y).pow(2).sum())),
        [(3,), (3,)]),
    "indexing, cat, stack, broadcasting": (
        (lambda lib, x, y: (lib.cat([x[1:] * y[0], x[:2] ** 2]).sum()
                            + (lib.stack([x, y]) ** 2 * x[None, 0]).sum()
                            + (x.reshape(3, 1) * y.reshape(1, 3)).cos().sum())), [(3,), (3,)]),
    "1-d and batched matmul": (
        (lambda lib, a, b: (a @ b @ a).sum() + ((b @ a) * (a @ b.transpose(0, 1))).sum()
         + (b.reshape(1, 3, 3) @ b.reshape(1, 3, 3)).sin().sum()), [(3,), (3, 3)]),
}

def classification_loss(lib, w):
    """Cross-entropy (weighted, smoothed, one target ignored) and NLL of a linear classifier."""
    x = _to(lib, [np.linspace(-1, 1, 15).reshape(5, 3)])[0]
    t = lib.tensor([0, 2, 1, 3, 2])
    weight = lib.tensor([1.0, 0.5, 2.0, 1.5], dtype=x.dtype)
    F = lib.nn.functional
    logits = F.linear(x, w)
    return (F.cross_entropy(logits, t) + F.cross_entropy(logits, t, weight=weight,
                                                         label_smoothing=0.2, ignore_index=1)
            + F.cross_entropy(logits, t, reduction="none").pow(2).sum()
            + F.nll_loss(logits.log_softmax(1), t, weight=weight, reduction="sum")
            + F.cross_entropy(logits[0], t[0], label_smoothing=0.1))


def quadratic_and_l1(lib, x, y):
    """lamina's quadratic cost 1/(2n) sum ||y - a||^2 (written out for torch) and L1."""
    F = lib.nn.functional
    quadratic = (F.quadratic_loss(x, y) if lib is lm
                 else 0.5 * ((x - y) ** 2).sum(1).mean())
    return quadratic * x.sum() + F.l1_loss(x * y, y)


SCALAR["classification losses"] = (classification_loss, [(4, 3)])
SCALAR["quadratic cost and L1"] = (quadratic_and_l1, [(3, 2), (3, 2)])
SCALAR["exponential, rounding, trigonometric, elu, hardtanh, flip"] = (
    (lambda lib, x: ((x.exp2() + x.expm1() + x.abs().log2() + (x * x + 1).log10()
                      + x.abs().log1p() + (x * x + 1).rsqrt() + (x + 3).reciprocal()
                      + x.floor() * x + x.ceil() + x.trunc() + x.round() * x + x.frac())
                     * (x.tan() + x.sinh() + x.cosh()).flip(0)
                     * (lib.nn.functional.elu(x * 2) + lib.nn.functional.hardtanh(x))).sum()),
    [(5,)])

VECTOR = {
    "elementwise exp times sum": ((lambda lib, x: x.exp() * x.sum()), [(3,)]),
    "matrix to matrix": ((lambda lib, w: (w @ w.t()).tanh()), [(2, 3)]),
    "tuple in, tuple out": ((lambda lib, x, y: (x * y, (x ** 2).sum() + y.mean(), x.exp())),
                            [(3,), (3,)]),
    "tuple out, one input": ((lambda lib, x: (x.sin(), x.reshape(2, 2).t())), [(4,)]),
    "0-d output": ((lambda lib, x: (x ** 2).sum()), [(2, 2)]),
}


def _run(api, case, table, *args, **kwargs):
    fn, shapes = table[case]
    arrays = _arrays(*shapes)
    out = []
    for lib, module in ((lm, LF), (torch, TF)):
        inputs = _to(lib, arrays)
        inputs = inputs if len(inputs) > 1 else inputs[0]
        extra = [(_to(lib, a) if isinstance(a, list) else a) for a in args]
        extra = [e[0] if isinstance(e, tuple) and len(e) == 1 else e for e in extra]
        out.append(getattr(module, api)(lambda *xs: fn(lib, *xs), inputs, *extra, **kwargs))
    return out


@requires_torch
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", list(VECTOR) + list(SCALAR))
def test_jacobian(case, create_graph):
    table = VECTOR if case in VECTOR else SCALAR
    ours, theirs = _run("jacobian", case, table, create_graph=create_graph)
    _close(ours, theirs)


@requires_torch
@pytest.mark.parametrize("case", list(SCALAR))
def test_hessian(case):
    ours, theirs = _run("hessian", case, SCALAR)
    _close(ours, theirs)


@requires_torch
@pytest.mark.parametrize("api", ["vhp", "hvp"])
@pytest.mark.parametrize("case", ["two-layer loss", "sum of x*exp(y)+x@y",
                                  "cube-sin of a 0-d tensor", "matrix tanh quadratic"])
def test_hessian_vector_products(api, case):
    shapes = SCALAR[case][1]
    v = [list(_arrays(*shapes))] if len(shapes) > 1 else [[_arrays(*shapes)[0]]]
    ours, theirs = _run(api, case, SCALAR, *v)
    _close(ours, theirs)


@requires_torch
@pytest.mark.parametrize("api", ["vjp", "jvp"])
@pytest.mark.parametrize("case", list(VECTOR))
def test_vector_jacobian_products(api, case):
    fn, shapes = VECTOR[case]
    arrays = _arrays(*shapes)
    outs = fn(torch, *_to(torch, arrays))
    outs = outs if isinstance(outs, tuple) else (outs,)
    v_shapes = [tuple(o.shape) for o in outs] if api == "vjp" else shapes
    v = _arrays(*v_shapes)
    ours, theirs = _run(api, case, VECTOR, v)
    _close(ours, theirs)


@requires_torch
@pytest.mark.parametrize("api", ["vjp", "jvp", "vhp", "hvp"])
def test_products_with_create_graph_lead_back_to_the_inputs(api):
    fn = SCALAR["two-layer loss"][0]
    arrays = _arrays((5, 3), (2, 5))
    vs = _arrays((5, 3), (2, 5)) if api != "vjp" else [np.array(1.3)]
    grads = []
    for lib, module in ((lm, LF), (torch, TF)):
        inputs = _to(lib, arrays, requires_grad=True)
        v = _to(lib, vs)
        v = v if len(v) > 1 else v[0]
        out, product = getattr(module, api)(lambda *xs: fn(lib, *xs), inputs, v,
                                            create_graph=True)
        product = product if isinstance(product, tuple) else (product,)
        total = sum(((p * p).sum() for p in product), out * 0) + out
        total.backward()
        grads.append(tuple(x.grad for x in inputs))
    _close(*grads, tol=1e-8)


@requires_torch
def test_jacobian_with_create_graph_is_differentiable_to_the_callers_tensor():
    def f(lib, x):
        return (x * x.sin()).exp()
    a = _arrays((3,))
    grads = []
    for lib, module in ((lm, LF), (torch, TF)):
        x = _to(lib, a, requires_grad=True)[0]
        jac = module.jacobian(lambda t: f(lib, t), x, create_graph=True)
        assert jac.requires_grad
        (jac ** 2).sum().backward()
        grads.append(x.grad)
    _close(grads[0], grads[1])


@requires_torch
def test_hessian_with_create_graph_gives_third_derivatives():
    def f(lib, x, y):
        return ((x ** 2) * y.tanh()).sum() + (x @ y).sin()
    arrays = _arrays((3,), (3,))
    grads = []
    for lib, module in ((lm, LF), (torch, TF)):
        x, y = _to(lib, arrays, requires_grad=True)
        h = module.hessian(lambda a, b: f(lib, a, b), (x, y), create_graph=True)
        sum((block * block).sum() for row in h for block in row).backward()
        grads.append((x.grad, y.grad))
    _close(*grads)


def test_hessian_of_a_power_with_a_tensor_exponent():
    # f = sum_i a_i^{x_i}, a = |y| + 1 (checked by hand: torch's first double backward of
    # pow(Tensor, Tensor) takes seconds)
    x, y = _arrays((3,), (3,))
    hx, hy = LF.hessian(lambda s, t: (t.abs() + 1).pow(s).sum(), (lm.tensor(x), lm.tensor(y)))
    a, da = np.abs(y) + 1, np.sign(y)
    np.testing.assert_allclose(hx[0].numpy(), np.diag(a ** x * np.log(a) ** 2), rtol=1e-12)
    mixed = np.diag(a ** (x - 1) * da * (1 + x * np.log(a)))
    np.testing.assert_allclose(hx[1].numpy(), mixed, rtol=1e-12)
    np.testing.assert_allclose(hy[0].numpy(), mixed, rtol=1e-12)
    np.testing.assert_allclose(hy[1].numpy(), np.diag(x * (x - 1) * a ** (x - 2)), rtol=1e-12)


@requires_torch
def test_in_place_changes_inside_the_function():
    def f(x):
        y = x * 2
        y.add_(1)              # the in-place result carries on the graph
        return (y * y * x).sum()
    a = _arrays((3,))[0]
    _close(LF.hessian(f, lm.tensor(a)), TF.hessian(f, torch.tensor(a)))

    def g(x):
        y = x.exp()
        y.mul_(2)              # exp's backward needs y as it was
        return y.sum()
    with pytest.raises(InplaceError):
        LF.hessian(g, lm.tensor(a))


def test_results_without_create_graph_have_no_history_and_leave_grads_alone():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    jac = LF.jacobian(lambda t: t ** 3, x)
    hess = LF.hessian(lambda t: (t ** 3).sum(), x)
    assert not jac.requires_grad and not hess.requires_grad and x.grad is None


@requires_torch
def test_vectorize_gives_the_same_jacobian():
    fn, shapes = VECTOR["tuple in, tuple out"]
    inputs = _to(lm, _arrays(*shapes))
    plain = LF.jacobian(lambda *xs: fn(lm, *xs), inputs)
    batched = LF.jacobian(lambda *xs: fn(lm, *xs), inputs, vectorize=True)
    _close(plain, batched, tol=0)


# --------------------------------------------------------------------------- strict and errors
def _independent(lib, x, y):
    return x ** 2  # does not use y


@requires_torch
@pytest.mark.parametrize("call", [
    lambda m, x, y: m.jacobian(lambda a, b: _independent(None, a, b), (x, y), strict=True),
    lambda m, x, y: m.vjp(lambda a, b: _independent(None, a, b), (x, y), x, strict=True),
    lambda m, x, y: m.jvp(lambda a, b: _independent(None, a, b), (x, y), (x, y), strict=True),
    lambda m, x, y: m.hessian(lambda a, b: (a ** 2).sum(), (x, y), strict=True),
    lambda m, x, y: m.hessian(lambda a, b: (a + b).sum(), (x, y), strict=True),   # linear
    lambda m, x, y: m.vhp(lambda a, b: (a * 2).sum(), (x, y), (x, y), strict=True),
    lambda m, x, y: m.hvp(lambda a, b: (a ** 2).sum(), (x, y), (x, y), strict=True),
    lambda m, x, y: m.jacobian(lambda a, b: a.detach(), (x, y), strict=True),
    lambda m, x, y: m.jacobian(lambda a, b: a * 2, (x, y), strict=True, create_graph=True),
])
def test_strict_mode_raises_where_torch_does(call):
    with pytest.raises(RuntimeError):
        call(TF, torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    with pytest.raises(GraphError) as info:
        call(LF, lm.ones(2, dtype=lm.float64), lm.ones(2, dtype=lm.float64))
    assert "strict" in str(info.value) or "independent" in str(info.value)


@requires_torch
@pytest.mark.parametrize("api", ["jacobian", "hessian"])
def test_without_strict_independent_blocks_are_zeros(api):
    def f(lib):
        return (lambda a, b: (a ** 2).sum()) if api == "hessian" else (lambda a, b: a ** 2)
    a = _arrays((2,), (3,))
    ours = getattr(LF, api)(f(lm), _to(lm, a))
    theirs = getattr(TF, api)(f(torch), _to(torch, a))
    _close(ours, theirs)


def test_hessian_of_a_linear_function_is_zero():
    ours = LF.hessian(lambda a: (a * 3).sum(), lm.ones(3, dtype=lm.float64))
    np.testing.assert_array_equal(ours.numpy(), np.zeros((3, 3)))


@pytest.mark.parametrize("call, error, words", [
    (lambda: LF.jacobian(lambda x: x, [lm.ones(2)]), LaminaTypeError, ["inputs", "list"]),
    (lambda: LF.jacobian(lambda x: [x], lm.ones(2)), LaminaTypeError, ["outputs", "list"]),
    (lambda: LF.jacobian(lambda x: x, (lm.ones(2), 3)), LaminaTypeError, ["index 1"]),
    (lambda: LF.jacobian(lambda x: x, lm.ones(2), strategy="forward-mode"), LaminaValueError,
     ["forward-mode", "reverse-mode"]),
    (lambda: LF.jacobian(lambda x: x, lm.ones(2), strategy="sideways"), LaminaValueError,
     ["'sideways'", "reverse-mode"]),
    (lambda: LF.hessian(lambda x: x.sum(), lm.ones(2), outer_jacobian_strategy="forward-mode"),
     LaminaValueError, ["outer_jacobian_strategy", "reverse-mode"]),
    (lambda: LF.jacobian(lambda x: x, lm.ones(2), strict=True, vectorize=True), GraphError,
     ["strict", "vectorize"]),
    (lambda: LF.hessian(lambda x: x * 2, lm.ones(2)), GraphError, ["single element"]),
    (lambda: LF.hessian(lambda x: (x.sum(), x.sum()), lm.ones(2)), GraphError, ["single Tensor"]),
    (lambda: LF.vjp(lambda x: x * 2, lm.ones(2)), GraphError, ["v can only be None"]),
    (lambda: LF.vjp(lambda x: x * 2, lm.ones(2), lm.ones(3)), GraphError, ["invalid size"]),
    (lambda: LF.jvp(lambda x, y: x * y, (lm.ones(2), lm.ones(2)), (lm.ones(2),)), GraphError,
     ["invalid length"]),
    (lambda: LF.hvp(lambda x: x.sum(), lm.ones(2)), GraphError, ["v can only be None"]),
])
def test_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


@requires_torch
def test_torch_raises_for_the_same_misuses():
    for call in (lambda: TF.jacobian(lambda x: x, [torch.ones(2)]),
                 lambda: TF.hessian(lambda x: x * 2, torch.ones(2)),
                 lambda: TF.vjp(lambda x: x * 2, torch.ones(2)),
                 lambda: TF.vjp(lambda x: x * 2, torch.ones(2), torch.ones(3))):
        with pytest.raises((TypeError, RuntimeError)):
            call()


def test_an_operation_without_a_second_derivative_rule_is_named():
    with pytest.raises(GraphError) as info:
        LF.hessian(lambda x: x.cumsum(0).sum() ** 2, lm.ones(3))
    assert "Cumsum" in str(info.value) and "MatMul" in str(info.value)
    assert "MatMul" in supported() and "Linear" in supported()


def test_a_custom_function_on_the_way_of_a_second_derivative_raises():
    class Square(lm.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = lm.tensor([1.0, 2.0])
    np.testing.assert_array_equal(LF.jacobian(Square.apply, x).numpy(), np.diag([2.0, 4.0]))
    with pytest.raises(GraphError) as info:
        LF.hessian(lambda t: Square.apply(t).sum(), x)
    assert "custom autograd.Function" in str(info.value)


def test_exposed_as_lamina_autograd_functional():
    assert lm.autograd.functional.hessian is LF.hessian
    assert set(LF.__all__) == {"vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"}

"""lamina.nn.init: gains and fans against PyTorch, and every random initialiser's bounds and
statistics against its formula (the generators differ, so distributions are compared)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError
from lamina.nn import init

from tests.reference import HAVE_TORCH, requires_torch, torch

SHAPES = [(400, 300), (64, 32, 3, 3), (50, 20, 5)]


@pytest.fixture(autouse=True)
def _seed_torch():
    if HAVE_TORCH:
        torch.manual_seed(0)


@requires_torch
@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", math.sqrt(5)), ("leaky_relu", 1), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_rejects_unknown_names_and_bad_slopes():
    with pytest.raises(LaminaValueError, match="swish"):
        init.calculate_gain("swish")
    with pytest.raises(LaminaValueError, match="slope"):
        init.calculate_gain("leaky_relu", "big")


@requires_torch
@pytest.mark.parametrize("shape", SHAPES + [(3, 4, 2, 2, 2)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(lm.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ShapeError, match="2 dimensions"):
        init.xavier_uniform_(lm.empty(5))


def _fans(shape):
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _uniform_case(fn, shape, kwargs):
    fan_in, fan_out = _fans(shape)
    if fn is init.xavier_uniform_:
        return kwargs.get("gain", 1.0) * math.sqrt(6 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    return gain * math.sqrt(3 / fan)


def _normal_case(fn, shape, kwargs):
    fan_in, fan_out = _fans(shape)
    if fn is init.xavier_normal_:
        return kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    return gain / math.sqrt(fan)


UNIFORM = [(init.xavier_uniform_, {}), (init.xavier_uniform_, {"gain": 5 / 3}),
           (init.kaiming_uniform_, {}), (init.kaiming_uniform_, {"a": math.sqrt(5)}),
           (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"})]
NORMAL = [(init.xavier_normal_, {}), (init.xavier_normal_, {"gain": 2.0}),
          (init.kaiming_normal_, {}), (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"})]


@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn,kwargs", UNIFORM, ids=lambda v: getattr(v, "__name__", str(v)))
def test_uniform_initialisers_have_the_formula_bounds_and_variance(fn, kwargs, shape):
    t = lm.empty(*shape)
    assert fn(t, **kwargs) is t
    bound = _uniform_case(fn, shape, kwargs)
    w = t.numpy()
    assert w.dtype == np.float32
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.98 * bound
    np.testing.assert_allclose(w.var(), bound ** 2 / 3, rtol=0.05)
    assert abs(w.mean()) < 5 * bound / math.sqrt(3 * w.size)
    # the same statistics as PyTorch's own initialiser on the same shape
    ref = getattr(torch.nn.init, fn.__name__)(torch.empty(*shape), **kwargs).numpy()
    np.testing.assert_allclose(w.var(), ref.var(), rtol=0.08)
    np.testing.assert_allclose(np.abs(w).max(), np.abs(ref).max(), rtol=0.03)


@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn,kwargs", NORMAL, ids=lambda v: getattr(v, "__name__", str(v)))
def test_normal_initialisers_have_the_formula_standard_deviation(fn, kwargs, shape):
    t = lm.empty(*shape)
    assert fn(t, **kwargs) is t
    std = _normal_case(fn, shape, kwargs)
    w = t.numpy()
    np.testing.assert_allclose(w.std(), std, rtol=0.05)
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
    ref = getattr(torch.nn.init, fn.__name__)(torch.empty(*shape), **kwargs).numpy()
    np.testing.assert_allclose(w.std(), ref.std(), rtol=0.08)


@requires_torch
def test_uniform_normal_and_trunc_normal():
    t = init.uniform_(lm.empty(200, 100), -0.5, 2.0)
    assert t.numpy().min() >= -0.5 and t.numpy().max() < 2.0
    np.testing.assert_allclose(t.numpy().mean(), 0.75, atol=0.02)
    np.testing.assert_allclose(t.numpy().var(), 2.5 ** 2 / 12, rtol=0.05)
    t = init.normal_(lm.empty(200, 100), 1.0, 0.3)
    np.testing.assert_allclose([t.numpy().mean(), t.numpy().std()], [1.0, 0.3], rtol=0.03)
    t = init.trunc_normal_(lm.empty(200, 100), 0.0, 1.0, -0.5, 1.0)
    assert t.numpy().min() >= -0.5 and t.numpy().max() <= 1.0
    ref = torch.nn.init.trunc_normal_(torch.empty(200, 100), 0.0, 1.0, -0.5, 1.0).numpy()
    np.testing.assert_allclose(t.numpy().mean(), ref.mean(), atol=0.02)
    np.testing.assert_allclose(t.numpy().std(), ref.std(), rtol=0.03)


@requires_torch
@pytest.mark.parametrize("name,args,shape", [
    ("constant_", (0.25,), (3, 4)), ("zeros_", (), (2, 5)), ("ones_", (), (4,)),
    ("eye_", (), (3, 5)), ("dirac_", (), (4, 3, 3, 3)), ("dirac_", (2,), (6, 2, 3, 3)),
    ("dirac_", (), (2, 3, 5))])
def test_deterministic_initialisers_equal_torch(name, args, shape):
    t = lm.empty(*shape)
    assert getattr(init, name)(t, *args) is t
    expected = getattr(torch.nn.init, name)(torch.empty(*shape), *args).numpy()
    np.testing.assert_array_equal(t.numpy(), expected)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    q = init.orthogonal_(lm.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1) / 2.0
    small = min(q.shape)
    gram = q @ q.T if q.shape[0] == small else q.T @ q
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_initialisers_work_on_parameters_and_are_reproducible():
    p = nn.Parameter(lm.empty(30, 20))
    lm.manual_seed(5)
    a = init.kaiming_uniform_(p, a=math.sqrt(5)).numpy().copy()
    assert p.requires_grad and p.grad is None
    lm.manual_seed(5)
    b = init.kaiming_uniform_(p, a=math.sqrt(5)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.kaiming_uniform_(p, a=math.sqrt(5)).numpy())


def test_initialiser_argument_errors():
    with pytest.raises(LaminaValueError, match="fan_avg"):
        init.kaiming_normal_(lm.empty(3, 3), mode="fan_avg")
    with pytest.raises(ShapeError, match="2-D"):
        init.eye_(lm.empty(2, 2, 2))
    with pytest.raises(LaminaTypeError):
        init.zeros_(np.zeros(3))
    with pytest.raises(LaminaValueError):
        init.uniform_(lm.empty(3), 1.0, 0.0)

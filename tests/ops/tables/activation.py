"""Activation functions: elementwise non-linearities (away from their kinks) and softmax /
log-softmax along every axis, negative ones included."""
import numpy as np

import lamina as lm
from tests.reference import torch
from ..opinfo import OpInfo, Sample

F = torch.nn.functional

SHAPES = [(5,), (3, 4), (2, 3, 4), ()]


def unary(rng, scale=2.0, away_from=(), gap=0.1):
    """Random inputs of every shape, moved at least ``gap`` off each kink in ``away_from``."""
    out = []
    for s in SHAPES:
        x = scale * rng.standard_normal(s)
        for kink in away_from:
            d = x - kink
            x = np.where(np.abs(d) < gap, kink + np.where(d < 0, -2 * gap, 2 * gap), x)
        out.append(Sample((np.asarray(x),), name=str(s)))
    return out


def wide(rng):
    """A sweep over [-30, 30] (both tails of sigmoid, softplus, gelu) plus random samples."""
    return [Sample((np.linspace(-30, 30, 41),), name="sweep")] + unary(rng)


def step_samples(rng):
    x = np.array([-2.0, -0.5, 0.0, 0.3, 0.0, 4.0])
    return [Sample((x,), grad=(False,), name="ties"),
            Sample((x.reshape(2, 3), np.array(0.25)), grad=(False, False), name="values")]


def softmax_samples(rng):
    out = []
    for shape in [(5,), (3, 4), (2, 3, 4)]:
        x = 3 * rng.standard_normal(shape)
        for dim in range(-len(shape), len(shape)):
            out.append(Sample((x,), {"dim": dim}, name=f"{shape}-dim{dim}"))
    out.append(Sample((np.asarray(1.5),), {"dim": 0}, name="0d"))
    out.append(Sample((np.array([[1e3, 0.0, -1e3], [500.0, 501.0, 499.0]]),), {"dim": 1}, name="large"))
    return out


TABLE = [
    OpInfo("sigmoid", lm.sigmoid, torch.sigmoid, wide),
    OpInfo("sigmoid_method", lambda x: x.sigmoid(), lambda x: x.sigmoid(), unary),
    OpInfo("tanh", lm.tanh, torch.tanh, wide),
    OpInfo("relu", lm.relu, torch.relu, lambda r: unary(r, away_from=[0.0])),
    OpInfo("leaky_relu", lm.ops.leaky_relu, F.leaky_relu, lambda r: unary(r, away_from=[0.0])),
    OpInfo("leaky_relu_slope", lambda x: lm.ops.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2),
           lambda r: unary(r, away_from=[0.0])),
    OpInfo("leaky_relu_negative_slope", lambda x: lm.ops.leaky_relu(x, negative_slope=-0.5),
           lambda x: F.leaky_relu(x, negative_slope=-0.5), lambda r: unary(r, away_from=[0.0])),
    OpInfo("elu", lm.ops.elu, F.elu, lambda r: unary(r, away_from=[0.0])),
    OpInfo("elu_alpha", lambda x: lm.ops.elu(x, alpha=0.7), lambda x: F.elu(x, alpha=0.7),
           lambda r: unary(r, away_from=[0.0])),
    OpInfo("elu_negative_alpha", lambda x: lm.ops.elu(x, alpha=-0.5), lambda x: F.elu(x, alpha=-0.5),
           lambda r: unary(r, away_from=[0.0])),
    OpInfo("softplus", lm.ops.softplus, F.softplus, wide),
    OpInfo("softplus_beta", lambda x: lm.ops.softplus(x, beta=2.0, threshold=5.0),
           lambda x: F.softplus(x, beta=2.0, threshold=5.0), lambda r: unary(r, away_from=[2.5])),
    OpInfo("logsigmoid", lm.ops.logsigmoid, F.logsigmoid, wide),
    OpInfo("gelu", lm.ops.gelu, F.gelu, wide),
    OpInfo("gelu_tanh", lambda x: lm.ops.gelu(x, approximate="tanh"),
           lambda x: F.gelu(x, approximate="tanh"), wide),
    OpInfo("silu", lm.ops.silu, F.silu, wide),
    OpInfo("hardtanh", lm.ops.hardtanh, F.hardtanh,
           lambda r: unary(r, away_from=[-1.0, 1.0])),
    OpInfo("hardtanh_range", lambda x: lm.ops.hardtanh(x, -0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0),
           lambda r: [Sample((np.array([-3.0, -0.7, -0.2, 0.4, 1.9, 2.5]),))]),
    OpInfo("heaviside", lambda x, v=None: lm.heaviside(x, v),
           lambda x, v=None: torch.heaviside(x, torch.tensor(1.0) if v is None else v),
           step_samples, differentiable=False),
    OpInfo("softmax", lm.softmax, F.softmax, softmax_samples),
    OpInfo("log_softmax", lm.log_softmax, F.log_softmax, softmax_samples),
    OpInfo("softmax_method", lambda x, dim: x.softmax(dim), lambda x, dim: x.softmax(dim),
           lambda r: softmax_samples(r)[3:5]),
    OpInfo("log_softmax_method", lambda x, dim: x.log_softmax(dim), lambda x, dim: x.log_softmax(dim),
           lambda r: softmax_samples(r)[3:5]),
]

"""The optimiser cases of tests/optim and the helpers that run them.

``CASES`` lists (id, class name, keyword arguments, group layout) for every optimiser of
lamina.optim, each option alone and in parameter groups; a layout is None (one list of
parameters) or per-group overrides, group i holding the parameters i, i + n, ... of n groups.
``_initial`` and ``_gradients`` give the same seeded parameters (shapes ``SHAPES``) and
``STEPS`` steps of gradients, a gradient left out (None) now and then, so that lamina and
torch, or two lamina runs, see exactly the same inputs; ``_lamina`` and ``_torch`` build an
optimiser over them, ``_feed`` and ``_run`` set gradients and step, and ``_assert_close`` is
the comparison (|a - b| <= 1e-10, and relative 1e-10 where |b| >= 1e-6). The helpers keep
their leading underscore: they are shared by the tests of this directory only
(test_optimizers.py, test_optimizer_arguments.py, test_on_device.py).
"""
import numpy as np

import lamina as lm

from tests.reference import torch

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

"""What lamina.optim's constructors, ``add_param_group`` and ``load_state_dict`` accept and
refuse: bad hyper-parameters (the error names the value), empty or repeated parameters, wrong
collections, groups that do not match, options with no CPU meaning."""
import re

import numpy as np
import pytest

import lamina as lm
from lamina.errors import LaminaTypeError, LaminaValueError

from tests.optim.optimizer_cases import _gradients, _initial, _lamina, _run


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

"""Module, Parameter and the containers: registration, traversal, repr, modes, gradients and
dtype conversion (state dicts: test_module_state.py)."""
from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaTypeError, LaminaValueError

from tests.nn.module_models import Ordered, model, models  # noqa: F401 (fixtures)
from tests.reference import requires_torch, torch
tnn = torch.nn


# ----------------------------------------------------------------- registration
def test_registration_keeps_definition_order():
    m = Ordered()
    assert [k for k, _ in m.named_parameters()] == ["z", "m", "a.weight", "a.bias",
                                                     "b.weight", "b.bias"]
    assert [k for k, _ in m.named_parameters(recurse=False)] == ["z", "m"]
    assert [k for k, _ in m.named_buffers()] == ["count", "cache"]
    assert [k for k, _ in m.named_children()] == ["a", "b"]
    assert list(m.state_dict()) == ["z", "m", "count", "a.weight", "a.bias", "b.weight", "b.bias"]


def test_reassignment_moves_names_between_registries():
    m = Ordered()
    m.a = nn.Parameter(lm.ones(1))            # a module name becomes a parameter
    assert "a" not in m._modules and m._parameters["a"] is m.a
    m.z = None                                  # a parameter may be set to None
    assert m.z is None and "z" not in dict(m.named_parameters())
    with pytest.raises(LaminaTypeError, match="Parameter or None"):
        m.m = lm.ones(3)                        # a plain tensor cannot replace a parameter
    with pytest.raises(LaminaTypeError, match="Module or None"):
        m.b = 3
    m.count = lm.ones(1)                        # a buffer takes any tensor
    assert m.state_dict()["count"].numpy()[0] == 1
    del m.b
    assert not hasattr(m, "b") and "b" not in m._modules
    m.plain = 5
    assert m.plain == 5 and "plain" not in m.state_dict()


def test_module_errors():
    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(LaminaTypeError, match="super"):
        Forgot()
    m = nn.Module()
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    with pytest.raises(LaminaValueError, match="'.'"):
        m.register_buffer("a.b", lm.zeros(1))
    with pytest.raises(LaminaTypeError, match="Tensor or None"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(LaminaTypeError, match="Parameter or None"):
        m.register_parameter("w", lm.zeros(1))
    m.x = 1
    with pytest.raises(LaminaValueError, match="already exists"):
        m.register_buffer("x", lm.zeros(1))
    with pytest.raises(LaminaTypeError, match="forward"):
        m(lm.zeros(1))


@requires_torch
def test_parameter_repr_matches_torch():
    assert repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))) == repr(nn.Parameter(lm.tensor([1.0, 2.0])))


def test_parameter_basics():
    t = lm.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, lm.Tensor) and p.requires_grad and p.is_leaf
    assert p.numpy() is t.numpy()                         # shares memory
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    y = lm.ops.mul(p, p)
    assert type(y) is lm.Tensor                           # operations return plain tensors
    assert type(p.detach()) is lm.Tensor
    with pytest.raises(LaminaTypeError):
        nn.Parameter(np.arange(3))                        # integers cannot require grad


@requires_torch
def test_shared_parameters_are_listed_once_but_saved_under_every_name():
    def build(library):
        torch.manual_seed(0)
        a = library.Linear(3, 3)
        return library.Sequential(a, library.ReLU(), a)

    mine, ref = build(nn), build(tnn)
    assert len(list(mine.parameters())) == len(list(ref.parameters())) == 2
    assert list(mine.state_dict()) == list(ref.state_dict())


# ----------------------------------------------------------------- traversal
@requires_torch
def test_traversal_names_match_torch(models):  # noqa: F811 (the fixture)
    ref, mine = models
    assert [k for k, _ in mine.named_modules()] == [k for k, _ in ref.named_modules()]
    assert [k for k, _ in mine.named_children()] == [k for k, _ in ref.named_children()]
    assert [k for k, _ in mine.named_parameters()] == [k for k, _ in ref.named_parameters()]
    assert [k for k, _ in mine.named_buffers()] == [k for k, _ in ref.named_buffers()]
    assert len(list(mine.modules())) == len(list(ref.modules()))
    assert mine.get_submodule("features.0.conv") is mine.features[0].conv
    assert mine.get_parameter("heads.1.bias") is mine.heads[1].bias
    with pytest.raises(AttributeError, match="nope"):
        mine.get_submodule("features.nope")


@requires_torch
def test_apply_visits_children_before_parents_like_torch(models):  # noqa: F811 (the fixture)
    ref, mine = models
    seen_t, seen_l = [], []
    ref.apply(lambda m: seen_t.append(type(m).__name__))
    assert mine.apply(lambda m: seen_l.append(type(m).__name__)) is mine
    assert seen_l == seen_t


def test_apply_reinitialises_weights():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    net.apply(init_weights)
    assert all((p.numpy() == 0.5).all() for n, p in net.named_parameters() if n.endswith("weight"))


# ----------------------------------------------------------------- repr
@requires_torch
def test_repr_matches_torch_for_small_models():
    def small(library):
        return library.Sequential(library.Linear(4, 3), library.ReLU(), library.Conv2d(1, 6, 5),
                                  library.BatchNorm2d(6), library.LayerNorm(8),
                                  library.BatchNorm1d(4, affine=False))

    assert repr(small(nn)) == repr(small(tnn))

    def nested(library):
        return library.Sequential(OrderedDict(
            features=library.Sequential(library.Conv2d(1, 6, 5), library.ReLU(),
                                        library.MaxPool2d(2, 2)),
            heads=library.ModuleList([library.Flatten(), library.Linear(6 * 12 * 12, 10)]),
            extra=library.ModuleDict({"soft": library.LogSoftmax(dim=1)})))

    assert repr(nested(nn)) == repr(nested(tnn))
    named = OrderedDict(conv1=nn.Conv2d(1, 6, 5), relu=nn.ReLU())
    assert repr(nn.Sequential(named)) == repr(tnn.Sequential(OrderedDict(
        conv1=tnn.Conv2d(1, 6, 5), relu=tnn.ReLU())))
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))" in repr(nn.Sequential(named))


@requires_torch
def test_module_list_repr_compresses_repeats_like_torch():
    def build(library):
        return library.ModuleList([library.Linear(2, 2) for _ in range(3)] + [library.ReLU()])

    assert repr(build(nn)) == repr(build(tnn))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList())


# ----------------------------------------------------------------- modes and gradients
def test_train_and_eval_propagate(model):  # noqa: F811 (the fixture)
    mine = model
    assert mine.training and all(m.training for m in mine.modules())
    assert mine.eval() is mine
    assert not any(m.training for m in mine.modules())
    mine.features.train()
    assert mine.features[0].bn.training and not mine.heads.training and not mine.training
    with pytest.raises(LaminaTypeError):
        mine.train("yes")


def test_zero_grad_and_requires_grad():
    m = nn.Linear(3, 2)
    m(lm.ones(4, 3)).backward(lm.ones(4, 2))
    assert m.weight.grad is not None
    shared = m.weight.grad.numpy()
    m.zero_grad(set_to_none=False)
    assert (m.weight.grad.numpy() == 0).all() and (shared != 0).any()   # not zeroed in place
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert m.num_parameters() == 8 and m.num_parameters(trainable_only=True) == 0
    m.bias.requires_grad_(True)
    assert m.num_parameters(trainable_only=True) == 2


def test_to_double_and_float_convert_parameters_and_floating_buffers():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = m[0].weight
    assert m.to(lm.float64) is m and m.double() is m
    assert weight.dtype == np.float64 and m[0].weight is weight
    assert m[1].running_mean.dtype == np.float64 and m[1].num_batches_tracked.dtype == np.int64
    assert m.float()[0].bias.dtype == np.float32
    assert m.to("cpu") is m
    with pytest.raises(LaminaValueError):
        m.to("cuda")


def test_forward_hook_sees_and_can_replace_the_output():
    m = nn.Linear(2, 2)
    seen = []
    handle = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    m(lm.ones(3, 2))
    handle.remove()
    m(lm.ones(3, 2))
    assert seen == [(3, 2)]


def test_deepcopy_and_pickle_give_independent_equal_modules(model):  # noqa: F811 (the fixture)
    mine = model
    picklable = nn.Sequential(Ordered(), nn.Linear(2, 2), nn.BatchNorm1d(2))
    for original, clone in ((mine, copy.deepcopy(mine)),
                            (picklable, pickle.loads(pickle.dumps(picklable)))):
        assert list(clone.state_dict()) == list(original.state_dict())
        assert all(isinstance(p, nn.Parameter) for p in clone.parameters())
        assert repr(clone) == repr(original)
        for a, b in zip(original.state_dict().values(), clone.state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert a.numpy() is not b.numpy()


# ----------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    tail = s[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        s[3]
    x = lm.ones(4, 2)
    np.testing.assert_array_equal(s(x).numpy(), c(b(a(x))).numpy())
    s.append(nn.Sigmoid())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s.insert(1, b)
    assert s[1] is b and s[2] is c
    s[0] = nn.Identity()
    assert isinstance(s[0], nn.Identity)
    assert [k for k, _ in s.named_parameters()] == ["2.weight", "2.bias"]


def test_module_list_and_module_dict():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Linear(2, 1)])
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and isinstance(layers[0], nn.Identity) and isinstance(layers[-1], nn.Linear)
    assert [k for k, _ in layers.named_parameters()] == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2"]
    with pytest.raises(LaminaTypeError):
        layers.extend(nn.Linear(1, 1))
    d = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    d["dec"] = nn.Linear(3, 2)
    assert list(d) == ["enc", "dec"] and "enc" in d and len(d) == 2
    assert [k for k, _ in d.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert d.pop("enc") is not None and list(d.keys()) == ["dec"]

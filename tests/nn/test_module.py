"""Module, Parameter and the containers: registration, traversal, state dicts (both ways
with PyTorch), repr, modes, gradients and dtype conversion."""
from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError

from tests.reference import requires_torch, torch
from tests.samples import randn
tnn = torch.nn

SMALL_CNN = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(Block(), nn.MaxPool2d(2))
        self.heads = nn.ModuleList([nn.Linear(4 * 4 * 4, 5), nn.Linear(4 * 4 * 4, 5)])
        self.extra = nn.ModuleDict({"proj": nn.Linear(5, 2, bias=False)})
        self.scale = nn.Parameter(ONES(1))

    def forward(self, x):
        h = self.features(x).reshape(x.shape[0], -1)
        return self.extra["proj"](self.heads[0](h) + self.heads[1](h)) * self.scale
"""


def _model(library, ones):
    namespace = {"nn": library, "ONES": ones}
    exec(SMALL_CNN, namespace)
    return namespace["Model"]()


@pytest.fixture
def models():
    torch.manual_seed(0)
    return _model(tnn, torch.ones), _model(nn, lm.ones)


@pytest.fixture
def model():
    """lamina's half of ``models``."""
    return _model(nn, lm.ones)


class Ordered(nn.Module):
    def __init__(self):
        super().__init__()
        self.z = nn.Parameter(lm.zeros(2))
        self.register_buffer("count", lm.zeros(1))
        self.a = nn.Linear(2, 2)
        self.m = nn.Parameter(lm.ones(3))
        self.register_buffer("cache", lm.zeros(2), persistent=False)
        self.b = nn.Linear(2, 1)


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
def test_traversal_names_match_torch(models):
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
def test_apply_visits_children_before_parents_like_torch(models):
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


# ----------------------------------------------------------------- state dict
@requires_torch
def test_state_dict_keys_and_shapes_match_torch(models):
    ref, mine = models
    mine_sd, ref_sd = mine.state_dict(), ref.state_dict()
    assert isinstance(mine_sd, OrderedDict)
    assert list(mine_sd) == list(ref_sd)
    assert [tuple(v.shape) for v in mine_sd.values()] == [tuple(v.shape) for v in ref_sd.values()]


def test_state_dict_values_are_detached_and_share_memory():
    m = nn.Linear(2, 3)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and type(sd["weight"]) is lm.Tensor
    assert sd["weight"].numpy() is m.weight.numpy()
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


@requires_torch
def test_weights_move_both_ways_between_torch_and_lamina(models):
    ref, mine = models
    result = mine.load_state_dict(ref.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[key].numpy(), value.numpy())
    # and back: change lamina's weights, load them into torch
    weight = mine.heads[0].weight
    array = weight.numpy()
    nn.init.normal_(weight)
    assert weight.numpy() is array                         # loaded and changed in place
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.state_dict().items()})
    np.testing.assert_array_equal(ref.heads[0].weight.detach().numpy(), weight.numpy())
    x = randn((2, 3, 8, 8))
    mine.eval(), ref.eval()
    np.testing.assert_allclose(mine(lm.tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_load_state_dict_accepts_numpy_arrays():
    m = nn.Linear(2, 2)
    m.load_state_dict({"weight": np.eye(2, dtype=np.float64), "bias": np.zeros(2)})
    assert m.weight.dtype == np.float32 and (m.weight.numpy() == np.eye(2)).all()


@requires_torch
def test_load_state_dict_accepts_torch_parameters():
    m = nn.Linear(2, 2)
    t = tnn.Linear(2, 2)
    m.load_state_dict(t.state_dict(keep_vars=True))        # Parameters that require grad
    np.testing.assert_array_equal(m.bias.numpy(), t.bias.detach().numpy())


def test_strict_load_lists_every_problem_at_once_and_copies_nothing():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = {"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(4), "1.weight": np.zeros((1, 3)),
           "extra.weight": np.zeros(1), "other": np.zeros(2)}
    with pytest.raises(LaminaValueError) as info:
        m.load_state_dict(bad)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight", "other".' in message
    assert "size mismatch for 0.bias" in message and "(4,)" in message and "(3,)" in message
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_load_reports_keys_but_shape_mismatch_still_raises():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    result = m.load_state_dict({"0.weight": np.ones((3, 2)), "zzz": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["zzz"]
    assert (m[0].weight.numpy() == 1).all()
    with pytest.raises(ShapeError, match="size mismatch for 0.weight"):
        m.load_state_dict({"0.weight": np.ones((2, 3))}, strict=False)


def test_non_persistent_buffers_are_not_saved():
    m = Ordered()
    assert "cache" not in m.state_dict() and "count" in m.state_dict()


@requires_torch
def test_batchnorm_counter_round_trips_from_torch():
    bn_t, bn = tnn.BatchNorm1d(3), nn.BatchNorm1d(3)
    bn_t(torch.randn(4, 3))
    bn.load_state_dict(bn_t.state_dict())
    assert int(bn.num_batches_tracked.item()) == 1
    np.testing.assert_allclose(bn.running_mean.numpy(), bn_t.running_mean.numpy())


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
def test_train_and_eval_propagate(model):
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


def test_deepcopy_and_pickle_give_independent_equal_modules(model):
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

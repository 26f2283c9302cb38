"""Every layer of lamina.nn against PyTorch: the same constructor call, the weights copied
through ``load_state_dict`` from the torch module's ``state_dict``, the same float32 input;
then forward values, input gradients and parameter gradients, and the repr."""
from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaValueError, ShapeError

from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import randn

tnn = torch.nn

# (id, constructor source evaluated with `nn` bound to lamina.nn and to torch.nn, input shape)
LAYERS = [
    ("linear", "nn.Linear(5, 3)", (4, 5)),
    ("linear-nobias", "nn.Linear(5, 3, bias=False)", (4, 5)),
    ("linear-3d-input", "nn.Linear(6, 2)", (2, 3, 6)),
    ("conv", "nn.Conv2d(2, 4, 3)", (2, 2, 7, 6)),
    ("conv-lenet", "nn.Conv2d(1, 6, 5)", (2, 1, 12, 12)),
    ("conv-stride-pad", "nn.Conv2d(3, 5, 3, stride=2, padding=1)", (2, 3, 9, 8)),
    ("conv-rect", "nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0))", (2, 2, 7, 6)),
    ("conv-dilation", "nn.Conv2d(2, 3, 3, dilation=2, padding=2)", (1, 2, 9, 9)),
    ("conv-groups", "nn.Conv2d(4, 6, 3, groups=2, bias=False)", (2, 4, 6, 6)),
    ("conv-depthwise", "nn.Conv2d(3, 3, 3, groups=3)", (2, 3, 5, 5)),
    ("conv-same-odd", "nn.Conv2d(2, 3, 3, padding='same')", (2, 2, 6, 5)),
    ("conv-same-even", "nn.Conv2d(2, 3, (4, 2), padding='same')", (2, 2, 6, 5)),
    ("conv-valid", "nn.Conv2d(2, 3, 3, padding='valid')", (2, 2, 6, 5)),
    ("conv-reflect", "nn.Conv2d(2, 3, 3, padding=1, padding_mode='reflect')", (2, 2, 6, 5)),
    ("conv-replicate", "nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode='replicate')", (2, 2, 6, 5)),
    ("conv-circular", "nn.Conv2d(2, 3, 3, padding=1, padding_mode='circular')", (2, 2, 6, 5)),
    ("maxpool", "nn.MaxPool2d(2)", (2, 3, 8, 6)),
    ("maxpool-tuple", "nn.MaxPool2d((2, 2))", (2, 3, 8, 6)),
    ("maxpool-stride-pad", "nn.MaxPool2d(3, stride=2, padding=1)", (2, 2, 9, 7)),
    ("maxpool-ceil", "nn.MaxPool2d(2, ceil_mode=True)", (1, 2, 7, 5)),
    ("avgpool", "nn.AvgPool2d(2)", (2, 3, 8, 6)),
    ("avgpool-pad", "nn.AvgPool2d(3, stride=2, padding=1)", (2, 2, 9, 7)),
    ("avgpool-nopadcount", "nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", (2, 2, 9, 7)),
    ("adaptive-avgpool-1", "nn.AdaptiveAvgPool2d((1, 1))", (2, 3, 7, 5)),
    ("adaptive-avgpool-uneven", "nn.AdaptiveAvgPool2d((3, 2))", (2, 3, 7, 5)),
    ("adaptive-avgpool-int", "nn.AdaptiveAvgPool2d(2)", (2, 3, 6, 6)),
    ("adaptive-maxpool", "nn.AdaptiveMaxPool2d((3, 2))", (2, 3, 7, 5)),
    ("relu", "nn.ReLU()", (3, 7)),
    ("sigmoid", "nn.Sigmoid()", (3, 7)),
    ("tanh", "nn.Tanh()", (3, 7)),
    ("softplus", "nn.Softplus()", (3, 7)),
    ("softplus-beta", "nn.Softplus(beta=2.0, threshold=1.5)", (3, 7)),
    ("leaky-relu", "nn.LeakyReLU()", (3, 7)),
    ("leaky-relu-slope", "nn.LeakyReLU(0.2)", (3, 7)),
    ("elu", "nn.ELU()", (3, 7)),
    ("elu-alpha", "nn.ELU(alpha=0.5)", (3, 7)),
    ("gelu", "nn.GELU()", (3, 7)),
    ("gelu-tanh", "nn.GELU(approximate='tanh')", (3, 7)),
    ("silu", "nn.SiLU()", (3, 7)),
    ("logsigmoid", "nn.LogSigmoid()", (3, 7)),
    ("hardtanh", "nn.Hardtanh(-0.5, 0.7)", (3, 7)),
    ("softmax", "nn.Softmax(dim=1)", (3, 7)),
    ("softmax-first", "nn.Softmax(0)", (3, 7)),
    ("log-softmax", "nn.LogSoftmax(dim=-1)", (2, 3, 7)),
    ("identity", "nn.Identity(54, unused=True)", (3, 7)),
    ("flatten", "nn.Flatten()", (2, 3, 4, 5)),
    ("flatten-range", "nn.Flatten(0, 2)", (2, 3, 4, 5)),
    ("unflatten", "nn.Unflatten(1, (2, 3))", (4, 6, 5)),
    ("unflatten-neg", "nn.Unflatten(-1, (2, -1))", (4, 6)),
]


def _build(source: str, library):
    torch.manual_seed(0)
    return eval(source, {"nn": library})


def _pair(source: str):
    """The torch module and the lamina module with torch's weights."""
    ref = _build(source, tnn)
    mine = _build(source, nn)
    mine.load_state_dict(ref.state_dict())
    return ref, mine


@requires_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,source,shape", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch(name, source, shape):
    ref, mine = _pair(source)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    r = check_against_torch(mine, ref, rng.standard_normal(shape).astype(np.float32),
                            modules=(mine, ref), cotangent=rng, rtol=1e-5, atol=1e-5,
                            grad_rtol=1e-4, grad_atol=1e-4, name=name)
    assert r.lamina.values[0].dtype == np.float32


# Constructor arguments that only show in the repr (torch's in-place variants cannot run on
# a leaf input, so they are not in LAYERS).
REPR_ONLY = ["nn.ReLU(inplace=True)", "nn.LeakyReLU(0.1, inplace=True)", "nn.ELU(inplace=True)",
             "nn.SiLU(inplace=True)", "nn.Hardtanh(inplace=True)", "nn.Softmax()",
             "nn.Unflatten(1, [2, 3])", "nn.MaxPool2d(3, 1, 1, 2, ceil_mode=True)",
             "nn.AvgPool2d((2, 3), (1, 2))", "nn.AdaptiveAvgPool2d((None, 3))",
             "nn.Linear(3, 4, bias=False)"]


@requires_torch
@pytest.mark.parametrize("source", [row[1] for row in LAYERS] + REPR_ONLY)
def test_layer_repr_matches_torch(source):
    assert repr(_build(source, nn)) == repr(_build(source, tnn))


@requires_torch
@pytest.mark.parametrize("source", ["nn.Linear(4, 3)", "nn.Conv2d(2, 4, 3)",
                                    "nn.Conv2d(4, 4, (3, 2), groups=2, bias=False)"])
def test_parameter_names_shapes_and_dtypes_match_torch(source):
    ref, mine = _build(source, tnn), _build(source, nn)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert all(p.dtype == np.float32 and p.requires_grad for p in mine.parameters())


@requires_torch
def test_heaviside_matches_torch_and_has_zero_gradient():
    x = np.array([[-2.0, 0.0, 0.5], [3.0, -0.1, 0.0]], np.float32)
    for values in (None, 0.5):
        layer = nn.Heaviside() if values is None else nn.Heaviside(values)
        x_lm = lm.tensor(x, requires_grad=True)
        y = layer(x_lm)
        expected = torch.heaviside(torch.tensor(x), torch.tensor(1.0 if values is None else values))
        np.testing.assert_array_equal(y.numpy(), expected.numpy())
        y.backward(lm.ones(*x.shape))
        np.testing.assert_array_equal(x_lm.grad.numpy(), np.zeros_like(x))
    assert repr(nn.Heaviside()) == "Heaviside()" and repr(nn.Heaviside(0.5)) == "Heaviside(values=0.5)"


@requires_torch
@pytest.mark.parametrize("source,fan_in", [("nn.Linear(300, 200)", 300),
                                           ("nn.Conv2d(16, 32, 5)", 16 * 25),
                                           ("nn.Conv2d(8, 16, (3, 2), groups=4)", 2 * 6)])
def test_default_initialisation_has_torchs_distribution(source, fan_in):
    """PyTorch's default: weight and bias ~ Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    lm.manual_seed(3)
    mine, ref = _build(source, nn), _build(source, tnn)
    bound = 1 / math.sqrt(fan_in)
    for key, p in mine.state_dict().items():
        w, w_ref = p.numpy(), ref.state_dict()[key].numpy()
        assert np.abs(w).max() <= bound and np.abs(w_ref).max() <= bound
        # Uniform(-b, b): mean 0, variance b^2 / 3; the bias is small, so a loose tolerance.
        n = w.size
        assert abs(w.mean()) < 4 * bound / math.sqrt(3 * n)
        if n >= 1000:
            np.testing.assert_allclose(w.var(), bound ** 2 / 3, rtol=0.1)
            np.testing.assert_allclose(w.var(), w_ref.var(), rtol=0.1)
            assert np.abs(w).max() > 0.95 * bound


def test_default_initialisation_is_reproducible_from_the_global_seed():
    lm.manual_seed(11)
    a = nn.Conv2d(3, 4, 3).state_dict()
    lm.manual_seed(11)
    b = nn.Conv2d(3, 4, 3).state_dict()
    c = nn.Conv2d(3, 4, 3).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
        assert not np.array_equal(b[key].numpy(), c[key].numpy())


@pytest.mark.parametrize("shape", [(1, 32, 32), (2, 3, 32, 32), (2, 1, 32)])
def test_conv2d_rejects_inputs_of_the_wrong_shape(shape):
    conv = nn.Conv2d(1, 6, 5)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\) with C=1"):
        conv(lm.zeros(*shape))


@pytest.mark.parametrize("kwargs,message", [
    (dict(in_channels=3, out_channels=4, kernel_size=3, groups=2), "divisible by groups"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding="full"), "padding"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding="same", stride=2), "strided"),
    (dict(in_channels=3, out_channels=4, kernel_size=0), "kernel_size"),
    (dict(in_channels=3, out_channels=4, kernel_size=3, padding_mode="mirror"), "padding_mode"),
    (dict(in_channels=0, out_channels=4, kernel_size=3), "in_channels"),
])
def test_conv2d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(LaminaValueError, match=message):
        nn.Conv2d(**kwargs)


def test_linear_rejects_bad_sizes_and_inputs():
    with pytest.raises(LaminaValueError, match="out_features"):
        nn.Linear(3, -1)
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\)"):
        nn.Linear(3, 2)(lm.zeros(4, 5))


def test_unflatten_rejects_a_size_that_does_not_fit():
    with pytest.raises(ShapeError, match=r"\(4, 2\)"):
        nn.Unflatten(1, (4, 2))(lm.zeros(3, 6))


def test_layers_run_in_float64_after_double():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).double()
    x = lm.tensor(randn((2, 1, 6, 6), dtype=np.float64), requires_grad=True)
    y = net(x)
    assert y.dtype == np.float64
    y.backward(lm.ones(2, 3, dtype=lm.float64))
    assert x.grad.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in net.parameters())


@requires_torch
def test_maxpool_return_indices_matches_torch():
    x = randn((1, 2, 6, 6), seed=5)
    y, idx = nn.MaxPool2d(2, return_indices=True)(lm.tensor(x))
    y_t, idx_t = tnn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(y.numpy(), y_t.numpy())
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())


FUNCTIONAL = [
    ("relu", lambda F, x: F.relu(x * 1, inplace=True)),
    ("relu6", lambda F, x: F.relu6(x * 4)),
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.3)),
    ("elu", lambda F, x: F.elu(x * 1, alpha=0.7, inplace=True)),
    ("silu", lambda F, x: F.silu(x)),
    ("hardtanh", lambda F, x: F.hardtanh(x, -0.3, 0.4)),
    ("softmin", lambda F, x: F.softmin(x, dim=1)),
    ("max_pool2d-lecture", lambda F, x: F.max_pool2d(F.relu(x.reshape(1, 1, 4, 6)), (2, 2))),
    ("pad-reflect", lambda F, x: F.pad(x.reshape(1, 1, 4, 6), (1, 2, 2, 1), mode="reflect")),
    ("embedding", lambda F, x: F.embedding(x.argmax(dim=0), x)),
]


@requires_torch
@pytest.mark.parametrize("name,fn", FUNCTIONAL, ids=[row[0] for row in FUNCTIONAL])
def test_functional_matches_torch(name, fn):
    check_against_torch(lambda x: fn(nn.functional, x), lambda x: fn(torch.nn.functional, x),
                        randn((4, 6), seed=zlib.crc32(name.encode())), cotangent=1, rtol=1e-5,
                        atol=1e-5, grad_rtol=1e-4, grad_atol=1e-4, name=name)


LAMINA_EXTRAS = {"heaviside", "quadratic_loss", "Heaviside", "QuadraticLoss", "RBF",
                 "ModuleAttributeError", "smooth_structured_hinge_loss",
                 "SmoothStructuredHingeLoss"}


@requires_torch
def test_public_names_exist_in_torch():
    """Everything lamina.nn and lamina.nn.functional export is PyTorch's (or a named extra)."""
    for name in nn.functional.__all__:
        assert name in LAMINA_EXTRAS or hasattr(torch.nn.functional, name), name
    for name in nn.__all__:
        assert name in LAMINA_EXTRAS or hasattr(torch.nn, name), name
    for name in ("Linear", "Conv2d", "MaxPool2d", "CrossEntropyLoss", "BatchNorm2d", "Dropout",
                 "Embedding", "RNN", "Sequential", "Parameter"):
        assert name in nn.__all__ and hasattr(nn, name)

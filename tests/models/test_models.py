"""lamina.models: shapes, gradients, parity with the same architectures written in PyTorch,
LeNet-5's state dict against seed 001's Net, initialisation statistics, specs, training."""
import math
from itertools import chain

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
import lamina.nn.functional as F
from lamina.errors import LaminaValueError, ShapeError
from lamina.models import (MODEL_SPECS, AlexNet, GoogLeNet, LeNet5, ResNet, TFCNN, VGG, alexnet,
                           build_model, googlenet, lenet5, mlp, resnet, tf_cnn, vgg)

from tests.reference import requires_torch, torch
from tests.reference_models import reference_models
from tests.samples import images, rand

tnn = torch.nn
VGG11 = [1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8]


def twins():
    """The PyTorch twins of lamina.models (tests/reference_models.py)."""
    return reference_models(torch)


# name -> (lamina builder, torch builder), both called with (in_channels, side)
CASES = {
    "mlp": (lambda c, s: mlp([c * s * s, 30, 10]),
            lambda c, s: tnn.Sequential(tnn.Flatten(), tnn.Linear(c * s * s, 30), tnn.Sigmoid(),
                                        tnn.Linear(30, 10))),
    "lenet5": (lambda c, s: lenet5(10, c, s),
               lambda c, s: twins().Net(c, padding=2 if s == 28 else 0)),
    "tf_cnn": (lambda c, s: tf_cnn(10, c, input_size=s), lambda c, s: twins().TFCNN(c, s // 4)),
    "alexnet": (lambda c, s: alexnet(10, c), lambda c, s: twins().alexnet(c)),
    "vgg11": (lambda c, s: vgg(11, 10, c), lambda c, s: twins().vgg(c, VGG11)),
    "vgg11_bn": (lambda c, s: vgg(11, 10, c, batch_norm=True),
                 lambda c, s: twins().vgg(c, VGG11, batch_norm=True)),
    "resnet8": (lambda c, s: resnet(8, 10, c), lambda c, s: twins().ResNet(8, c)),
    "resnet14": (lambda c, s: resnet(14, 10, c), lambda c, s: twins().ResNet(14, c)),
    "resnet20": (lambda c, s: resnet(20, 10, c), lambda c, s: twins().ResNet(20, c)),
    "googlenet": (lambda c, s: googlenet(10, c), lambda c, s: twins().GoogLeNet(c)),
}
SHAPES = [(1, 28), (3, 32)]  # (channels, side): MNIST and CIFAR


def count(params):
    return sum(int(np.prod(p.shape)) for p in params)


# ------------------------------------------------------------------ shapes and gradients
@pytest.mark.parametrize("c,s", SHAPES)
@pytest.mark.parametrize("name", CASES)
def test_output_shape_and_backward_reaches_every_parameter(name, c, s):
    model = CASES[name][0](c, s)
    out = model(lm.tensor(images(2, c, s)))
    assert out.shape == (2, 10)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient reached {pname}"
        assert p.grad.shape == p.shape
        assert np.all(np.isfinite(p.grad.numpy())), f"{name}: non-finite gradient in {pname}"


@requires_torch
@pytest.mark.parametrize("c,s", SHAPES)
@pytest.mark.parametrize("name", CASES)
def test_same_parameters_and_outputs_as_torch(name, c, s):
    model, tmodel = CASES[name][0](c, s), CASES[name][1](c, s)
    named = dict(model.named_parameters())
    tnamed = dict(tmodel.named_parameters())
    assert count(named.values()) == sum(p.numel() for p in tnamed.values())
    assert {k: tuple(p.shape) for k, p in named.items()} == \
        {k: tuple(p.shape) for k, p in tnamed.items()}
    # Random BatchNorm statistics make eval mode a real test of the running-stat path.
    with torch.no_grad():
        for m in tmodel.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5), m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1), m.running_var.uniform_(0.5, 1.5)
    tstate = tmodel.state_dict()
    for key, t in chain(model.named_parameters(), model.named_buffers()):
        t.data = tstate[key].detach().numpy().copy()
    model.eval(), tmodel.eval()
    x = images(3, c, s, seed=1)
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(lm.tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("factory,max_params", [
    (lambda: alexnet(10, 3), 1_000_000), (lambda: vgg(19, 10, 3), 1_000_000),
    (lambda: resnet(20, 10, 3), 1_000_000), (lambda: googlenet(10, 3), 1_000_000)])
def test_popular_architectures_are_small(factory, max_params):
    assert count(factory().parameters()) < max_params


def test_model_classes():
    for model, cls in ((lenet5(), LeNet5), (tf_cnn(), TFCNN), (alexnet(), AlexNet), (vgg(), VGG),
                       (resnet(), ResNet), (googlenet(), GoogLeNet)):
        assert isinstance(model, cls) and isinstance(model, nn.Module)
    assert isinstance(mlp([4, 2]), nn.Sequential)


# ------------------------------------------------------------------ LeNet-5 and seed 001's Net
@requires_torch
@pytest.mark.parametrize("side,padding", [(28, 2), (32, 0)])
def test_lenet5_state_dict_matches_seed_net(side, padding):
    model, net = lenet5(10, 1, side), twins().Net(padding=padding)
    assert list(model.state_dict().keys()) == list(net.state_dict().keys())
    assert [tuple(v.shape) for v in model.state_dict().values()] == \
        [tuple(v.shape) for v in net.state_dict().values()]
    assert model.conv1.padding in (padding, (padding, padding))
    # the seed's weights load into lamina's module and give the seed's outputs
    model.load_state_dict({k: lm.tensor(v.numpy()) for k, v in net.state_dict().items()})
    x = images(2, 1, side)
    np.testing.assert_allclose(model(lm.tensor(x)).numpy(),
                               net(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ mlp
def weights_and_biases(model):
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears, [m.weight.numpy() for m in linears], [m.bias.numpy() for m in linears]


def test_mlp_normal_init_is_nielsens_standard_normal():
    _, ws, bs = weights_and_biases(mlp([784, 300, 100, 10], init="normal"))
    w, b = np.concatenate([a.ravel() for a in ws]), np.concatenate([a.ravel() for a in bs])
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert abs(b.mean()) < 0.15 and abs(b.std() - 1) < 0.1


@pytest.mark.parametrize("init,std,zero_bias", [
    ("default", lambda i, o: 1 / math.sqrt(3 * i), False),
    ("xavier", lambda i, o: math.sqrt(2 / (i + o)), True),
    ("glorot", lambda i, o: math.sqrt(2 / (i + o)), True),
    ("kaiming", lambda i, o: math.sqrt(2 / i), True)])
def test_mlp_init_scales(init, std, zero_bias):
    linears, ws, bs = weights_and_biases(mlp([784, 300, 100, 10], "relu", init))
    for layer, w, b in zip(linears, ws, bs):
        expected = std(layer.in_features, layer.out_features)
        assert abs(w.std() / expected - 1) < 0.1, (init, w.shape, w.std(), expected)
        assert np.all(b == 0) == zero_bias


@pytest.mark.parametrize("activation,cls", [
    ("sigmoid", "Sigmoid"), ("relu", "ReLU"), ("tanh", "Tanh"), ("leaky_relu", "LeakyReLU"),
    ("elu", "ELU"), ("softplus", "Softplus"), ("gelu", "GELU")])
def test_mlp_layers(activation, cls):
    model = mlp([784, 30, 20, 10], activation, dropout=0.2, output_activation="sigmoid")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", cls, "Dropout", "Linear", cls, "Dropout", "Linear",
                     "Sigmoid"]
    model.eval()
    x = images(2, 1, 28)
    out = model(lm.tensor(x)).numpy()
    np.testing.assert_array_equal(out, model(lm.tensor(x.reshape(2, 784))).numpy())
    assert np.all((out > 0) & (out < 1))


@pytest.mark.parametrize("kwargs,words", [
    (dict(sizes=[784, 10], activation="heaviside"), ["not trainable", "sigmoid"]),
    (dict(sizes=[784, 10], activation="swish"), ["'swish'", "relu"]),
    (dict(sizes=[784, 10], output_activation="softmaxx"), ["'softmaxx'", "sigmoid"]),
    (dict(sizes=[784, 10], init="zeros"), ["'zeros'", "kaiming"]),
    (dict(sizes=[784]), ["at least", "[784]"]),
    (dict(sizes=[784, 0, 10]), ["positive", "[784, 0, 10]"]),
    (dict(sizes=[784, 10], dropout=1.0), ["dropout", "1.0"])])
def test_mlp_errors(kwargs, words):
    with pytest.raises(LaminaValueError) as info:
        mlp(**kwargs)
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------ specs
@pytest.mark.parametrize("spec,in_shape,check", [
    ("mlp:784,30,10", (1, 28, 28), lambda m: [type(x).__name__ for x in m][2] == "Sigmoid"),
    ("mlp:784,100,10:relu", (784,), lambda m: m[1].weight.shape == (100, 784)
     and type(m[2]).__name__ == "ReLU"),
    (" MLP:784, 30,10:Tanh ", (1, 28, 28), lambda m: type(m[2]).__name__ == "Tanh"),
    ("mlp:784,30,10:sigmoid:normal", (1, 28, 28), lambda m: abs(m[1].weight.numpy().std() - 1)
     < 0.05 and np.all(m[1].bias.numpy() != 0)),
    ("mlp:3072,64,32,10", (3, 32, 32), lambda m: len([x for x in m if isinstance(x, nn.Linear)])
     == 3),
    ("lenet5", (1, 28, 28), lambda m: isinstance(m, LeNet5) and m.fc1.in_features == 400),
    ("lenet5", (3, 32, 32), lambda m: m.conv1.in_channels == 3 and m.fc1.in_features == 400),
    ("tf-cnn", (1, 28, 28), lambda m: isinstance(m, TFCNN) and m.fc1.in_features == 3136),
    ("alexnet", (3, 32, 32), lambda m: isinstance(m, AlexNet)),
    ("vgg", (1, 28, 28), lambda m: isinstance(m, VGG) and m.depth == 11),
    ("vgg11", (1, 28, 28), lambda m: m.depth == 11),
    ("vgg16", (3, 32, 32), lambda m: m.depth == 16),
    ("resnet8", (1, 28, 28), lambda m: isinstance(m, ResNet) and len(m.layer1) == 1),
    ("resnet14", (1, 28, 28), lambda m: len(m.layer2) == 2),
    ("resnet20", (3, 32, 32), lambda m: len(m.layer3) == 3),
    ("googlenet", (1, 28, 28), lambda m: isinstance(m, GoogLeNet))])
def test_build_model(spec, in_shape, check):
    model = build_model(spec, in_shape, 10)
    assert check(model)
    assert model(lm.tensor(np.zeros((2,) + in_shape, np.float32))).shape == (2, 10)


@pytest.mark.parametrize("example", [row[0] for row in MODEL_SPECS])
def test_every_listed_spec_builds(example):
    row = next(r for r in MODEL_SPECS if r[0] == example)
    assert len(row) == 3 and all(isinstance(t, str) and t for t in row)
    model = build_model(example, (1, 28, 28), 10)
    from lamina.models.spec import is_autoencoder_spec

    expected = (1, 1, 28, 28) if is_autoencoder_spec(example) else (1, 10)
    assert model(lm.tensor(images(1, 1, 28))).shape == expected


@pytest.mark.parametrize("spec,in_shape,classes,error,words", [
    ("mlp:100,30,10", (1, 28, 28), 10, ShapeError, ["100", "784"]),
    ("mlp:784,30,5", (1, 28, 28), 10, ShapeError, ["5", "10 classes"]),
    ("mlp:784,30,10:heaviside", (784,), 10, LaminaValueError, ["not trainable"]),
    ("mlp:784,30,10:swish", (784,), 10, LaminaValueError, ["swish", "relu"]),
    ("mlp:784,30,10:relu:zeros", (784,), 10, LaminaValueError, ["zeros", "xavier"]),
    ("mlp:784,a,10", (784,), 10, LaminaValueError, ["integers", "784,a,10"]),
    ("mlp:784", (784,), 10, LaminaValueError, ["at least"]),
    ("mlp:784,10:relu:normal:x", (784,), 10, LaminaValueError, ["mlp:<sizes>"]),
    ("transformer", (1, 28, 28), 10, LaminaValueError, ["'transformer'", "lenet5", "resnet20"]),
    ("resnet9", (1, 28, 28), 10, LaminaValueError, ["6n + 2", "9"]),
    ("vgg12", (1, 28, 28), 10, LaminaValueError, ["11, 13, 16, 19", "12"]),
    ("lenet5:relu", (1, 28, 28), 10, LaminaValueError, ["no ':' options"]),
    ("lenet5", (784,), 10, ShapeError, ["(C, H, W)", "(784,)"]),
    ("lenet5", (1, 28, 32), 10, ShapeError, ["square", "28", "32"]),
    ("tf-cnn", (1, 30, 30), 10, ShapeError, ["divisible by 4", "30"]),
    ("vgg11", (1, 8, 8), 10, ShapeError, ["16x16", "8x8"]),
    ("lenet5", (1, 28, 28), 0, LaminaValueError, ["num_classes", "0"])])
def test_build_model_errors(spec, in_shape, classes, error, words):
    with pytest.raises(error) as info:
        build_model(spec, in_shape, classes)
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------ training
def sgd_losses(model, x, target, loss_fn, lr, steps=8):
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        losses.append(loss.item())
        with lm.no_grad():
            for p in model.parameters():
                p.sub_(p.grad, alpha=lr)
    return losses


@pytest.mark.parametrize("name,lr,ratio", [("nielsen_mlp", 3.0, 0.9), ("relu_mlp", 0.05, 0.5),
                                            ("lenet5", 0.2, 0.95)])
def test_sgd_steps_reduce_the_loss(name, lr, ratio):
    labels = np.arange(8) % 10
    if name == "nielsen_mlp":  # seed 000: sigmoid units, quadratic cost, eta = 3.0
        pixels = lm.tensor(rand((8, 1, 28, 28)))
        model = mlp([784, 30, 10], "sigmoid", "normal", output_activation="sigmoid")
        target = lm.tensor(np.eye(10, dtype=np.float32)[labels])
        losses = sgd_losses(model, pixels, target, F.mse_loss, lr)
    else:
        model = mlp([784, 30, 10], "relu", "kaiming") if name == "relu_mlp" else lenet5()
        losses = sgd_losses(model, lm.tensor(images(8, 1, 28)), lm.tensor(labels),
                            F.cross_entropy, lr, steps=10)
    assert losses[-1] < ratio * losses[0], losses

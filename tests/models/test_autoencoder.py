"""lamina.models.Autoencoder: shapes, state dicts, gradient flow, parity with the same
networks written in PyTorch, NearestUpsample2d against torch's nearest upsampling, specs."""
import numpy as np
import pytest

import lamina as lm
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError
from lamina.models import (KNOWN_SPECS, MODEL_SPECS, Autoencoder, NearestUpsample2d,
                           build_model)
from lamina.models.spec import default_autoencoder_sizes, is_autoencoder_spec

from tests.reference import requires_torch, torch
from tests.samples import rand, randn
tnn = torch.nn

ACT = {"relu": tnn.ReLU, "tanh": tnn.Tanh, "sigmoid": tnn.Sigmoid}


def torch_dense(sizes, activation="relu", output_activation="sigmoid"):
    """The mirrored dense autoencoder in PyTorch: (encoder, decoder) with lamina's layout."""
    def stack(widths, last):
        layers = [tnn.Flatten()]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(tnn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(ACT[activation]())
        if last is not None:
            layers.append(ACT[last]())
        return tnn.Sequential(*layers)

    return tnn.ModuleDict({"encoder": stack(sizes, None),
                           "decoder": stack(sizes[::-1], output_activation)})


def torch_conv(channels, activation="relu"):
    enc, dec = [], []
    for i, (a, b) in enumerate(zip(channels[:-1], channels[1:])):
        enc.append(tnn.Conv2d(a, b, 3, stride=2, padding=1))
        if i < len(channels) - 2:
            enc.append(ACT[activation]())
    back = channels[::-1]
    for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
        dec += [tnn.Upsample(scale_factor=2, mode="nearest"), tnn.Conv2d(a, b, 3, padding=1)]
        if i < len(channels) - 2:
            dec.append(ACT[activation]())
    dec.append(tnn.Sigmoid())
    return tnn.ModuleDict({"encoder": tnn.Sequential(*enc), "decoder": tnn.Sequential(*dec)})


def torch_forward(net, x, flat_output=True):
    out = net["decoder"](net["encoder"](x))
    return out.reshape(x.shape) if flat_output else out


def copy_weights(model, net):
    model.load_state_dict({k: lm.tensor(v.detach().numpy()) for k, v in net.state_dict().items()})


@pytest.mark.parametrize("sizes, in_shape", [([784, 128, 32], (1, 28, 28)), ([64, 2], (64,)),
                                             ([64, 32, 16, 2], (1, 8, 8))])
def test_dense_shapes(sizes, in_shape):
    model = Autoencoder(sizes)
    x = lm.rand(5, *in_shape)
    assert tuple(model(x).shape) == (5, *in_shape)
    assert tuple(model.encode(x).shape) == (5, sizes[-1])
    assert tuple(model.decode(model.encode(x)).shape) == (5, sizes[0])
    assert model.code_size == sizes[-1] and not model.conv
    out = model(x).numpy()
    assert out.min() > 0 and out.max() < 1  # sigmoid output


@pytest.mark.parametrize("channels, side, code_side", [([1, 16, 32], 28, 7), ([3, 8], 8, 4),
                                                       ([1, 4, 8, 8], 8, 1)])
def test_conv_shapes(channels, side, code_side):
    model = Autoencoder(channels, conv=True)
    x = lm.rand(2, channels[0], side, side)
    assert tuple(model(x).shape) == (2, channels[0], side, side)
    assert tuple(model.encode(x).shape) == (2, channels[-1], code_side, code_side)


@requires_torch
def test_state_dict_keys_match_pytorch_layout():
    assert list(Autoencoder([64, 32, 2]).state_dict()) == \
        list(torch_dense([64, 32, 2]).state_dict())
    assert list(Autoencoder([1, 4, 8], conv=True).state_dict()) == \
        list(torch_conv([1, 4, 8]).state_dict())
    model = Autoencoder("784,128,32")
    assert model.sizes == [784, 128, 32]
    assert tuple(model.state_dict()["decoder.3.weight"].shape) == (784, 128)


@pytest.mark.parametrize("conv", [False, True])
def test_every_parameter_receives_a_gradient(conv):
    model = Autoencoder([1, 4, 8] if conv else [64, 16, 4], conv=conv)
    x = lm.rand(6, 1, 8, 8)
    lm.nn.functional.mse_loss(model(x), x).backward()
    params = list(model.parameters())
    assert len(params) == 8
    for p in params:
        assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0


@requires_torch
@pytest.mark.parametrize("sizes, activation, output", [([64, 32, 2], "relu", "sigmoid"),
                                                       ([64, 16, 8, 3], "tanh", None)])
def test_dense_matches_pytorch_values_and_gradients(sizes, activation, output):
    net = torch_dense(sizes, activation, output).double()
    model = Autoencoder(sizes, activation=activation, output_activation=output).double()
    copy_weights(model, net)
    x = rand((7, 1, 8, 8), dtype=np.float64)
    tx = torch.tensor(x)
    lx = lm.tensor(x)
    t_out = torch_forward(net, tx)
    l_out = model(lx)
    np.testing.assert_allclose(l_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.encode(lx).numpy(), net["encoder"](tx).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    torch.nn.functional.mse_loss(t_out, tx).backward()
    lm.nn.functional.mse_loss(l_out, lx).backward()
    tgrads = dict(net.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@requires_torch
def test_conv_matches_pytorch_values_and_gradients():
    net = torch_conv([1, 4, 6]).double()
    model = Autoencoder([1, 4, 6], conv=True).double()
    copy_weights(model, net)
    x = rand((3, 1, 8, 8), seed=1, dtype=np.float64)
    tx, lx = torch.tensor(x), lm.tensor(x)
    t_out, l_out = torch_forward(net, tx, flat_output=False), model(lx)
    np.testing.assert_allclose(l_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    torch.nn.functional.binary_cross_entropy(t_out, tx).backward()
    lm.nn.functional.binary_cross_entropy(l_out, lx).backward()
    tgrads = dict(net.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@requires_torch
@pytest.mark.parametrize("scale", [1, 2, 3])
def test_nearest_upsample_matches_torch(scale):
    x = randn((2, 3, 4, 5), seed=2, dtype=np.float64)
    weights = randn((2, 3, 4 * scale, 5 * scale), seed=3, dtype=np.float64)
    tx = torch.tensor(x, requires_grad=True)
    lx = lm.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.interpolate(tx, scale_factor=scale, mode="nearest")
    l_out = NearestUpsample2d(scale)(lx)
    np.testing.assert_array_equal(l_out.numpy(), t_out.detach().numpy())
    (t_out * torch.tensor(weights)).sum().backward()
    (l_out * lm.tensor(weights)).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_bad_arguments_raise_lamina_errors():
    with pytest.raises(LaminaValueError, match="at least an input and a code"):
        Autoencoder([64])
    with pytest.raises(LaminaValueError, match="positive integers"):
        Autoencoder([64, 0])
    with pytest.raises(LaminaValueError, match="comma-separated"):
        Autoencoder("64,x")
    with pytest.raises(LaminaTypeError):
        Autoencoder(64)
    with pytest.raises(LaminaValueError, match="unknown activation 'swishy'"):
        Autoencoder([1, 4], conv=True, activation="swishy")
    with pytest.raises(LaminaValueError, match="scale_factor"):
        NearestUpsample2d(0)
    with pytest.raises(ShapeError, match="64 values"):
        Autoencoder([64, 2])(lm.rand(3, 1, 4, 4))
    with pytest.raises(ShapeError, match="divisible by 4"):
        Autoencoder([1, 4, 8], conv=True)(lm.rand(2, 1, 6, 6))
    with pytest.raises(ShapeError, match=r"\(N, 1, H, W\)"):
        Autoencoder([1, 4], conv=True)(lm.rand(2, 3, 8, 8))


# ------------------------------------------------------------------------------ specs
def test_specs_build_autoencoders_and_ignore_num_classes():
    dense = build_model("autoencoder:64,32,2:tanh", (1, 8, 8), 10)
    assert isinstance(dense, Autoencoder) and dense.sizes == [64, 32, 2]
    assert dense.activation == "tanh" and not dense.conv
    assert build_model("autoencoder", (1, 28, 28), 3).sizes == [784, 128, 32]
    assert build_model("Autoencoder", (1, 8, 8), 10).sizes == default_autoencoder_sizes((1, 8, 8))
    assert default_autoencoder_sizes((1, 8, 8)) == [64, 32, 16]
    conv = build_model("conv-autoencoder", (3, 32, 32), 10)
    assert conv.conv and conv.sizes == [3, 16, 32]
    assert build_model("conv-autoencoder:8,16,32", (1, 8, 8), 10).sizes == [1, 8, 16, 32]


def test_specs_check_the_input_shape():
    with pytest.raises(ShapeError, match="starts with 784 inputs.*64 inputs"):
        build_model("autoencoder:784,32", (1, 8, 8), 10)
    with pytest.raises(ShapeError, match="divisible by 16"):
        build_model("conv-autoencoder:4,8,16,32", (1, 28, 28), 10)
    with pytest.raises(ShapeError, match="dense autoencoder for vector input"):
        build_model("conv-autoencoder", (64,), 10)
    with pytest.raises(LaminaValueError, match="bad autoencoder spec"):
        build_model("autoencoder:64,2:relu:extra", (1, 8, 8), 10)
    with pytest.raises(LaminaValueError, match="no dropout layer"):
        build_model("autoencoder:64,2", (1, 8, 8), 10, dropout=0.5)


def test_specs_are_listed_and_recognised():
    listed = [spec for spec, _, _ in MODEL_SPECS]
    assert "autoencoder:784,128,32" in listed and "conv-autoencoder:16,32" in listed
    for spec in listed:
        if is_autoencoder_spec(spec):  # the listed examples build for 28x28 images
            assert isinstance(build_model(spec, (1, 28, 28), 10), Autoencoder)
        else:
            assert not spec.split(":")[0].endswith("autoencoder")
    assert sum(map(is_autoencoder_spec, listed)) == 2
    assert any(k.startswith("autoencoder") for k in KNOWN_SPECS)
    assert is_autoencoder_spec(" conv-autoencoder : 8 ") and not is_autoencoder_spec("mlp:64,10")
    assert not is_autoencoder_spec(None)

"""mlp's ``identity`` activation: a deep linear network (Ghauch & Ghadikolaei, Fundamentals of
Deep Neural Networks, "Taxonomy of Neural Networks": sigma_j = I)."""
import numpy as np
import pytest

import lamina as lm
from lamina import nn
from lamina.models import mlp
from lamina.models.spec import build_model


def _product(model) -> tuple[np.ndarray, np.ndarray]:
    """The affine map x -> A x + c that a deep linear network computes, from its layers."""
    a, c = None, None
    for layer in (m for m in model if isinstance(m, nn.Linear)):
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        a, c = (w, b) if a is None else (w @ a, w @ c + b)
    return a, c


def test_spec_builds_a_deep_linear_network():
    model = build_model("mlp:4,8,8,2:identity", (4,), 2)
    assert [type(m).__name__ for m in model] == [
        "Flatten", "Linear", "Identity", "Linear", "Identity", "Linear"]
    assert [m.weight.shape for m in model if isinstance(m, nn.Linear)] == [(8, 4), (8, 8), (2, 8)]


def test_deep_linear_network_is_the_product_of_its_layers():
    lm.manual_seed(0)
    model = mlp([4, 8, 8, 2], "identity")
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    a, c = _product(model)
    np.testing.assert_allclose(model(lm.tensor(x)).detach().numpy(), x @ a.T + c,
                               rtol=1e-5, atol=1e-6)


def test_identity_is_also_an_output_activation_and_case_insensitive():
    model = mlp([3, 2], "sigmoid", output_activation="Identity")
    assert [type(m).__name__ for m in model] == ["Flatten", "Linear", "Identity"]


def test_identity_network_matches_torch():
    torch = pytest.importorskip("torch")
    lm.manual_seed(1)
    model = mlp([4, 8, 8, 2], "identity")
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features).double()
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight.detach().numpy().astype(np.float64)))
                t.bias.copy_(torch.from_numpy(m.bias.detach().numpy().astype(np.float64)))
            layers.append(t)
        elif isinstance(m, nn.Identity):
            layers.append(torch.nn.Identity())
    reference = torch.nn.Sequential(*layers)
    x = np.random.default_rng(1).standard_normal((3, 4))
    ours = lm.tensor(x.astype(np.float32), requires_grad=True)
    out = model(ours)
    out.sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected = reference(theirs)
    expected.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_kaiming_init_uses_the_linear_gain():
    lm.manual_seed(2)
    model = mlp([400, 400, 400], "identity", init="kaiming")
    w = model[1].weight.detach().numpy()
    assert abs(w.std() * np.sqrt(400) - 1.0) < 0.05  # gain 1: std 1/sqrt(fan_in)
    assert np.all(model[1].bias.detach().numpy() == 0)

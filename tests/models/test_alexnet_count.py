"""AlexNet's parameter counts: lamina's full 224x224 configurations against torch modules of
the same layout (built here, on torch's meta device so that nothing is allocated), and the
numbers the module's docstring states."""
import importlib

import numpy as np
import pytest

import lamina as lm
from lamina.models.alexnet import AlexNetImageNet, alexnet, alexnet_imagenet, parameter_counts

from tests.reference import requires_torch, torch
from tests.samples import images
tnn = torch.nn
alexnet_module = importlib.import_module("lamina.models.alexnet")


def torch_alexnet_imagenet(grouped, num_classes=1000, device="meta"):
    """torchvision's AlexNet layout (or Krizhevsky's grouped widths), written from its
    documented architecture."""
    c1, c2, c3, c4, c5 = (96, 256, 384, 384, 256) if grouped else (64, 192, 384, 256, 256)
    g = 2 if grouped else 1
    kw = {"device": device}
    features = tnn.Sequential(
        tnn.Conv2d(3, c1, 11, stride=4, padding=2, **kw), tnn.ReLU(), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(c1, c2, 5, padding=2, groups=g, **kw), tnn.ReLU(), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(c2, c3, 3, padding=1, **kw), tnn.ReLU(),
        tnn.Conv2d(c3, c4, 3, padding=1, groups=g, **kw), tnn.ReLU(),
        tnn.Conv2d(c4, c5, 3, padding=1, groups=g, **kw), tnn.ReLU(), tnn.MaxPool2d(3, 2))
    classifier = tnn.Sequential(
        tnn.Dropout(), tnn.Linear(c5 * 36, 4096, **kw), tnn.ReLU(), tnn.Dropout(),
        tnn.Linear(4096, 4096, **kw), tnn.ReLU(), tnn.Linear(4096, num_classes, **kw))
    model = tnn.Module()
    model.features, model.avgpool, model.classifier = features, tnn.AdaptiveAvgPool2d(6), classifier
    return model


def torch_count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def full():
    return alexnet_imagenet()


@pytest.fixture(scope="module")
def grouped():
    return alexnet_imagenet(grouped=True)


@requires_torch
def test_full_alexnet_count_and_shapes_match_torch(full):
    reference = torch_alexnet_imagenet(grouped=False)
    assert full.num_parameters() == torch_count(reference)
    ours = {k: tuple(v.shape) for k, v in full.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert ours == theirs  # torchvision's keys and shapes: its weights would load


@requires_torch
def test_grouped_alexnet_count_matches_torch(grouped):
    assert grouped.num_parameters() == torch_count(torch_alexnet_imagenet(grouped=True))


@requires_torch
def test_small_alexnet_is_a_different_count():
    small = alexnet(10, 3)
    assert small.num_parameters() < torch_count(torch_alexnet_imagenet(False)) / 100


@requires_torch
def test_full_alexnet_forward_matches_torch_on_one_image(full):
    reference = torch_alexnet_imagenet(grouped=False, device="cpu")
    state = {k: torch.from_numpy(v.numpy()) for k, v in full.state_dict().items()}
    reference.load_state_dict(state)
    full.eval(), reference.eval()
    x = images(1, 3, 224)
    with torch.no_grad():
        t = reference.features(torch.from_numpy(x))
        expected = reference.classifier(reference.avgpool(t).flatten(1)).numpy()
    with lm.no_grad():
        got = full(lm.tensor(x)).numpy()
    assert got.shape == (1, 1000)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_docstring_states_the_computed_numbers(full, grouped):
    doc = alexnet_module.__doc__
    for model in (full, grouped):
        assert f"{model.num_parameters():,}" in doc
    fc = full.classifier.num_parameters() / full.num_parameters()
    assert f"({fc:.0%})" in doc and "160m" in doc
    assert isinstance(full, AlexNetImageNet)


@requires_torch
def test_parameter_counts_counts_each_configuration(full, grouped, monkeypatch):
    # reuse the modules built above (building 122M parameters again would be slow)
    def built(num_classes=1000, dropout=0.5, grouped=False):
        return grouped_model if grouped else full

    grouped_model = grouped
    monkeypatch.setattr(alexnet_module, "alexnet_imagenet", built)
    rows = parameter_counts()
    assert [r["parameters"] for r in rows] == [torch_count(torch_alexnet_imagenet(True)),
                                               torch_count(torch_alexnet_imagenet(False)),
                                               alexnet(10, 3).num_parameters()]
    assert rows[1]["classifier"] == sum(p.numel() for n, p in
                                        torch_alexnet_imagenet(False).named_parameters()
                                        if n.startswith("classifier"))
    assert "Krizhevsky" in rows[0]["name"] and "torchvision" in rows[1]["name"]

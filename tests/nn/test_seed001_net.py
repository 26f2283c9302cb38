"""Lecture 001's PyTorch example (PyTorchCS446.py), written once and run on both libraries.

Seed 001's ``Net`` (Schwing & Telgarsky, "Deep Neural Networks": ``__init__`` and ``forward``
as on the slide, ``num_flat_features`` as in the PyTorch tutorial it comes from) is defined
once, in tests/reference_models.py, on whichever library it is given: once on
``torch``/``torch.nn``/``torch.nn.functional`` and once on ``lamina``/``lamina.nn``/
``lamina.nn.functional``. With the same weights (moved through ``load_state_dict``) and the
same 32x32 input, both give the same logits, the same loss and the same gradients.
"""
from __future__ import annotations

import numpy as np
import pytest

import lamina
import lamina.nn
import lamina.nn.functional
from tests.reference import check_against_torch, requires_torch, torch
from tests.reference_models import reference_models
from tests.samples import randn


def test_the_lamina_net_has_the_slides_61706_parameters():
    net = reference_models(lamina).Net()
    assert net.num_parameters() == 61706
    assert net(lamina.tensor(randn((2, 1, 32, 32)))).shape == (2, 10)


@pytest.fixture
def nets():
    torch.manual_seed(0)
    ref, mine = reference_models(torch).Net(), reference_models(lamina).Net()
    result = mine.load_state_dict(ref.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    return ref, mine


@requires_torch
def test_architecture_matches_torch(nets):
    ref, mine = nets
    assert repr(mine) == repr(ref)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert mine.num_parameters() == sum(p.numel() for p in ref.parameters()) == 61706


def _compare(ref, mine, loss_fn_torch, loss_fn_lamina, batch: int):
    """Logits and loss agree (1e-5); so do the gradients of the loss with respect to the
    input and every parameter (1e-4)."""
    def run(net, loss_fn):
        def forward(x):
            out = net(x)
            return out.detach(), loss_fn(out)  # both compared; the loss differentiated
        return forward

    r = check_against_torch(run(mine, loss_fn_lamina), run(ref, loss_fn_torch),
                            randn((batch, 1, 32, 32), seed=2018), modules=(mine, ref),
                            cotangent="ones", rtol=1e-5, atol=1e-5, grad_rtol=1e-4, grad_atol=1e-4)
    assert r.lamina.values[0].shape == (batch, 10) and r.lamina.values[0].dtype == np.float32


@requires_torch
def test_logits_and_gradients_match_torch_with_a_weighted_sum(nets):
    ref, mine = nets
    c = randn((4, 10), seed=7)
    _compare(ref, mine,
             lambda out: (out * torch.tensor(c)).sum(),
             lambda out: (out * lamina.tensor(c)).sum(), batch=4)


@requires_torch
def test_logits_and_gradients_match_torch_with_cross_entropy(nets):
    ref, mine = nets
    target = np.array([3, 0, 9, 3, 7])
    _compare(ref, mine,
             lambda out: torch.nn.CrossEntropyLoss()(out, torch.tensor(target)),
             lambda out: lamina.nn.CrossEntropyLoss()(out, lamina.tensor(target)), batch=5)


@requires_torch
def test_single_image_input_is_flattened_by_view(nets):
    """The lecture's question "What are the input dimensions?": 1x32x32 images in batches."""
    ref, mine = nets
    x = randn((1, 1, 32, 32), seed=3)
    np.testing.assert_allclose(mine(lamina.tensor(x)).numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@requires_torch
def test_weights_trained_in_lamina_load_back_into_torch(nets):
    ref, mine = nets
    with lamina.no_grad():
        for p in mine.parameters():
            p.mul_(0.5)
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.state_dict().items()})
    x = randn((2, 1, 32, 32), seed=5)
    np.testing.assert_allclose(ref(torch.tensor(x)).detach().numpy(),
                               mine(lamina.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)

"""Lecture 001's PyTorch example (PyTorchCS446.py), written once and run on both libraries.

The class source below is the lecture's ``Net`` (``__init__`` and ``forward`` as on the
slide, ``num_flat_features`` as in the PyTorch tutorial it comes from); it is executed twice, once with ``torch``/``torch.nn``/``torch.nn.functional`` bound to the names
``torch``/``nn``/``F`` and once with ``lamina``/``lamina.nn``/``lamina.nn.functional``. With
the same weights (moved through ``load_state_dict``) and the same 32x32 input, both give
the same logits, the same loss and the same gradients.
"""
from __future__ import annotations

import numpy as np
import pytest

import lamina
import lamina.nn
import lamina.nn.functional

torch = pytest.importorskip("torch")
import torch.nn  # noqa: E402
import torch.nn.functional  # noqa: E402

NET_SOURCE = '''
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features
'''


def _net_class(library, nn_module, functional):
    namespace = {"torch": library, "nn": nn_module, "F": functional}
    exec(NET_SOURCE, namespace)
    return namespace["Net"]


TorchNet = _net_class(torch, torch.nn, torch.nn.functional)
LaminaNet = _net_class(lamina, lamina.nn, lamina.nn.functional)


@pytest.fixture
def nets():
    torch.manual_seed(0)
    ref, mine = TorchNet(), LaminaNet()
    result = mine.load_state_dict(ref.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    return ref, mine


def test_architecture_matches_torch(nets):
    ref, mine = nets
    assert repr(mine) == repr(ref)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert mine.num_parameters() == sum(p.numel() for p in ref.parameters()) == 61706


def _compare(ref, mine, loss_fn_torch, loss_fn_lamina, batch: int):
    rng = np.random.default_rng(2018)
    x = rng.standard_normal((batch, 1, 32, 32)).astype(np.float32)
    x_t = torch.tensor(x, requires_grad=True)
    x_l = lamina.tensor(x, requires_grad=True)
    out_t, out_l = ref(x_t), mine(x_l)
    assert out_l.shape == (batch, 10) and out_l.dtype == np.float32
    np.testing.assert_allclose(out_l.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-5)
    loss_t, loss_l = loss_fn_torch(out_t), loss_fn_lamina(out_l)
    np.testing.assert_allclose(loss_l.item(), loss_t.item(), rtol=1e-5, atol=1e-5)
    loss_t.backward()
    loss_l.backward()
    np.testing.assert_allclose(x_l.grad.numpy(), x_t.grad.numpy(), rtol=1e-4, atol=1e-4)
    grads_t = {k: p.grad.numpy() for k, p in ref.named_parameters()}
    grads_l = {k: p.grad.numpy() for k, p in mine.named_parameters()}
    assert list(grads_l) == list(grads_t)
    for key in grads_t:
        assert grads_l[key].dtype == np.float32
        np.testing.assert_allclose(grads_l[key], grads_t[key], rtol=1e-4, atol=1e-4, err_msg=key)


def test_logits_and_gradients_match_torch_with_a_weighted_sum(nets):
    ref, mine = nets
    c = np.random.default_rng(7).standard_normal((4, 10)).astype(np.float32)
    _compare(ref, mine,
             lambda out: (out * torch.tensor(c)).sum(),
             lambda out: (out * lamina.tensor(c)).sum(), batch=4)


def test_logits_and_gradients_match_torch_with_cross_entropy(nets):
    ref, mine = nets
    target = np.array([3, 0, 9, 3, 7])
    _compare(ref, mine,
             lambda out: torch.nn.CrossEntropyLoss()(out, torch.tensor(target)),
             lambda out: lamina.nn.CrossEntropyLoss()(out, lamina.tensor(target)), batch=5)


def test_single_image_input_is_flattened_by_view(nets):
    """The lecture's question "What are the input dimensions?": 1x32x32 images in batches."""
    ref, mine = nets
    x = np.random.default_rng(3).standard_normal((1, 1, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(mine(lamina.tensor(x)).numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_weights_trained_in_lamina_load_back_into_torch(nets):
    ref, mine = nets
    with lamina.no_grad():
        for p in mine.parameters():
            p.mul_(0.5)
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((2, 1, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(ref(torch.tensor(x)).detach().numpy(),
                               mine(lamina.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)

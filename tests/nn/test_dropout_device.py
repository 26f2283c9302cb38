"""Dropout on the 'cuda' device (the checking array module everywhere, CuPy on a GPU): the mask
is drawn on the input's device, about 1 - p of the units are kept and scaled by 1 / (1 - p),
the gradient is the same mask, and evaluation mode is the identity. On the CPU the mask is
still the global generator's float32 stream (the device path changed nothing there)."""
import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
import lamina.nn.functional as F
from lamina.backend import check_device

SHAPE = (200, 60)          # 12000 units: the kept fraction is within 0.03 of 1 - p (> 6 sd)


def _on(device, shape=SHAPE, requires_grad=False):
    return lm.tensor(np.ones(shape, np.float32), device=device, requires_grad=requires_grad)


def _check_mask(values: np.ndarray, p: float) -> np.ndarray:
    """The kept units (a boolean array) after checking every value is 0 or 1 / (1 - p)."""
    kept = values != 0
    np.testing.assert_allclose(values[kept], np.float32(1 / (1 - p)), rtol=1e-6)
    assert abs(kept.mean() - (1 - p)) < 0.03, f"kept fraction {kept.mean()}, expected {1 - p}"
    return kept


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_and_scales_on_the_device(p, cuda):
    x = _on(cuda, requires_grad=True)
    y = F.dropout(x, p=p)
    assert y.device == check_device(cuda) and y.dtype == lm.float32
    kept = _check_mask(y.cpu().numpy(), p)
    y.backward(_on(cuda))
    assert x.grad.device == check_device(cuda)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), y.detach().cpu().numpy())
    assert 0 < kept.sum() < kept.size


def test_module_eval_is_the_identity_on_the_device(cuda):
    layer = nn.Dropout(0.5)
    x = lm.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), device=cuda)
    train = layer(x)
    assert train.device == check_device(cuda)
    assert np.any(train.cpu().numpy() != x.cpu().numpy())
    layer.eval()
    out = layer(x)
    assert out.device == check_device(cuda)
    np.testing.assert_array_equal(out.cpu().numpy(), x.cpu().numpy())
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout2d_drops_whole_channels_on_the_device(cuda):
    x = _on(cuda, (40, 50, 3, 4))
    y = F.dropout2d(x, p=0.4)
    assert y.device == check_device(cuda)
    v = y.cpu().numpy()
    per_channel = v.reshape(40, 50, -1)
    assert np.all(per_channel == per_channel[:, :, :1])          # one draw per (sample, channel)
    _check_mask(per_channel[:, :, 0], 0.4)


def test_edge_probabilities_and_inplace_on_the_device(cuda):
    zeros = F.dropout(_on(cuda), p=1.0)
    assert zeros.device == check_device(cuda) and not np.any(zeros.cpu().numpy())
    same = F.dropout(_on(cuda), p=0.0)
    np.testing.assert_array_equal(same.cpu().numpy(), np.ones(SHAPE, np.float32))
    leaf = _on(cuda, requires_grad=True)
    h = leaf * 1
    out = F.dropout(h, p=0.5, inplace=True)
    assert out is h and out.device == check_device(cuda)
    _check_mask(out.detach().cpu().numpy(), 0.5)
    out.backward(_on(cuda))
    np.testing.assert_array_equal(leaf.grad.cpu().numpy(), out.detach().cpu().numpy())


def test_device_masks_follow_the_seed(cuda):
    lm.manual_seed(7)
    first = F.dropout(_on(cuda), 0.5).cpu().numpy()
    second = F.dropout(_on(cuda), 0.5).cpu().numpy()
    lm.manual_seed(7)
    again = F.dropout(_on(cuda), 0.5).cpu().numpy()
    np.testing.assert_array_equal(first, again)
    assert np.any(first != second)


def test_cpu_mask_is_the_global_float32_stream():
    lm.manual_seed(3)
    y = F.dropout(lm.ones(*SHAPE), p=0.3).numpy()
    lm.manual_seed(3)
    expected = lm.random.generator().random(SHAPE, dtype=np.float32) >= np.float32(0.3)
    np.testing.assert_array_equal(y != 0, expected)

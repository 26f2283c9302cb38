"""Module state dicts: keys, order and shapes as PyTorch's, values that share memory, and
weights loaded both ways between torch and lamina, with every problem reported at once."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaValueError, ShapeError

from tests.nn.module_models import Ordered, models  # noqa: F401 (models is a fixture)
from tests.reference import requires_torch, torch
from tests.samples import randn
tnn = torch.nn


@requires_torch
def test_state_dict_keys_and_shapes_match_torch(models):  # noqa: F811 (the fixture)
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
def test_weights_move_both_ways_between_torch_and_lamina(models):  # noqa: F811 (the fixture)
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

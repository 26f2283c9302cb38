"""Dropout, BatchNorm and LayerNorm layers against PyTorch (Embedding, RNN and RBF:
test_embedding_rnn_rbf.py).

Every layer gets the same weights as its torch twin (through ``load_state_dict`` of torch's
``state_dict``, which also checks the names) and the same inputs; outputs, input gradients
and parameter gradients are compared for a random cotangent, in training and eval modes.
"""
import numpy as np
import pytest

import lamina as lm
from lamina.nn.layers.dropout import Dropout, Dropout1d, Dropout2d
from lamina.nn.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm

from tests.nn.layer_twins import run_both, twin
from tests.reference import requires_torch, torch
from tests.samples import randn


# ---------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("fn", [lm.dropout, lambda x, p: Dropout(p)(x)])
def test_dropout_p_one_gives_zeros_without_nan(fn):
    x = lm.tensor(randn((50, 20)),
                  requires_grad=True)
    y = fn(x, 1.0)
    assert not np.isnan(y.numpy()).any() and not np.any(y.numpy())
    y.backward(lm.ones(50, 20))
    assert not np.isnan(x.grad.numpy()).any() and not np.any(x.grad.numpy())


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
@pytest.mark.parametrize("make", [lambda p: lm.dropout(lm.ones(3), p), Dropout, Dropout2d,
                                  lambda p: lm.ops.dropout2d(lm.ones(2, 3, 4, 4), p)])
def test_dropout_bad_p_raises(make, p):
    with pytest.raises(lm.LaminaValueError, match="p="):
        make(p)


@pytest.mark.parametrize("cls,shape", [(Dropout, (4, 5)), (Dropout1d, (2, 3, 5)), (Dropout2d, (2, 3, 4, 4))])
def test_dropout_eval_is_identity(cls, shape):
    layer = cls(0.5)
    layer.eval()
    x = lm.randn(*shape)
    assert layer(x) is x
    assert lm.dropout(x, 0.5, training=False) is x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_fraction_and_scales(p, dtype):
    x = lm.tensor(np.random.default_rng(1).uniform(1, 2, 200_000).astype(dtype), requires_grad=True)
    y = lm.dropout(x, p)
    assert y.dtype == dtype
    kept = y.numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-6)
    y.backward(lm.ones(200_000, dtype=dtype))
    assert x.grad.dtype == dtype
    expected = np.where(kept, 1 / (1 - p), 0).astype(dtype)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_dropout_same_seed_same_mask():
    x = lm.ones(1000)
    lm.manual_seed(42)
    a = Dropout(0.5)(x).numpy()
    b = Dropout(0.5)(x).numpy()
    lm.manual_seed(42)
    c = Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, c)
    assert np.any(a != b)


@pytest.mark.parametrize("cls,shape", [(Dropout2d, (8, 16, 3, 3)), (Dropout2d, (16, 3, 3)),
                                       (Dropout1d, (8, 16, 5)), (Dropout1d, (16, 5))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    y = cls(0.5)(lm.ones(*shape)).numpy()
    batched = len(shape) == (4 if cls is Dropout2d else 3)
    lead = 2 if batched else 1
    per_channel = y.reshape(shape[:lead] + (-1,))
    first = per_channel[..., :1]
    assert np.all(per_channel == first)                     # one value per channel
    assert set(np.unique(first)) <= {0.0, 2.0}
    assert 0 < np.mean(first == 0) < 1


def test_dropout2d_on_a_2d_input_warns_and_drops_elementwise_as_torch():
    lm.manual_seed(0)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        y = Dropout2d(0.5)(lm.ones(40, 50))
    values = y.numpy()
    assert set(np.unique(values)) <= {0.0, 2.0}
    # element-wise: rows are not all-zero or all-kept, unlike channel dropout
    assert 0 < (values == 0).mean() < 1
    assert any(0 < (row == 0).mean() < 1 for row in values)


def test_dropout_inplace():
    x = lm.ones(100)
    lm.manual_seed(3)
    y = Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    # With a graph: the in-place result carries the same gradient as the out-of-place one.
    leaf = lm.tensor(np.arange(1.0, 11.0, dtype=np.float32), requires_grad=True)
    lm.manual_seed(5)
    out = lm.dropout(lm.mul(leaf, lm.tensor(np.float32(3.0))), 0.5, inplace=True)
    out.backward(lm.ones(10))
    lm.manual_seed(5)
    np.testing.assert_array_equal(leaf.grad.numpy(), 3 * (lm.dropout(lm.ones(10), 0.5).numpy()))
    with pytest.raises(lm.InplaceError):
        lm.dropout(leaf, 0.5, inplace=True)


# ---------------------------------------------------------------------------- batch norm
BN_CASES = [(BatchNorm1d, torch.nn.BatchNorm1d, (16, 4)), (BatchNorm1d, torch.nn.BatchNorm1d, (6, 4, 5)),
            (BatchNorm2d, torch.nn.BatchNorm2d, (4, 4, 3, 5))]


def bn_twins(lm_cls, t_cls, rng, **kw):
    t = t_cls(4, **kw)
    if t.affine:
        with torch.no_grad():
            t.weight.copy_(torch.tensor(rng.standard_normal(4)))
            t.bias.copy_(torch.tensor(rng.standard_normal(4)))
    return twin(lm_cls(4, **kw), t)


def assert_buffers_equal(lm_module, t_module):
    for name, buf in t_module.named_buffers():
        got = getattr(lm_module, name).numpy()
        assert got.dtype == buf.numpy().dtype, name
        np.testing.assert_allclose(got, buf.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


@requires_torch
@pytest.mark.parametrize("lm_cls,t_cls,shape", BN_CASES)
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_matches_torch_train_then_eval(lm_cls, t_cls, shape, momentum, affine, rng):
    lm_bn, t_bn = bn_twins(lm_cls, t_cls, rng, momentum=momentum, affine=affine)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        run_both(lm_bn, t_bn, [x], rng)
        assert_buffers_equal(lm_bn, t_bn)
    assert int(lm_bn.num_batches_tracked.numpy()) == 4
    lm_bn.eval()
    t_bn.eval()
    run_both(lm_bn, t_bn, [(rng.standard_normal(shape) * 3).astype(np.float32)], rng)
    assert_buffers_equal(lm_bn, t_bn)


@requires_torch
@pytest.mark.parametrize("lm_cls,t_cls,shape", BN_CASES)
def test_batchnorm_without_running_stats(lm_cls, t_cls, shape, rng):
    lm_bn, t_bn = bn_twins(lm_cls, t_cls, rng, track_running_stats=False)
    assert lm_bn.running_mean is None and lm_bn.num_batches_tracked is None
    for mode in (True, False):
        lm_bn.train(mode)
        t_bn.train(mode)
        run_both(lm_bn, t_bn, [rng.standard_normal(shape).astype(np.float32)], rng)


@requires_torch
@pytest.mark.parametrize("lm_cls,t_cls,shape", BN_CASES)
def test_batchnorm_state_dict_names_and_dtypes(lm_cls, t_cls, shape):
    lm_sd, t_sd = lm_cls(4).state_dict(), t_cls(4).state_dict()
    assert list(lm_sd) == list(t_sd) == ["weight", "bias", "running_mean", "running_var",
                                         "num_batches_tracked"]
    for key in t_sd:
        assert lm_sd[key].dtype == t_sd[key].numpy().dtype, key
        np.testing.assert_array_equal(lm_sd[key].numpy(), t_sd[key].numpy(), err_msg=key)
    assert [n for n, _ in lm_cls(4).named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("cls,shape", [(BatchNorm1d, (1, 4)), (BatchNorm1d, (1, 4, 1)),
                                       (BatchNorm2d, (1, 4, 1, 1))])
def test_batchnorm_one_value_per_channel(cls, shape):
    bn = cls(4)
    with pytest.raises(lm.LaminaValueError, match="Expected more than 1 value per channel"):
        bn(lm.randn(*shape))
    before = [b.numpy().copy() for b in bn.buffers()]
    bn.eval()
    y = bn(lm.randn(*shape))                              # eval with a single sample works
    assert y.shape == shape
    for b, old in zip(bn.buffers(), before):
        np.testing.assert_array_equal(b.numpy(), old)


@pytest.mark.parametrize("cls,bad", [(BatchNorm2d, (2, 4, 5)), (BatchNorm2d, (2, 4)),
                                     (BatchNorm1d, (2, 4, 3, 3)), (BatchNorm1d, (4,))])
def test_batchnorm_checks_dimensionality(cls, bad):
    with pytest.raises(lm.ShapeError, match=r"expected .*D input \(got"):
        cls(4)(lm.randn(*bad))


def test_batchnorm_checks_channels():
    with pytest.raises(lm.ShapeError, match="3 channels"):
        BatchNorm2d(4)(lm.randn(2, 3, 5, 5))


def test_batchnorm_eval_uses_running_stats(rng):
    bn = BatchNorm1d(3)
    bn.running_mean.copy_(lm.tensor([1.0, -2.0, 0.5]))
    bn.running_var.copy_(lm.tensor([4.0, 0.25, 1.0]))
    bn.eval()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    expected = (x - np.array([1.0, -2.0, 0.5])) / np.sqrt(np.array([4.0, 0.25, 1.0]) + 1e-5)
    np.testing.assert_allclose(bn(lm.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(shape, norm, affine, rng):
    t = torch.nn.LayerNorm(norm, elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            t.weight.copy_(torch.tensor(rng.standard_normal(norm)))
            t.bias.copy_(torch.tensor(rng.standard_normal(norm)))
    lm_ln, t_ln = twin(LayerNorm(norm, elementwise_affine=affine), t)
    run_both(lm_ln, t_ln, [rng.standard_normal(shape).astype(np.float32)], rng)

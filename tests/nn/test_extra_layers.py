"""Dropout, BatchNorm, LayerNorm, Embedding, RNN and RBF layers against PyTorch.

Every layer gets the same weights as its torch twin (through ``load_state_dict`` of torch's
``state_dict``, which also checks the names) and the same inputs; outputs, input gradients
and parameter gradients are compared for a random cotangent, in training and eval modes.
"""
import numpy as np
import pytest

import lamina as lm
from lamina.nn.layers.dropout import Dropout, Dropout1d, Dropout2d
from lamina.nn.layers.embedding import Embedding, embedding
from lamina.nn.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from lamina.nn.layers.rbf import RBF
from lamina.nn.layers.rnn import RNN

from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import randn


def run_both(lm_module, t_module, inputs, rng):
    """Forward both modules on copies of ``inputs`` (NumPy arrays), backward a cotangent
    drawn from ``rng``, and compare outputs (1e-5), input and parameter gradients (1e-4);
    lamina's outputs."""
    return check_against_torch(lm_module, t_module, *inputs, modules=(lm_module, t_module),
                               cotangent=rng, rtol=1e-5, atol=1e-5, grad_rtol=1e-4,
                               grad_atol=1e-4).lamina.outputs


def twin(lm_module, t_module):
    """Give ``lm_module`` the torch module's state; the keys must be torch's, in order."""
    sd = t_module.state_dict()
    assert list(lm_module.state_dict().keys()) == list(sd.keys())
    lm_module.load_state_dict(sd)
    return lm_module, t_module


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


# ---------------------------------------------------------------------------- embedding
@requires_torch
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("training", [True, False])
def test_embedding_matches_torch(padding_idx, training, rng):
    lm_emb, t_emb = twin(Embedding(7, 5, padding_idx=padding_idx),
                         torch.nn.Embedding(7, 5, padding_idx=padding_idx))
    lm_emb.train(training)
    t_emb.train(training)
    ids = np.array([[1, 3, 3, 6], [0, 3, 1, 6], [6, 6, 2, 0]], dtype=np.int64)  # repeats
    run_both(lm_emb, t_emb, [ids], rng)
    run_both(lm_emb, t_emb, [ids[0]], rng)


def test_embedding_init_and_padding_row():
    emb = Embedding(2000, 50, padding_idx=5)
    w = emb.weight.numpy()
    assert w.dtype == np.float32 and w.shape == (2000, 50)
    assert not np.any(w[5])
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02
    ids = lm.tensor([[5, 1, 5]])
    out = emb(ids)
    out.backward(lm.ones(1, 3, 50))
    assert not np.any(emb.weight.grad.numpy()[5])
    np.testing.assert_array_equal(emb.weight.grad.numpy()[1], np.ones(50, np.float32))
    assert list(emb.state_dict()) == ["weight"]


@pytest.mark.parametrize("ids,exc", [([0, 7], lm.LaminaValueError), ([-1], lm.LaminaValueError),
                                     ([0.5], lm.LaminaTypeError)])
def test_embedding_bad_indices(ids, exc):
    with pytest.raises(exc):
        Embedding(7, 3)(lm.tensor(ids))


def test_embedding_functional_and_pretrained():
    weight = lm.randn(4, 2)
    emb = Embedding.from_pretrained(weight)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(embedding(lm.tensor([2, 0]), weight).numpy(),
                                  weight.numpy()[[2, 0]])
    np.testing.assert_array_equal(emb(lm.tensor([3])).numpy(), weight.numpy()[[3]])


# ---------------------------------------------------------------------------- RNN
@requires_torch
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_matches_torch(num_layers, nonlinearity, batch_first, with_h0, rng):
    kw = dict(num_layers=num_layers, nonlinearity=nonlinearity, batch_first=batch_first)
    lm_rnn, t_rnn = twin(RNN(3, 5, **kw), torch.nn.RNN(3, 5, **kw))
    x = rng.standard_normal((2, 6, 3) if batch_first else (6, 2, 3)).astype(np.float32)
    inputs = [x] + ([rng.standard_normal((num_layers, 2, 5)).astype(np.float32)] if with_h0 else [])
    for mode in (True, False):
        lm_rnn.train(mode)
        t_rnn.train(mode)
        out, h = run_both(lm_rnn, t_rnn, inputs, rng)
        assert out.shape == ((2, 6, 5) if batch_first else (6, 2, 5))
        assert h.shape == (num_layers, 2, 5)


@requires_torch
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_unbatched_and_no_bias(with_h0, bias, rng):
    lm_rnn, t_rnn = twin(RNN(3, 4, num_layers=2, bias=bias), torch.nn.RNN(3, 4, num_layers=2, bias=bias))
    inputs = [rng.standard_normal((5, 3)).astype(np.float32)]
    if with_h0:
        inputs.append(rng.standard_normal((2, 4)).astype(np.float32))
    out, h = run_both(lm_rnn, t_rnn, inputs, rng)
    assert out.shape == (5, 4) and h.shape == (2, 4)


@requires_torch
def test_rnn_parameter_names_and_init():
    rnn = RNN(10, 16, num_layers=2)
    names = [n for n, _ in rnn.named_parameters()]
    assert names == [n for n, _ in torch.nn.RNN(10, 16, num_layers=2).named_parameters()]
    bound = 1 / np.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in rnn.parameters()])
    assert values.dtype == np.float32
    assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.9 * bound
    assert rnn.weight_ih_l1.shape == (16, 16) and rnn.weight_ih_l0.shape == (16, 10)


def test_rnn_dropout_between_layers_only_in_training(rng):
    rnn = RNN(3, 8, num_layers=2, dropout=0.5)
    x = lm.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32))
    rnn.eval()
    a, b = rnn(x)[0].numpy(), rnn(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    rnn.train()
    assert np.any(rnn(x)[0].numpy() != a)


@pytest.mark.parametrize("kwargs,call,match", [
    (dict(nonlinearity="sigmoid"), None, "Unknown nonlinearity"),
    (dict(dropout=1.5), None, "dropout"),
    ({}, lambda r: r(lm.randn(5, 2, 4)), "input_size"),
    ({}, lambda r: r(lm.randn(5, 2, 3), lm.randn(1, 3, 6)), "Expected hidden size"),
    ({}, lambda r: r(lm.randn(5, 3), lm.randn(1, 2, 6)), "2-D"),
    ({}, lambda r: r(lm.randn(5, 2, 3, 1)), "2D or 3D"),
])
def test_rnn_errors(kwargs, call, match):
    with pytest.raises(lm.LaminaValueError, match=match):
        rnn = RNN(3, 6, **kwargs)
        call(rnn)


def test_rnn_gradcheck_float64(rng):
    rnn = RNN(2, 3, num_layers=2, nonlinearity="tanh").double()
    x = lm.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    h0 = lm.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    assert lm.autograd.gradcheck(lambda x, h0, w: rnn(x, h0), [x, h0, rnn.weight_hh_l0])


# ---------------------------------------------------------------------------- RBF
def rbf_reference(x, centers, beta):
    return torch.exp(-beta * ((x.unsqueeze(-2) - centers) ** 2).sum(-1))


@requires_torch
@pytest.mark.parametrize("shape", [(6, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("trainable_beta", [False, True])
def test_rbf_matches_direct_formula(shape, trainable_beta, rng):
    layer = RBF(3, 5, beta=0.7, trainable_beta=trainable_beta)
    assert list(layer.state_dict()) == (["centers", "beta"] if trainable_beta else ["centers"])
    assert layer.centers.shape == (5, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    ct = torch.tensor(layer.centers.numpy(), requires_grad=True)
    bt = torch.tensor(0.7, requires_grad=trainable_beta)
    r = check_against_torch(layer, lambda xt: rbf_reference(xt, ct, bt), x, cotangent=rng,
                            rtol=1e-5, atol=1e-6, grad_rtol=1e-4, grad_atol=1e-5)
    np.testing.assert_allclose(layer.centers.grad.numpy(), ct.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert r.lamina.grads[0].dtype == layer.centers.grad.dtype == np.float32
    if trainable_beta:
        np.testing.assert_allclose(layer.beta.grad.numpy(), bt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_rbf_at_a_centre_is_one_with_finite_gradient():
    layer = RBF(4, 3)
    x = lm.tensor(layer.centers.numpy()[1:2] * 1.0, requires_grad=True)
    y = layer(x)
    assert abs(float(y.numpy()[0, 1]) - 1.0) < 1e-5
    y.backward(lm.ones(1, 3))
    assert np.all(np.isfinite(x.grad.numpy())) and np.all(np.isfinite(layer.centers.grad.numpy()))


def test_rbf_gradcheck_float64(rng):
    layer = RBF(3, 4, beta=0.5, trainable_beta=True).double()
    x = lm.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert lm.autograd.gradcheck(lambda x, c, b: layer(x), [x, layer.centers, layer.beta])


@pytest.mark.parametrize("kwargs", [dict(beta=0.0), dict(beta=-1.0), dict(in_features=0)])
def test_rbf_bad_arguments(kwargs):
    args = dict(in_features=3, out_features=2) | kwargs
    with pytest.raises(lm.LaminaValueError):
        RBF(**args)

"""Embedding, RNN and RBF layers against PyTorch (Dropout, BatchNorm and LayerNorm:
test_extra_layers.py).

As there, each layer is made a twin of its torch counterpart (``layer_twins.twin``: torch's
weights, names checked) and both run on one input and one random cotangent, in training and
eval modes. The RBF layer, which torch lacks, is compared with its formula written in torch.
"""
import numpy as np
import pytest

import lamina as lm
from lamina.nn.layers.embedding import Embedding, embedding
from lamina.nn.layers.rbf import RBF
from lamina.nn.layers.rnn import RNN

from tests.nn.layer_twins import run_both, twin
from tests.reference import check_against_torch, requires_torch, torch


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

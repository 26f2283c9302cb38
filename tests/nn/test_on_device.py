"""lamina.nn on a CUDA device: every layer of tests/nn/test_layers.py's table and a few
recurrent layers against PyTorch with the lamina module and input on "cuda", and
``Module.to``/``cuda``/``cpu`` moving parameters, gradients and buffers in place.

Run through the ``cuda`` fixture (tests/conftest.py): the checking array module on every
machine (it refuses any silent conversion of a device array to NumPy), CuPy where a GPU is.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaValueError

from tests.nn.test_layers import LAYERS, _pair
from tests.nn.test_recurrent import LAYER_CONFIGS, layer_inputs, run_layer, twin
from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import randn


def _host(t: lm.Tensor) -> np.ndarray:
    return t.cpu().numpy()


@requires_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,source,shape", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch_on_device(name, source, shape, cuda):
    ref, mine = _pair(source)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    r = check_against_torch(mine, ref, rng.standard_normal(shape).astype(np.float32),
                            modules=(mine, ref), cotangent=rng, rtol=1e-5, atol=1e-5,
                            grad_rtol=1e-4, grad_atol=1e-4, name=name, device=cuda)
    assert r.lamina.values[0].dtype == np.float32
    assert all(p.device == lm.device("cuda", 0) for p in mine.parameters())


# A few of tests/nn/test_recurrent.py's configurations: every mode, stacked, bidirectional,
# batch_first, an initial state, unbatched.
RECURRENT = [("LSTM", *LAYER_CONFIGS[1]), ("GRU", *LAYER_CONFIGS[3]), ("RNN", *LAYER_CONFIGS[6]),
             ("LSTM", *LAYER_CONFIGS[7])]


@requires_torch
@pytest.mark.parametrize("name,kwargs,batched,with_state", RECURRENT,
                         ids=[f"{r[0]}-{k}" for k, r in enumerate(RECURRENT)])
def test_recurrent_layer_matches_torch_on_device(name, kwargs, batched, with_state, cuda):
    rng = np.random.default_rng(zlib.crc32(name.encode()) + len(kwargs))
    mine, ref = twin(name, np.float32, 3, 5, **kwargs)
    inputs = layer_inputs(name, kwargs, batched, with_state, np.float32, rng)
    check_against_torch(lambda *xs: run_layer(mine, lm, *xs), lambda *xs: run_layer(ref, torch, *xs),
                        *inputs, modules=(mine, ref), cotangent=rng, rtol=1e-5, atol=1e-5,
                        grad_rtol=1e-4, grad_atol=1e-4, device=cuda)


@requires_torch
@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell"])
def test_recurrent_cell_matches_torch_on_device(name, cuda):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    mine, ref = twin(name, np.float32, 3, 5)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    check_against_torch(mine, ref, x, modules=(mine, ref), cotangent=rng, rtol=1e-5, atol=1e-5,
                        grad_rtol=1e-4, grad_atol=1e-4, device=cuda)


def _net():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(2 * 4 * 4, 3))


def test_to_moves_parameters_grads_and_buffers_in_place(cuda):
    net = _net()
    params = list(net.parameters())
    x = lm.tensor(randn((2, 1, 6, 6), seed=1))
    net(x).sum().backward()
    host = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    grads = [_host(p.grad) for p in params]
    assert net.to(cuda) is net
    assert list(net.parameters()) == params and all(a is b for a, b in zip(net.parameters(), params))
    device = lm.device("cuda", 0)
    assert next(net.parameters()).device == device
    assert all(p.device == device and p.grad.device == device for p in params)
    assert all(b.device == device for b in net.buffers())
    bn = net[1]
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.device == device
    for key, value in net.state_dict().items():
        assert value.device == device, key
        np.testing.assert_array_equal(_host(value), host[key], err_msg=key)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(_host(p.grad), g)
    # a forward and backward pass on the device, and the batch-norm statistics updated there
    net.zero_grad()
    y = net(x.to(cuda))
    assert y.device == device
    y.sum().backward()
    assert all(p.grad.device == device for p in params)
    assert int(bn.num_batches_tracked.item()) == 2
    assert net.cpu() is net
    assert all(p.device == lm.device("cpu") and p.grad.device == lm.device("cpu") for p in params)
    assert all(b.device == lm.device("cpu") for b in net.buffers())
    assert isinstance(next(net.parameters()).numpy(), np.ndarray)


def test_cuda_and_to_with_dtype_or_tensor(cuda):
    lin = nn.Linear(3, 2)
    w = lin.weight.numpy().copy()
    assert lin.cuda() is lin and lin.weight.device == lm.device("cuda", 0)
    lin.cpu()
    lin.cuda(0)
    assert lin.bias.device == lm.device("cuda:0")
    lin.cpu().to(cuda, lm.float64)
    assert lin.weight.dtype == np.float64 and lin.weight.device == lm.device("cuda", 0)
    np.testing.assert_array_equal(_host(lin.weight), w.astype(np.float64))
    lin.to(lm.zeros(1, dtype=lm.float32))     # the tensor's device (CPU) and dtype
    assert lin.weight.dtype == np.float32 and lin.weight.device == lm.device("cpu")
    lin.to(lm.zeros(1, dtype=lm.float64, device=cuda))
    assert lin.weight.dtype == np.float64 and lin.weight.is_cuda
    lin.to(dtype=lm.float32, device="cpu")
    assert lin.weight.dtype == np.float32 and not lin.weight.is_cuda
    bn = nn.BatchNorm1d(3).to(cuda).double()
    assert bn.running_mean.dtype == np.float64 and bn.running_mean.is_cuda
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.is_cuda


def test_factory_device_keyword_gives_the_same_weights_as_the_cpu(cuda):
    for make in (lambda **d: nn.Linear(4, 3, **d), lambda **d: nn.Conv2d(2, 3, 3, **d),
                 lambda **d: nn.LSTM(3, 4, **d), lambda **d: nn.Embedding(5, 2, **d),
                 lambda **d: nn.BatchNorm2d(3, **d), lambda **d: nn.LayerNorm(4, **d)):
        lm.manual_seed(5)
        on_cpu = make()
        lm.manual_seed(5)
        on_device = make(device=cuda)
        assert all(t.is_cuda for t in on_device.state_dict().values())
        for key, value in on_cpu.state_dict().items():
            np.testing.assert_array_equal(_host(on_device.state_dict()[key]), value.numpy(), err_msg=key)


def test_init_functions_on_device_parameters_match_the_cpu(cuda):
    fns = [lambda t: nn.init.uniform_(t, -0.5, 0.5), lambda t: nn.init.normal_(t, 0.0, 2.0),
           nn.init.trunc_normal_, lambda t: nn.init.constant_(t, 0.25), nn.init.zeros_,
           nn.init.ones_, nn.init.eye_, nn.init.xavier_uniform_, nn.init.xavier_normal_,
           nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_]
    for k, fn in enumerate(fns):
        host = nn.Parameter(lm.zeros(4, 6))
        device = nn.Parameter(lm.zeros(4, 6, device=cuda))
        lm.manual_seed(k)
        assert fn(host) is host
        lm.manual_seed(k)
        assert fn(device) is device and device.is_cuda
        np.testing.assert_array_equal(_host(device), host.numpy(), err_msg=str(k))
    conv = nn.Parameter(lm.zeros(3, 3, 3, 3, device=cuda))
    nn.init.dirac_(conv)
    assert _host(conv)[1, 1, 1, 1] == 1 and _host(conv).sum() == 3


def test_state_dict_moves_between_device_and_cpu_models(cuda):
    lm.manual_seed(3)
    gpu = _net().to(cuda)
    gpu(lm.tensor(randn((4, 1, 6, 6), seed=2), device=cuda))   # running statistics change
    cpu = _net()
    assert cpu.load_state_dict(gpu.state_dict()) is not None
    for (key, a), b in zip(gpu.state_dict().items(), cpu.state_dict().values()):
        assert not b.is_cuda
        np.testing.assert_array_equal(_host(a), b.numpy(), err_msg=key)
    other = _net().to(cuda)
    other.load_state_dict(cpu.state_dict())
    for (key, a), b in zip(other.state_dict().items(), gpu.state_dict().values()):
        assert a.is_cuda
        np.testing.assert_array_equal(_host(a), _host(b), err_msg=key)
    x = lm.tensor(randn((2, 1, 6, 6), seed=4))
    gpu.eval(), cpu.eval()
    np.testing.assert_allclose(_host(gpu(x.to(cuda))), cpu(x).numpy(), rtol=1e-5, atol=1e-6)


def test_mixed_device_forward_raises_naming_both_devices(cuda):
    lin = nn.Linear(3, 2).to(cuda)
    with pytest.raises(LaminaValueError, match=r"(?=.*cuda:0)(?=.*cpu)"):
        lin(lm.ones(4, 3))


def test_zero_grad_and_requires_grad_on_device(cuda):
    lin = nn.Linear(3, 2).to(cuda)
    lin(lm.ones(4, 3, device=cuda)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad.is_cuda and not _host(lin.weight.grad).any()
    lin.zero_grad()
    assert lin.weight.grad is None


def test_clip_grad_norm_and_value_on_device(cuda):
    values = [randn((3, 4), seed=1) * 3, randn((4,), seed=2)]
    for norm_type in (2.0, 1.0, float("inf"), 3.0):
        for max_norm in (0.5, 100.0):
            host = [nn.Parameter(lm.tensor(v)) for v in values]
            device = [nn.Parameter(lm.tensor(v, device=cuda)) for v in values]
            for p, v in zip(host + device, values + values):
                p.grad = lm.tensor(v * 2, device=p.device)
            n_host = nn.utils.clip_grad_norm_(host, max_norm, norm_type)
            n_device = nn.utils.clip_grad_norm_(device, max_norm, norm_type)
            assert n_device.is_cuda and n_device.dtype == n_host.dtype
            np.testing.assert_allclose(_host(n_device), n_host.numpy(), rtol=1e-6)
            for a, b in zip(device, host):
                assert a.grad.is_cuda
                np.testing.assert_allclose(_host(a.grad), b.grad.numpy(), rtol=1e-6, atol=1e-7)
    p = nn.Parameter(lm.tensor(values[0], device=cuda))
    p.grad = lm.tensor(values[0], device=cuda)
    nn.utils.clip_grad_value_([p], 0.5)
    assert p.grad.is_cuda
    np.testing.assert_array_equal(_host(p.grad), np.clip(values[0], -0.5, 0.5))
    p.grad = lm.tensor(values[0] * np.inf, device=cuda)
    with pytest.raises(LaminaValueError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


@requires_torch
def test_clip_grad_norm_on_device_matches_torch(cuda):
    values = [randn((3, 4), seed=1) * 3, randn((4,), seed=2)]
    mine = [nn.Parameter(lm.tensor(v, device=cuda)) for v in values]
    ref = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    for p, q, v in zip(mine, ref, values):
        p.grad, q.grad = lm.tensor(v, device=cuda), torch.tensor(v)
    n = nn.utils.clip_grad_norm_(mine, 1.0)
    n_ref = torch.nn.utils.clip_grad_norm_(ref, 1.0)
    np.testing.assert_allclose(_host(n), n_ref.numpy(), rtol=1e-6)
    for p, q in zip(mine, ref):
        np.testing.assert_allclose(_host(p.grad), q.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_parameter_utilities_on_device(cuda):
    lin = nn.Linear(3, 2).to(cuda)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.is_cuda and tuple(vec.shape) == (8,)
    nn.utils.vector_to_parameters(vec * 2, lin.parameters())
    np.testing.assert_allclose(_host(nn.utils.parameters_to_vector(lin.parameters())), _host(vec) * 2)
    penalty = nn.utils.lp_penalty(lin.parameters(), p=1.5)
    assert penalty.is_cuda
    penalty.backward()
    assert lin.weight.grad.is_cuda
    before = _host(lin.weight)
    nn.utils.add_weight_noise_(lin, 0.1)
    assert lin.weight.is_cuda and not np.array_equal(_host(lin.weight), before)


def test_packed_sequence_through_a_device_layer(cuda):
    gru = nn.GRU(3, 4).to(cuda)
    seqs = [lm.tensor(randn((n, 3), seed=n), device=cuda) for n in (2, 4, 1)]
    packed = nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    assert packed.is_cuda and packed.sorted_indices.is_cuda and not packed.batch_sizes.is_cuda
    out, h = gru(packed)
    padded, lengths = nn.utils.rnn.pad_packed_sequence(out)
    assert padded.is_cuda and h.is_cuda and lengths.tolist() == [2, 4, 1]
    gru.cpu()
    out_cpu, h_cpu = gru(nn.utils.rnn.pack_sequence([s.cpu() for s in seqs], enforce_sorted=False))
    np.testing.assert_allclose(_host(h), h_cpu.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_host(padded), nn.utils.rnn.pad_packed_sequence(out_cpu)[0].numpy(),
                               rtol=1e-5, atol=1e-6)

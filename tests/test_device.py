"""Devices end to end through the array-module seam: moving tensors, errors like PyTorch's,
creation, saving, ``lamina.cuda`` and ``lamina train --device``. 'cuda' is backed by the
checking array module on every machine (``checking_cuda``), by CuPy where a GPU exists
(``cuda``, whose GPU half skips without one)."""
import json

import numpy as np
import pytest

import lamina as lm
from lamina.autograd.function import Function
from lamina.backend import cuda_backend, get_array_module
from tests.checking_array import BypassError, CheckedArray, checking
from tests.runs import assert_identical_runs


# ------------------------------------------------------------------- the checking module
def test_the_checking_module_refuses_every_silent_conversion():
    a = CheckedArray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(BypassError):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.exp(a)
    with pytest.raises(BypassError):
        np.concatenate([a, a])
    with pytest.raises(BypassError):
        a + np.ones((2, 3))
    with pytest.raises(BypassError):
        checking.maximum(a, np.ones(3))
    # what a device library does allow: its own functions, scalars, host index arrays
    assert type(checking.exp(a)) is CheckedArray
    assert float((a * 2.0 + np.float32(1)).sum()) == 36.0
    assert type(a.sum()) is CheckedArray and a.sum().ndim == 0   # 0-d, not a NumPy scalar
    np.testing.assert_array_equal(a[np.array([1, 0])].get(), np.arange(6.0).reshape(2, 3)[[1, 0]])
    b = checking.zeros(4)
    checking.add.at(b, checking.asarray(np.array([0, 0, 3])), 1.0)
    np.testing.assert_array_equal(b.get(), [2, 0, 0, 1])
    assert get_array_module(a) is np  # no backend installed: an unknown array type is not a device's


class _Bypass(Function):
    """An operation written against NumPy directly, as the seam forbids."""

    @staticmethod
    def forward(ctx, x):
        return np.exp(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_an_operation_that_bypasses_the_seam_fails_on_the_checking_device(checking_cuda):
    x = lm.ones(3)
    np.testing.assert_allclose(_Bypass.apply(x).numpy(), np.e)   # fine on the CPU
    with pytest.raises(TypeError):
        _Bypass.apply(x.to("cuda"))


# ------------------------------------------------------------------- moving tensors
def test_to_cuda_and_back_is_differentiable_and_lands_on_each_device(cuda):
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to(cuda)
    assert y.device == lm.device("cuda", 0) and y.is_cuda and y.get_device() == 0
    assert y.grad_fn.name() == "ToCopyBackward0"
    assert y.to("cuda") is y and y.cuda() is y
    (y * y).sum().backward()
    assert x.grad.device == lm.device("cpu")
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    back = y.cpu()
    assert back.device == lm.device("cpu") and not back.is_cuda
    np.testing.assert_array_equal(back.detach().numpy(), [1.0, 2.0, 3.0])
    z = x.to("cuda", lm.float64)
    assert z.dtype == lm.float64 and z.is_cuda


def test_a_cuda_tensor_refuses_numpy_as_torch_does(cuda):
    t = lm.arange(4.0, device=cuda)
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        t.numpy()
    with pytest.raises(TypeError, match="Tensor.cpu"):
        np.asarray(t)
    assert t.cpu().numpy().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0] and t.sum().item() == 6.0
    assert float(t[1]) == 1.0 and f"{t.sum():.1f}" == "6.0"
    assert repr(t) == "tensor([0., 1., 2., 3.], device='cuda:0')"


def test_mixing_devices_raises_naming_both_but_cpu_scalars_are_welcome(cuda):
    a, b = lm.ones(3, device=cuda), lm.ones(3)
    for mix in (lambda: a + b, lambda: b * a, lambda: lm.matmul(a, b), lambda: a.add_(b)):
        with pytest.raises(lm.LaminaValueError, match=r"cuda:0.*cpu|cpu.*cuda:0"):
            mix()
    c = a + lm.tensor(2.0)          # a 0-d CPU tensor is a scalar, as in PyTorch
    assert c.is_cuda and c.cpu().tolist() == [3.0, 3.0, 3.0]
    assert (a * 2 + 1).is_cuda and (a < 2).is_cuda


def test_creation_on_a_device_draws_the_same_numbers_as_on_the_cpu(cuda):
    lm.manual_seed(5)
    host = lm.randn(4, 3)
    lm.manual_seed(5)
    device = lm.randn(4, 3, device=cuda)
    assert device.is_cuda
    np.testing.assert_array_equal(device.cpu().numpy(), host.numpy())
    assert lm.zeros_like(device).is_cuda and lm.ones_like(device).is_cuda
    assert lm.full((2,), 7.0, device=cuda).is_cuda and lm.eye(2, device="cuda").is_cuda
    assert lm.tensor([1, 2], device=cuda).dtype == lm.int64
    assert device.new_zeros(2).is_cuda
    with lm.device("cuda"):
        assert lm.zeros(2).is_cuda
    assert not lm.zeros(2).is_cuda


def test_save_is_device_independent_and_map_location_moves(cuda, tmp_path):
    state = {"w": lm.randn(3, 2, device=cuda), "step": 3}
    lm.save(state, tmp_path / "s.safetensors")
    loaded = lm.load(tmp_path / "s.safetensors")
    assert loaded["w"].device == lm.device("cpu") and loaded["step"] == 3
    np.testing.assert_array_equal(loaded["w"].numpy(), state["w"].cpu().numpy())
    on_gpu = lm.load(tmp_path / "s.safetensors", map_location="cuda")
    assert on_gpu["w"].is_cuda
    mapped = lm.load(tmp_path / "s.safetensors", map_location={"cpu": "cuda:0"})
    assert mapped["w"].is_cuda


# ------------------------------------------------------------------- lamina.cuda
def test_lamina_cuda_reports_the_backend(checking_cuda):
    assert lm.cuda.is_available() and lm.cuda.device_count() == 1
    assert lm.cuda.current_device() == 0 and lm.accelerator.current_accelerator() == lm.device("cuda")
    assert "checking" in lm.cuda.get_device_name()
    lm.cuda.synchronize()
    lm.cuda.manual_seed(11)
    assert checking_cuda.seeds[-1] == 11
    lm.manual_seed(12)          # lm.manual_seed seeds the devices too, as torch.manual_seed
    assert checking_cuda.seeds[-1] == 12
    assert isinstance(lm.cuda.memory_allocated(), int)
    with pytest.raises(AssertionError, match="cuda:1"):
        lm.zeros(1, device="cuda:1")


def test_without_a_backend_cuda_is_the_cpu_builds_error():
    if cuda_backend() is not None:
        pytest.skip("a real GPU is present")
    assert not lm.cuda.is_available() and lm.cuda.device_count() == 0
    with pytest.raises(AssertionError, match="not available"):
        lm.ones(2, device="cuda")


# ------------------------------------------------------------------- lamina train --device
def test_train_on_cuda_resumes_on_the_cpu_bit_for_bit(checking_cuda, tmp_path):
    """A checkpoint written by a run on 'cuda' resumes on the CPU (the checking module computes
    with NumPy, so the two devices' arithmetic is the same: equal bit for bit)."""
    from lamina.cli import main

    common = ["train", "--model", "mlp:64,32,10:relu", "--seed", "4", "--quiet",
              "--batch-size", "64", "--train-size", "512", "--val-size", "200"]
    full = tmp_path / "full"
    assert main([*common, "--epochs", "2", "--device", "cpu", "--out", str(full)]) == 0
    part = tmp_path / "part"
    assert main([*common, "--epochs", "1", "--device", "cuda", "--out", str(part)]) == 0
    config = json.loads((part / "config.json").read_text())
    assert config["device"] == "cuda:0"
    assert main(["train", "--resume", str(part), "--epochs", "2", "--quiet", "--device", "cpu"]) == 0
    assert_identical_runs(full, part)


def test_train_device_default_and_bad_device(capsys):
    from lamina.cli import main
    from lamina.train.placement import resolve_device

    assert resolve_device(None) == ("cuda" if lm.cuda.is_available() else "cpu")
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--device", "tpu"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and "tpu" in err[-1]


def test_second_derivatives_on_a_device_equal_the_cpus(cuda):
    """autograd.functional's traced re-run of backward works on device tensors too."""
    from lamina.autograd.functional import hessian

    rng = np.random.default_rng(3)
    w = rng.standard_normal((3, 4))
    x, y = rng.standard_normal((5, 3)), rng.integers(0, 4, 5)

    def loss(weights):
        data = lm.tensor(x, device=weights.device)
        target = lm.tensor(y, device=weights.device)
        return lm.nn.functional.cross_entropy(lm.tanh(data @ weights), target, label_smoothing=0.1)

    on_cpu = hessian(loss, lm.tensor(w))
    on_device = hessian(loss, lm.tensor(w, device=cuda))
    assert on_device.is_cuda
    np.testing.assert_allclose(on_device.cpu().numpy(), on_cpu.numpy(), rtol=1e-10, atol=1e-12)


def test_writing_into_an_expanded_device_tensor_is_refused(cuda):
    """CuPy's broadcast views are writable (its flags have no 'writeable' bit, nor do the
    checking module's): lamina refuses the write from the zero strides, as PyTorch does."""
    e = lm.ones(1, 3, device=cuda).expand(4, 3)
    with pytest.raises(lm.errors.InplaceError, match="share memory locations"):
        e.add_(1.0)
    with pytest.raises(lm.errors.InplaceError, match="share memory locations"):
        e.fill_(2.0)
    c = e.clone()
    c.add_(1.0)
    assert c.cpu().tolist() == [[2.0] * 3] * 4

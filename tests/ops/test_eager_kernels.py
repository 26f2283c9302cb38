"""The eager-speed kernels (issue 13) against PyTorch and against the rules they must keep:
ReLU's bitwise backward, reused memory blocks, the pieced products of small convolutions,
the mean without NumPy's dispatch, and gradients kept in reused blocks."""
import numpy as np
import pytest

import lamina as lm
from lamina.nn import functional as F
from lamina.ops import _workspace as workspace
from lamina.ops import conv as conv_module

torch = pytest.importorskip("torch")


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view({2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_backward_is_torchs_bit_for_bit_at_the_edges(dtype):
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, -np.nan, np.inf, -np.inf, 3.0, -5.0], dtype)
    g = np.array([np.inf, np.nan, -np.inf, np.nan, 5.0, -2.0, -0.0, 7.0, -0.0, np.nan], dtype)
    ours = lm.tensor(x, requires_grad=True)
    lm.relu(ours).backward(lm.tensor(g))
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.tensor(g))
    assert np.array_equal(_bits(ours.grad.numpy()), _bits(theirs.grad.numpy()))


def test_relu_on_a_large_channels_first_output_keeps_layout_and_gradients():
    # the layout a convolution with few output channels produces: (C, N, H, W) memory
    rng = np.random.default_rng(0)
    memory = rng.standard_normal((6, 8, 40, 40)).astype(np.float32)
    x = lm.tensor(memory, requires_grad=True)
    view = x.permute(1, 0, 2, 3)
    y = lm.relu(view)
    assert y.numpy().transpose(1, 0, 2, 3).flags.c_contiguous
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(lm.tensor(g))
    tx = torch.tensor(memory, requires_grad=True)
    torch.relu(tx.permute(1, 0, 2, 3)).backward(torch.tensor(g))
    assert np.array_equal(x.grad.numpy(), tx.grad.numpy())


def test_a_block_is_reused_only_when_nothing_refers_to_it():
    shape = (512, 256)                                   # 512 KiB: above MIN_BYTES
    a = workspace.empty(shape, np.float32)
    a[...] = 1.0
    view = a[::2].T                                      # a view keeps the block in use
    del a
    b = workspace.empty(shape, np.float32)
    assert not np.shares_memory(b, view)
    del view, b
    kept = workspace.stats()["blocks"]
    c = workspace.empty(shape, np.float32)               # a free block is handed out again
    assert workspace.stats()["blocks"] == kept
    z = workspace.zeros(shape, np.float32)               # not the one in use; zeros on reuse
    assert not np.shares_memory(z, c) and not z.any()


def test_empty_like_keeps_the_memory_order_of_permuted_and_strided_arrays():
    base = np.zeros((16, 8, 32, 32), np.float32)
    for x in (base.transpose(1, 0, 2, 3), base.transpose(0, 2, 3, 1), base[:, :, ::2, ::2]):
        ours = workspace.empty_like(x)
        assert ours.shape == x.shape and ours.dtype == x.dtype
        assert np.argsort([-s for s in ours.strides]).tolist() == \
            np.argsort([-s for s in np.empty_like(x).strides]).tolist()


@pytest.mark.parametrize("axes", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_is_numpys_mean_bit_for_bit(axes, dtype, keepdim):
    x = np.random.default_rng(1).standard_normal((7, 33, 5)).astype(dtype) * 1e3
    dims = axes
    ours = lm.tensor(x).mean() if dims is None and not keepdim else \
        lm.tensor(x).mean(dim=dims if dims is not None else (0, 1, 2), keepdim=keepdim)
    axis = axes if axes is not None else (0, 1, 2) if keepdim else None
    assert np.array_equal(ours.numpy(), np.mean(x, axis=axis, keepdims=keepdim))


def _conv_against_torch(x, weight, bias, padding):
    ours = [lm.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    y = F.conv2d(*ours, padding=padding)
    ty = torch.nn.functional.conv2d(*theirs, padding=padding)
    g = np.random.default_rng(3).standard_normal(ty.shape).astype(np.float32)
    y.backward(lm.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-3)


def test_lenets_first_convolution_in_pieces_matches_torch():
    # 12 * 28 * 28 pixels of 26 columns: long enough to be cut into pieces
    rng = np.random.default_rng(2)
    x = rng.random((12, 1, 28, 28), dtype=np.float32)
    weight = rng.standard_normal((6, 1, 5, 5)).astype(np.float32) * 0.2
    bias = rng.standard_normal(6).astype(np.float32)
    assert 12 * 28 * 28 > 2 * conv_module._piece(26, 4)
    _conv_against_torch(x, weight, bias, 2)


def test_pieced_products_equal_the_whole_products():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 26)).astype(np.float32)
    b = rng.standard_normal((26, 20_000)).astype(np.float32)
    out = np.empty((6, 20_000), np.float32)
    conv_module._wide_product(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)
    c = rng.standard_normal((20_000, 26)).astype(np.float32)
    np.testing.assert_allclose(conv_module._long_product(b[:6], c), b[:6] @ c, rtol=1e-4, atol=1e-3)


def test_gradients_in_reused_blocks_are_never_overwritten_while_held():
    lm.manual_seed(0)
    layer = lm.nn.Linear(400, 300)                       # weight gradient: 469 KiB, a block
    x = lm.randn(32, 400)
    opt = lm.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).sum().backward()
    held = layer.weight.grad
    kept = held.numpy().copy()
    for _ in range(3):
        opt.zero_grad()
        (layer(x) * 2).sum().backward()
        assert not np.shares_memory(layer.weight.grad.numpy(), held.numpy())
    assert np.array_equal(held.numpy(), kept)


def test_a_weight_used_twice_gets_the_sum_in_its_own_memory():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((300, 300)).astype(np.float32)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    ours_w = lm.tensor(w, requires_grad=True)
    other = lm.tensor(w.copy(), requires_grad=True)
    h = F.linear(lm.tensor(x), ours_w)
    out = F.linear(h, ours_w) + F.linear(h, other)
    out.sum().backward()
    tw = torch.tensor(w, requires_grad=True)
    to = torch.tensor(w.copy(), requires_grad=True)
    th = torch.nn.functional.linear(torch.tensor(x), tw)
    (torch.nn.functional.linear(th, tw) + torch.nn.functional.linear(th, to)).sum().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(other.grad.numpy(), to.grad.numpy(), rtol=1e-4, atol=1e-2)
    assert not np.shares_memory(ours_w.grad.numpy(), other.grad.numpy())

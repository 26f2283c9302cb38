"""Convolution and pooling behaviour outside the operation table: ties, overlapping windows,
'same' padding, memory layouts, dtypes, the recomputed-columns path, and the errors."""
import warnings

import numpy as np
import pytest

import lamina as lm
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError
from lamina.ops import conv as conv_module
from tests.reference import check_against_torch, requires_torch, torch

F = torch.nn.functional
EXACT = dict(rtol=0, atol=0, grad_rtol=0, grad_atol=0)


# ---------------------------------------------------------------- max pooling: ties, overlaps

TIES = [
    ("all equal 2x2", np.ones((1, 2, 4, 4)), (2,)),
    ("all equal overlapping 3/2", np.ones((2, 1, 7, 7)), (3, 2)),
    ("all equal padded", np.zeros((1, 1, 5, 5)), (3, 2, 1)),
    ("repeated rows", np.repeat(np.arange(6.0)[None, None, None, :], 6, axis=2), (2,)),
    ("plateaus", np.kron(np.arange(9.0).reshape(1, 1, 3, 3), np.ones((2, 2))), (3, 1)),
]


@requires_torch
@pytest.mark.parametrize("name,x,args", TIES, ids=[t[0] for t in TIES])
def test_max_pool_ties_send_gradient_to_first_maximum(name, x, args):
    x = x.astype(np.float32)
    r = check_against_torch(lambda t: lm.max_pool2d(t, *args), lambda t: F.max_pool2d(t, *args), x,
                            cotangent="ones", **EXACT)
    # one input per window receives the window's gradient: the total equals the window count
    assert r.lamina.grads[0].sum() == r.lamina.values[0].size


def test_max_pool_tie_goes_to_first_in_row_major_order():
    x = np.zeros((1, 1, 2, 2), np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = 5.0            # two maxima: (0, 1) comes first
    t = lm.tensor(x, requires_grad=True)
    lm.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy()[0, 0], [[0.0, 1.0], [0.0, 0.0]])


@requires_torch
@pytest.mark.parametrize("kernel,stride", [(3, 2), (3, 1), (2, 1), ((3, 2), (1, 2))])
def test_overlapping_windows_accumulate(kernel, stride):
    # a ramp: the maximum of every window is its last element, shared by neighbouring windows
    x = np.arange(7 * 8, dtype=np.float32).reshape(1, 1, 7, 8)
    c = np.random.default_rng(0).standard_normal(
        F.max_pool2d(torch.tensor(x), kernel, stride).shape).astype(np.float32)
    for fn, tfn in ((lm.max_pool2d, F.max_pool2d), (lm.ops.avg_pool2d, F.avg_pool2d)):
        r = check_against_torch(lambda t: fn(t, kernel, stride), lambda t: tfn(t, kernel, stride), x,
                                cotangent=c, rtol=1e-6, atol=0, grad_rtol=1e-5, grad_atol=1e-6)
        np.testing.assert_allclose(r.lamina.grads[0].sum(), c.sum(), rtol=1e-4)


@requires_torch
def test_max_pool_gradient_counts_shared_maximum():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1.0                       # inside all four 3x3 windows with stride 2... and
    r = check_against_torch(lambda t: lm.max_pool2d(t, 3, 2), lambda t: F.max_pool2d(t, 3, 2), x,
                            cotangent="ones", **EXACT)
    assert r.lamina.grads[0][0, 0, 2, 2] == 4.0   # ...each sends it its gradient


@requires_torch
def test_max_pool_large_kernel_uses_wide_indices():
    x = np.random.default_rng(1).permutation(17 * 17).astype(np.float32).reshape(1, 1, 17, 17)
    check_against_torch(lambda t: lm.max_pool2d(t, 17), lambda t: F.max_pool2d(t, 17), x,
                        cotangent="ones", **EXACT)
    _, idx = lm.max_pool2d(lm.tensor(x), 17, return_indices=True)
    assert idx.item() == int(np.argmax(x))


@requires_torch
def test_max_pool_propagates_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    for recording in (True, False):
        y = lm.max_pool2d(lm.tensor(x, requires_grad=recording), 2).numpy()
        np.testing.assert_array_equal(np.isnan(y), F.max_pool2d(torch.tensor(x), 2).isnan().numpy())


@requires_torch
def test_max_pool_integer_input():
    x = np.arange(16).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(lm.max_pool2d(lm.tensor(x), 2, padding=1).numpy(),
                                  F.max_pool2d(torch.tensor(x), 2, padding=1).numpy())


# ---------------------------------------------------------------- 'same' padding

@requires_torch
@pytest.mark.parametrize("kernel,dilation", [(3, 1), (4, 1), ((5, 2), 1), (3, 2), ((2, 3), (3, 2))])
def test_same_padding_keeps_size_and_matches_torch(kernel, dilation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    w = rng.standard_normal((4, 3, kh, kw)).astype(np.float32)
    y = lm.conv2d(lm.tensor(x), lm.tensor(w), padding="same", dilation=dilation)
    with warnings.catch_warnings():   # PyTorch warns that even kernels copy the input
        warnings.simplefilter("ignore", UserWarning)
        ty = F.conv2d(torch.tensor(x), torch.tensor(w), padding="same", dilation=dilation)
    assert y.shape == (2, 4, 7, 6)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- layouts, dtypes, paths

def _layout(x, kind):
    """The same (N, C, H, W) values in another memory order or as a strided view."""
    if kind == "nchw":
        return np.ascontiguousarray(x)
    if kind == "nhwc":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if kind == "cnhw":
        return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    big = np.zeros(x.shape[:2] + (2 * x.shape[2], 2 * x.shape[3]), x.dtype)
    big[:, :, ::2, ::2] = x
    return big[:, :, ::2, ::2]


CASES = {
    "conv few channels": (lambda m, x, w: m.conv2d(x, w, padding=1), (2, 3, 6, 7), (4, 3, 3, 3)),
    "conv many channels": (lambda m, x, w: m.conv2d(x, w, stride=2, padding=1), (2, 10, 7, 7),
                           (18, 10, 3, 3)),
    "max_pool": (lambda m, x, w: m.max_pool2d(x, 3, 2, 1), (2, 5, 7, 7), None),
    "avg_pool": (lambda m, x, w: m.avg_pool2d(x, 2, 1), (2, 5, 7, 6), None),
}


@requires_torch
@pytest.mark.parametrize("layout", ["nchw", "nhwc", "cnhw", "strided"])
@pytest.mark.parametrize("case", list(CASES))
def test_any_memory_layout_gives_the_same_result(case, layout):
    fn, xs, ws = CASES[case]
    module = torch.nn.functional
    rng = np.random.default_rng(3)
    x = rng.standard_normal(xs).astype(np.float32)
    w = None if ws is None else rng.standard_normal(ws).astype(np.float32)
    lx = lm.Tensor._wrap(_layout(x, layout)).requires_grad_()
    lw = None if w is None else lm.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), None if w is None else torch.tensor(w, requires_grad=True)
    y, ty = fn(lm.nn.functional, lx, lw), fn(module, tx, tw)
    c = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    y.backward(gradient=lm.Tensor._wrap(_layout(c, layout)))
    ty.backward(torch.tensor(c))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    if w is not None:
        np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["conv", "max", "avg", "adaptive_avg", "adaptive_max"])
def test_dtype_is_kept_through_forward_and_backward(op, dtype):
    rng = np.random.default_rng(4)
    x = lm.tensor(rng.standard_normal((2, 3, 6, 6)).astype(dtype), requires_grad=True)
    w = lm.tensor(rng.standard_normal((17, 3, 3, 3)).astype(dtype), requires_grad=True)
    b = lm.tensor(rng.standard_normal(17).astype(dtype), requires_grad=True)
    y = {"conv": lambda: lm.conv2d(x, w, b, padding=1),
         "max": lambda: lm.max_pool2d(x, 3, 2, 1),
         "avg": lambda: lm.ops.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
         "adaptive_avg": lambda: lm.ops.adaptive_avg_pool2d(x, (4, 5)),
         "adaptive_max": lambda: lm.ops.adaptive_max_pool2d(x, (4, 5))}[op]()
    assert y.dtype == dtype
    y.backward(gradient=lm.tensor(np.ones(y.shape, dtype)))
    leaves = (x, w, b) if op == "conv" else (x,)
    assert all(t.grad.dtype == dtype and t.grad.shape == t.shape for t in leaves)


def test_recomputed_columns_give_the_same_gradients(monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 6, 6)).astype(np.float32)
    w = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    grads = []
    for limit in (conv_module._KEEP_COLUMNS_BYTES, 0):
        monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_BYTES", limit)
        lx, lw = lm.tensor(x, requires_grad=True), lm.tensor(w, requires_grad=True)
        y = lm.conv2d(lx, lw, groups=3, padding=1)
        y.backward(gradient=lm.tensor(np.ones(y.shape, np.float32)))
        grads.append((lx.grad.numpy(), lw.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)


def test_inference_does_not_record():
    x = lm.tensor(np.ones((1, 1, 4, 4), np.float32), requires_grad=True)
    with lm.no_grad():
        for y in (lm.conv2d(x, lm.tensor(np.ones((2, 1, 3, 3), np.float32))), lm.max_pool2d(x, 2),
                  lm.ops.avg_pool2d(x, 2), lm.ops.adaptive_avg_pool2d(x, 2), lm.ops.adaptive_max_pool2d(x, 2)):
            assert y.grad_fn is None and not y.requires_grad


# ---------------------------------------------------------------- errors

def _conv(xs=(1, 3, 8, 8), ws=(4, 3, 3, 3), bias=None, xdtype=np.float32, **kw):
    x = lm.tensor(np.zeros(xs, xdtype))
    w = lm.tensor(np.zeros(ws, np.float32))
    return lm.conv2d(x, w, None if bias is None else lm.tensor(np.zeros(bias, np.float32)), **kw)


ERRORS = [
    ("conv kernel larger than padded input", lambda: _conv((1, 3, 4, 4), (4, 3, 7, 3), padding=1),
     ShapeError,
     r"kernel \(effective size 7 along H\) is larger than the padded input \(size 4 \+ padding 2 = 6"),
    ("conv dilated kernel too large", lambda: _conv((1, 3, 5, 5), (4, 3, 3, 3), dilation=3),
     ShapeError, "effective size 7"),
    ("conv wrong channels", lambda: _conv((8, 1, 28, 28)), ShapeError,
     r"expected input of shape \(N, 3, H, W\)"),
    ("conv wrong channels with groups", lambda: _conv((1, 4, 8, 8), (4, 3, 3, 3), groups=2),
     ShapeError, r"\(N, 6, H, W\)"),
    ("conv 2-D input", lambda: _conv((3, 8)), ShapeError, r"\(N, 3, H, W\)"),
    ("conv 3-D weight", lambda: _conv(ws=(4, 3, 3)), ShapeError, "weight must have shape"),
    ("conv groups do not divide out", lambda: _conv((1, 4, 8, 8), (3, 2, 3, 3), groups=2),
     ShapeError, "not divisible by groups=2"),
    ("conv bad groups", lambda: _conv(groups=0), LaminaValueError, "groups must be a positive int"),
    ("conv bias shape", lambda: _conv(bias=(3,)), ShapeError, r"bias must have shape \(4,\)"),
    ("conv same with stride", lambda: _conv(padding="same", stride=2), LaminaValueError,
     "'same' needs stride 1"),
    ("conv unknown padding", lambda: _conv(padding="full"), LaminaValueError, "'valid' or 'same'"),
    ("conv negative padding", lambda: _conv(padding=-1), LaminaValueError, "padding must be at least 0"),
    ("conv zero stride", lambda: _conv(stride=(1, 0)), LaminaValueError, "stride must be at least 1"),
    ("conv triple stride", lambda: _conv(stride=(1, 1, 1)), LaminaValueError, "pair of ints"),
    ("conv integer input", lambda: _conv(xdtype=np.int64), LaminaTypeError, "same floating dtype"),
    ("conv mixed dtypes", lambda: _conv(xdtype=np.float64), LaminaTypeError, "float64 and float32"),
    ("max kernel too large", lambda: lm.max_pool2d(lm.zeros(1, 1, 4, 4), 5), ShapeError,
     r"larger than the padded input \(size 4 \+ 2\*0 = 4 along H\)"),
    ("avg kernel too large", lambda: lm.ops.avg_pool2d(lm.zeros(1, 1, 6, 3), (2, 4)), ShapeError, "along W"),
    ("max padding over half", lambda: lm.max_pool2d(lm.zeros(1, 1, 8, 8), 3, padding=2),
     LaminaValueError, "at most half"),
    ("avg padding over half", lambda: lm.ops.avg_pool2d(lm.zeros(1, 1, 8, 8), 2, padding=2),
     LaminaValueError, "at most half"),
    ("pool 2-D input", lambda: lm.max_pool2d(lm.zeros(4, 4), 2), ShapeError,
     r"\(N, C, H, W\) or \(C, H, W\)"),
    ("pool zero kernel", lambda: lm.ops.avg_pool2d(lm.zeros(1, 1, 4, 4), 0), LaminaValueError,
     "kernel_size must be at least 1"),
    ("avg integer input", lambda: lm.ops.avg_pool2d(lm.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2),
     LaminaTypeError, "floating-point"),
    ("avg zero divisor", lambda: lm.ops.avg_pool2d(lm.zeros(1, 1, 4, 4), 2, divisor_override=0),
     LaminaValueError, "divisor_override"),
    ("adaptive bad size", lambda: lm.ops.adaptive_avg_pool2d(lm.zeros(1, 1, 4, 4), (0, 2)),
     LaminaValueError, "positive ints or None"),
    ("adaptive triple size", lambda: lm.ops.adaptive_max_pool2d(lm.zeros(1, 1, 4, 4), (1, 2, 3)),
     LaminaValueError, "an int or a pair"),
]


@pytest.mark.parametrize("name,call,error,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_bad_value(name, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_inference_in_blocks_of_images_equals_the_whole_batch(monkeypatch):
    """Without gradients conv2d builds its columns a few images at a time; the result is
    the whole-batch convolution (up to the rounding of a smaller matrix product)."""
    import lamina.ops.conv as conv_module

    rng = np.random.default_rng(3)
    x = lm.tensor(rng.standard_normal((7, 3, 9, 9)).astype(np.float32))
    w = lm.tensor(rng.standard_normal((20, 3, 3, 3)).astype(np.float32))
    b = lm.tensor(rng.standard_normal(20).astype(np.float32))
    with lm.no_grad():
        whole = lm.nn.functional.conv2d(x, w, b, padding=1).numpy()
        monkeypatch.setattr(conv_module, "_INFERENCE_BLOCK_BYTES", 1)  # one image per block
        blocks = lm.nn.functional.conv2d(x, w, b, padding=1).numpy()
    np.testing.assert_allclose(blocks, whole, rtol=1e-5, atol=1e-5)


def test_changing_the_input_in_place_after_conv2d_is_caught_or_harmless(monkeypatch):
    """conv2d's weight gradient reads what it saved: the column matrices (copies of the input,
    so an in-place change of the input after the forward leaves the gradient exact) or, when
    they are too large to keep, the input itself, saved through ctx.save so that such a change
    raises as in PyTorch."""
    x0 = lm.randn(2, 3, 6, 6)
    w = lm.randn(4, 3, 3, 3, requires_grad=True)
    lm.nn.functional.conv2d(x0, w).sum().backward()
    expected, w.grad = w.grad.numpy().copy(), None

    x = x0.clone()
    y = lm.nn.functional.conv2d(x, w)    # small: the columns are kept
    x.mul_(2.0)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), expected)

    monkeypatch.setattr(conv_module, "_KEEP_COLUMNS_BYTES", 0)
    x = x0[:, :1].clone()                # one channel, no padding: the input is used as is
    y = lm.nn.functional.conv2d(x, w[:, :1].detach().requires_grad_())
    x.mul_(2.0)
    with pytest.raises(lm.errors.InplaceError, match="modified in place"):
        y.sum().backward()

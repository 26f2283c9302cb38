"""Result dtypes of the elementwise maths, sorting and cumulative operations against
PyTorch (int64, int32, bool, float32, float64 inputs, Python numbers on either side), the
refusals PyTorch makes, stable-sort and NaN order, topk's ties and sorted=False, cumsum's and
cumprod's dtype=, and erf/erfinv to float64 precision."""
import numpy as np
import pytest

import lamina as lm
from tests.reference import requires_torch, torch

FLOATING_UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                  "acosh", "atanh", "exp2", "expm1", "log2", "log10", "log1p", "rsqrt",
                  "reciprocal", "erf", "erfinv"]
ROUNDING = ["floor", "ceil", "round", "trunc", "fix"]
DTYPES = [np.int64, np.int32, np.bool_, np.float32, np.float64]


def torch_dtype(t) -> np.dtype:
    return np.dtype(str(t.dtype).replace("torch.", ""))


def pair(array):
    return lm.tensor(array), torch.tensor(array)


def same(a, b, exact: bool = False):
    """Same dtype and shape, and the same values (exactly, or to float32's rounding)."""
    assert a.dtype == torch_dtype(b), f"dtype {a.dtype}, torch gives {b.dtype}"
    assert tuple(a.shape) == tuple(b.shape)
    if exact or a.dtype.kind not in "f":
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FLOATING_UNARY)
def test_floating_unary_dtype(name, dtype):
    values = np.array([0, 1, 1, 0]) if dtype is np.bool_ else np.array([1, 2, 3, 1])
    if name in ("asin", "acos", "atanh", "erfinv") and dtype not in (np.bool_,):
        values = values / 4 if np.dtype(dtype).kind == "f" else np.array([0, 1, 0, -1])
    a, b = pair(values.astype(dtype))
    same(getattr(lm, name)(a), getattr(torch, name)(b))


@requires_torch
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ROUNDING)
def test_rounding_keeps_dtype(name, dtype):
    a, b = pair(np.array([-2.5, -1.2, 0.5, 1.7, 3.0]).astype(dtype))
    out = getattr(lm, name)(a)
    same(out, getattr(torch, name)(b), exact=True)
    assert out is not a


@requires_torch
@pytest.mark.parametrize("name", ROUNDING + ["frac"])
def test_rounding_refuses_bool(name):
    with pytest.raises(lm.LaminaTypeError, match="bool"):
        getattr(lm, name)(lm.tensor([True, False]))
    with pytest.raises(NotImplementedError):  # PyTorch refuses as well
        getattr(torch, name)(torch.tensor([True, False]))


@requires_torch
def test_integer_refusals_match_torch():
    i, ti = pair(np.array([1, 2, 3]))
    for call in (lambda m, x: m.frac(x), lambda m, x: m.round(x, decimals=1),
                 lambda m, x: m.hypot(x, x), lambda m, x: m.lerp(x, x, 0.5)):
        with pytest.raises(lm.LaminaTypeError):
            call(lm, i)
        with pytest.raises((NotImplementedError, RuntimeError)):
            call(torch, ti)


@requires_torch
def test_round_halves_to_even_and_decimals():
    a, b = pair(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.125, 1.25], np.float32))
    same(lm.round(a), torch.round(b), exact=True)
    same(a.round(decimals=2), b.round(decimals=2), exact=True)
    a, b = pair(np.array([15.0, 25.0, 123.456, -351.0], np.float32))
    same(lm.round(a, decimals=-1), torch.round(b, decimals=-1), exact=True)


@requires_torch
@pytest.mark.parametrize("name", ["atan2", "fmod", "remainder", "hypot"])
@pytest.mark.parametrize("dtypes", [(np.int64, np.int64), (np.int32, np.int64),
                                    (np.int64, np.float32), (np.float32, np.float64),
                                    (np.float64, np.float64)], ids=str)
def test_binary_dtype(name, dtypes):
    x = np.array([[5.0, -7.0, 3.5], [-2.0, 9.0, -4.5]])
    y = np.array([2.0, -3.0, 1.5])
    a, ta = pair(x.astype(dtypes[0]))
    b, tb = pair(y.astype(dtypes[1]))
    if name == "hypot" and all(np.dtype(d).kind != "f" for d in dtypes):
        with pytest.raises(lm.LaminaTypeError):
            lm.hypot(a, b)
        with pytest.raises(NotImplementedError):
            torch.hypot(ta, tb)
        return
    same(getattr(lm, name)(a, b), getattr(torch, name)(ta, tb))


@requires_torch
def test_zero_dim_tensor_does_not_widen():
    a, ta = pair(np.array([1.5, -2.5], np.float32))
    b, tb = pair(np.array(0.75, np.float64))
    for name in ("atan2", "fmod", "remainder", "hypot"):
        same(getattr(lm, name)(a, b), getattr(torch, name)(ta, tb))
    same(lm.atan2(b, a), torch.atan2(tb, ta))


@requires_torch
def test_python_numbers():
    a, ta = pair(np.array([5, -7, 3]))
    same(lm.fmod(a, 2), torch.fmod(ta, 2))
    same(lm.remainder(a, -2.5), torch.remainder(ta, -2.5))
    same(lm.remainder(5, a), torch.remainder(5, ta))
    same(a.fmod(3), ta.fmod(3))
    f, tf = pair(np.array([0.5, -1.5, 2.0], np.float32))
    # torch's atan2 and hypot take tensors only; lamina also takes a number on either side
    same(lm.atan2(f, 2.0), torch.atan2(tf, torch.full_like(tf, 2.0)))
    same(lm.atan2(2.0, f), torch.atan2(torch.full_like(tf, 2.0), tf))
    same(lm.hypot(f, 3), torch.hypot(tf, torch.full_like(tf, 3.0)))


@requires_torch
@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_integer_division_by_zero(name):
    a, ta = pair(np.array([5, -7, 3]))
    b, tb = pair(np.array([1, 0, 2]))
    with pytest.raises(RuntimeError, match="division by zero"):  # a RuntimeError, as torch's
        getattr(lm, name)(a, b)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(torch, name)(ta, tb)
    with np.errstate(all="raise"):  # float division by zero is NaN, without a warning
        same(getattr(lm, name)(lm.tensor([1.0, 2.0]), 0.0),
             getattr(torch, name)(torch.tensor([1.0, 2.0]), 0.0))


def test_lerp_dtype_checks():
    a = lm.tensor([1.0, 2.0])
    with pytest.raises(lm.LaminaTypeError, match="end"):
        lm.lerp(a, lm.tensor([1.0, 2.0], dtype=lm.float64), 0.5)
    with pytest.raises(lm.LaminaTypeError, match="weight"):
        lm.lerp(a, a, lm.tensor(0.5, dtype=lm.float64))
    out = lm.lerp(a.double(), a.double() * 3, 1)
    assert out.dtype == lm.float64 and np.array_equal(out.numpy(), [3.0, 6.0])


# --------------------------------------------------------------------------- sorting
TIES = np.array([[2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0],
                 [0.0, 0.0, 5.0, 0.0, -1.0, 5.0, 5.0, -1.0],
                 [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]], np.float32)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stable_sort_ties(dim, descending, dtype):
    data = TIES > 1.5 if dtype is np.bool_ else TIES.astype(dtype)
    a, b = pair(data)
    got = lm.sort(a, dim=dim, descending=descending, stable=True)
    want = torch.sort(b, dim=dim, descending=descending, stable=True)
    same(got.values, want.values)
    same(got.indices, want.indices)
    same(lm.argsort(a, dim, descending, stable=True),
         torch.argsort(b, dim=dim, descending=descending, stable=True))
    same(a.argsort(dim=dim, descending=descending), b.argsort(dim=dim, descending=descending,
                                                               stable=True))


@requires_torch
def test_sort_result_type_and_nan_order():
    a, b = pair(np.array([1.0, np.nan, -2.0, 3.0, np.nan], np.float32))
    for descending in (False, True):
        got = lm.sort(a, descending=descending, stable=True)
        want = torch.sort(b, descending=descending, stable=True)
        same(got.values, want.values)
        same(got.indices, want.indices)
        assert type(got).__name__ == "sort" and got == (got.values, got.indices)
    same(lm.topk(a, 2).indices, torch.topk(b, 2).indices)
    assert type(lm.topk(a, 2)).__name__ == "topk"


@requires_torch
def test_index_dtypes_and_zero_dim():
    a, b = pair(np.array(2.5, np.float32))
    for got, want in ((lm.sort(a), torch.sort(b)), (lm.topk(a, 1), torch.topk(b, 1))):
        same(got.values, want.values)
        same(got.indices, want.indices)
    same(lm.argsort(a), torch.argsort(b))
    x = lm.tensor(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert lm.sort(x).indices.dtype == lm.int64 and lm.topk(x, 2).indices.dtype == lm.int64
    assert lm.sort(x).values.dtype == lm.int32


@requires_torch
def test_topk_ties_and_unsorted():
    x = TIES.reshape(-1)
    a, b = pair(x)
    for k in (1, 4, 9, 24):
        for largest in (True, False):
            got = lm.topk(a, k, largest=largest)
            want = torch.topk(b, k, largest=largest)
            same(got.values, want.values)    # values are defined even where indices are not
            np.testing.assert_array_equal(x[got.indices.numpy()], got.values.numpy())
            assert len(set(got.indices.numpy().tolist())) == k
            unsorted = lm.topk(a, k, largest=largest, sorted=False)
            np.testing.assert_array_equal(np.sort(unsorted.values.numpy()),
                                          np.sort(want.values.numpy()))


def test_topk_errors():
    with pytest.raises(lm.LaminaValueError, match="k=4"):
        lm.topk(lm.tensor([1.0, 2.0, 3.0]), 4)
    with pytest.raises(lm.LaminaTypeError, match="bool"):
        lm.topk(lm.tensor([True, False]), 1)


@requires_torch
def test_sorted_values_gradient_goes_back_in_place():
    x = lm.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    t = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    (lm.sort(x, descending=True).values * lm.tensor([1.0, 10.0, 100.0])).sum().backward()
    (torch.sort(t, descending=True).values * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# --------------------------------------------------------------------------- cumulative
@requires_torch
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cumulative_default_dtype(name, dtype):
    a, b = pair(np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype))
    same(getattr(lm, name)(a, 1), getattr(torch, name)(b, 1))


@requires_torch
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("source,target", [(np.int64, "float32"), (np.float32, "float64"),
                                           (np.float64, "float32"), (np.float32, "int64"),
                                           (np.bool_, "int32"), (np.int64, "int32")], ids=str)
def test_cumulative_dtype_argument(name, source, target):
    a, b = pair(np.array([1.5, 2.5, -1.0, 3.0]).astype(source))
    same(getattr(lm, name)(a, 0, dtype=getattr(lm, target)),
         getattr(torch, name)(b, 0, dtype=getattr(torch, target)))


def test_cumsum_dtype_gradient_reaches_float32_leaf():
    x = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    lm.cumsum(x, 0, dtype=lm.float64).sum().backward()
    assert x.grad.dtype == lm.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 2.0, 1.0])


# --------------------------------------------------------------------------- erf precision
@requires_torch
def test_erf_erfinv_float64_precision():
    x = np.concatenate([np.linspace(-6, 6, 2001), [0.0, -0.0, 1e-300, np.inf, -np.inf]])
    a, b = pair(x)
    np.testing.assert_allclose(lm.erf(a).numpy(), torch.erf(b).numpy(), rtol=2e-15, atol=0)
    u = np.concatenate([np.linspace(-0.999, 0.999, 2001), 1 - np.logspace(-16, -2, 50),
                        [-1.0, 1.0, 1e-300]])
    a, b = pair(u)
    np.testing.assert_allclose(lm.erfinv(a).numpy(), torch.erfinv(b).numpy(), rtol=2e-15, atol=0)
    np.testing.assert_allclose(lm.erf(lm.erfinv(a[:2001])).numpy(), u[:2001], rtol=0, atol=4e-16)

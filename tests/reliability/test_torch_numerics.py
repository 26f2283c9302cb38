"""PyTorch's numerics at the edges: each case runs under torch and under lamina and compares.

Saturating sigmoid and softplus, variances whose squares overflow their own dtype, the
gradient of a NaN through relu/maximum/minimum, integer floor division, remainder and
overflow, dtype mismatches in layers, bfloat16 files and state dicts, and odd seeds.
"""
import math

import numpy as np
import pytest

import lamina

from tests.reference import check_against_torch, requires_torch, torch
BOTH = [pytest.param(torch, id="torch"), pytest.param(lamina, id="lamina")]


def _same(fn, rtol=0.0, atol=0.0):
    """``fn(lib)`` under torch and lamina: the same values (exactly, unless a tolerance is
    given) of the same dtypes; lamina's result, as an array."""
    r = check_against_torch(lambda: fn(lamina), lambda: fn(torch), rtol=rtol, atol=atol)
    return np.asarray(r.lamina.result, dtype=float)


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sigmoid_saturates_to_exact_zero_and_one(dtype):
    values = [-math.inf, -1e4, -1000.0, -745.0, -104.0, -88.0, -17.0, 0.0, 17.0, 1000.0, math.inf]

    def run(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.sigmoid(x)
        y.sum().backward()
        return np.concatenate([y.detach().float().numpy(), x.grad.float().numpy()])

    out = _same(run, rtol=1e-6 if dtype != "float16" else 1e-3, atol=0)
    assert out[0] == 0.0 and out[2] == 0.0  # sigma(-inf) = sigma(-1000) = 0 exactly


@requires_torch
def test_bce_of_a_saturated_sigmoid_is_clamped_at_100_as_torch():
    loss = _same(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.sigmoid(lib.tensor([-1000.0, 1000.0])), lib.tensor([1.0, 0.0])).item())
    assert loss == 100.0


@requires_torch
def test_softplus_of_minus_infinity_is_zero_beside_large_values():
    _same(lambda lib: lib.nn.functional.softplus(
        lib.tensor([-math.inf, -1000.0, 0.0, 25.0, 1000.0])).numpy(), rtol=1e-7)


@requires_torch
@pytest.mark.parametrize("values, dtype", [
    (np.arange(100) + 300.0, "float16"),              # sum of squares overflows float16
    (np.linspace(0, 200, 1000), "float16"),
    ([0.0, 0.0, 3e19], "float32"),                    # centred squares overflow float32
    ([1e20, 1e20, 1e20], "float32"),
    ([-1e19, 2e19, 1e18, 0.0], "float32"),
])
def test_var_and_std_accumulate_wider_than_their_dtype(values, dtype):
    def run(lib):
        x = lib.tensor(np.asarray(values, dtype=dtype))
        return [x.var().item(), x.std().item(), x.var(unbiased=False).item(), x.mean().item()]

    out = _same(run, rtol=2e-3 if dtype == "float16" else 1e-6)
    assert all(math.isfinite(v) for v in out)


@requires_torch
def test_mean_of_float16_accumulates_in_float32():
    out = _same(lambda lib: lib.tensor(np.array([60000, 60000, 65000], np.float16)).mean().item())
    assert math.isfinite(out)


@requires_torch
@pytest.mark.parametrize("op", ["relu", "maximum", "minimum", "maximum-nan-other", "clamp"])
def test_a_nans_gradient_flows_as_in_torch(op):
    def run(lib):
        x = lib.tensor([math.nan, 1.0, -1.0, 0.0, 2.0], requires_grad=True)
        other = lib.tensor([0.0, 0.0, 0.0, 0.0, math.nan], requires_grad=True)
        y = {"relu": lambda: lib.relu(x),
             "maximum": lambda: lib.maximum(x, other),
             "minimum": lambda: lib.minimum(x, other),
             "maximum-nan-other": lambda: lib.maximum(other, x),
             "clamp": lambda: x.clamp(-0.5, 0.5)}[op]()
        y.sum().backward()
        return np.concatenate([x.grad.numpy(), np.zeros(5) if other.grad is None
                               else other.grad.numpy()])

    _same(run)


@requires_torch
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_integer_floor_division_and_remainder(dtype):
    a = [7, -7, 7, -7, 0, 5] if dtype != "uint8" else [7, 200, 255, 0, 9, 5]
    b = [2, 2, -2, -2, 3, 5] if dtype != "uint8" else [2, 3, 16, 7, 4, 5]

    def run(lib):
        x, y = lib.tensor(a, dtype=getattr(lib, dtype)), lib.tensor(b, dtype=getattr(lib, dtype))
        return np.concatenate([(x // y).numpy(), (x % y).numpy(), (x // 3).numpy(),
                               (x % 3).numpy(), lib.fmod(x, y).numpy(),
                               lib.div(x, y, rounding_mode="trunc").numpy()])

    _same(run)


@requires_torch
@pytest.mark.parametrize("expression", ["a // b", "a % b", "lib.fmod(a, b)",
                                        "lib.div(a, b, rounding_mode='trunc')",
                                        "lib.div(a, b, rounding_mode='floor')", "a // 0"])
def test_integer_division_by_zero_raises_a_runtime_error(expression):
    for lib in (torch, lamina):
        a, b = lib.tensor([7, 8]), lib.tensor([1, 0])
        with pytest.raises(RuntimeError, match="ZeroDivision|division by zero"):
            eval(expression)


@requires_torch
@pytest.mark.parametrize("dtype, expression", [
    ("int32", "x + 1"), ("int64", "x + 1"), ("int8", "x * 3"), ("uint8", "x - 2"),
    ("int16", "x * x"), ("int32", "-x"), ("uint8", "x + x"),
])
def test_integer_overflow_wraps_around_as_in_torch(dtype, expression):
    info = np.iinfo(dtype)
    values = [info.max, info.min, 100 if info.max > 100 else 1]

    def run(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        result = eval(expression)
        assert str(result.dtype).split(".")[-1] == dtype
        return result.numpy().astype(np.int64)

    _same(run)


@requires_torch
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_float64_input_to_a_float32_layer_raises_as_in_torch(layer):
    for lib in (torch, lamina):
        if layer == "linear":
            module, x = lib.nn.Linear(3, 2), lib.zeros(4, 3, dtype=lib.float64)
        else:
            module, x = lib.nn.Conv2d(1, 2, 3), lib.zeros(1, 1, 5, 5, dtype=lib.float64)
        with pytest.raises(RuntimeError):
            module(x)
        assert module(x.float()).dtype == lib.float32


def test_linear_error_names_both_dtypes_and_the_fix():
    with pytest.raises(lamina.errors.DtypeMismatchError, match=r"float64.*float32.*\.float\(\)"):
        lamina.nn.Linear(3, 2)(lamina.zeros(1, 3, dtype=lamina.float64))


@requires_torch
def test_bfloat16_safetensors_written_by_torch_load_widened_to_float32(tmp_path):
    from safetensors.torch import save_file

    weights = {"w": torch.randn(4, 3).to(torch.bfloat16), "b": torch.arange(3.0).bfloat16(),
               "steps": torch.tensor([7], dtype=torch.int64), "h": torch.ones(2).half()}
    path = str(tmp_path / "bf16.safetensors")
    save_file(weights, path)
    with open(path, "rb") as f:
        from_bytes = lamina.load(f)
    for loaded in (lamina.load(path), from_bytes):
        assert loaded["w"].dtype == lamina.float32 and loaded["h"].dtype == lamina.float16
        np.testing.assert_array_equal(loaded["w"].numpy(), weights["w"].float().numpy())
        np.testing.assert_array_equal(loaded["b"].numpy(), [0.0, 1.0, 2.0])
        assert loaded["steps"].tolist() == [7]


@requires_torch
def test_bfloat16_torch_state_dict_loads_into_a_lamina_module():
    source = torch.nn.Linear(3, 2).to(torch.bfloat16)
    target = lamina.nn.Linear(3, 2)
    target.load_state_dict(source.state_dict())
    assert target.weight.dtype == lamina.float32
    np.testing.assert_array_equal(target.weight.detach().numpy(),
                                  source.weight.detach().float().numpy())


@requires_torch
@pytest.mark.parametrize("seed", [-1, -2**63, 2**64 - 1, 0, 2**32])
def test_manual_seed_accepts_what_torch_accepts(seed):
    for lib in (torch, lamina):
        lib.manual_seed(seed)
        first = lib.rand(3).tolist()
        lib.manual_seed(seed)
        assert lib.rand(3).tolist() == first


@requires_torch
@pytest.mark.parametrize("seed", [2**64, -2**63 - 1])
def test_manual_seed_refuses_what_torch_refuses(seed):
    for lib in (torch, lamina):
        with pytest.raises((ValueError, RuntimeError)):
            lib.manual_seed(seed)

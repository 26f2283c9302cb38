"""Type promotion follows torch.result_type: a table over dtype pairs, 0-d tensors and Python
numbers, checked against torch's own answer and against the dtype of real results."""
import itertools

import numpy as np
import pytest

import lamina as lm

from tests.reference import requires_torch, torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, 2.5]


def _pair(name, zero_dim):
    shape = () if zero_dim else (3,)
    values = np.ones(shape, dtype=name)
    return lm.tensor(values), torch.tensor(values)


def _torch_name(dtype):
    return str(dtype).replace("torch.", "")


@requires_torch
@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("dims", ["nd-nd", "nd-0d", "0d-nd"])
def test_tensor_pairs_match_torch(a, b, dims):
    la, ta = _pair(a, dims.startswith("0d"))
    lb, tb = _pair(b, dims.endswith("0d"))
    expected = _torch_name(torch.result_type(ta, tb))
    assert str(lm.result_type(la, lb)) == expected
    if "bool" not in (a, b):  # arithmetic on bools is an error in torch for sub
        assert str((la + lb).dtype) == _torch_name((ta + tb).dtype)
        assert str((la * lb).dtype) == _torch_name((ta * tb).dtype)


@requires_torch
@pytest.mark.parametrize("a,scalar", list(itertools.product(DTYPES, SCALARS)))
def test_python_numbers_are_weak_as_in_torch(a, scalar):
    la, ta = _pair(a, False)
    assert str(lm.result_type(la, scalar)) == _torch_name(torch.result_type(ta, scalar))
    if a != "bool" or not isinstance(scalar, bool):
        assert str((la + scalar).dtype) == _torch_name((ta + scalar).dtype)
        assert str((scalar * la).dtype) == _torch_name((scalar * ta).dtype)


@requires_torch
@pytest.mark.parametrize("a", ["int64", "int32", "uint8", "bool"])
def test_true_division_of_integers_is_the_default_float(a):
    la, ta = _pair(a, False)
    assert str((la / 2).dtype) == _torch_name((ta / 2).dtype) == "float32"
    assert str((la / la).dtype) == "float32"


def test_float32_with_int64_and_python_float_stay_float32():
    x = lm.tensor([1.5, 2.5])
    assert (x * lm.tensor([2, 3])).dtype == lm.float32
    assert (x + 1e-3).dtype == lm.float32
    assert (x * lm.tensor(2.0, dtype=lm.float64)).dtype == lm.float32


def test_mixed_dtypes_keep_gradients():
    x = lm.tensor([1.0, 2.0], requires_grad=True)
    (x * lm.tensor([3, 4])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    assert x.grad.dtype == lm.float32


def test_default_dtype_changes_floats_and_new_layers():
    try:
        lm.set_default_dtype(lm.float64)
        assert lm.get_default_dtype() == lm.float64
        assert lm.tensor([1.5]).dtype == lm.float64
        assert lm.zeros(2).dtype == lm.float64
        assert lm.randn(2).dtype == lm.float64
        assert (lm.tensor([1, 2]) / 2).dtype == lm.float64
        assert lm.nn.Linear(2, 3).weight.dtype == lm.float64
        assert lm.tensor([1.5]).__repr__() == "tensor([1.5000])"
    finally:
        lm.set_default_dtype(lm.float32)
    assert lm.tensor([1.5]).dtype == lm.float32
    with pytest.raises(lm.LaminaTypeError, match="int64"):
        lm.set_default_dtype(lm.int64)

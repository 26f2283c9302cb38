"""Reduction, shape and indexing behaviour that the operation tables do not cover: ties,
extreme logits, repeated indices, partly used splits, errors, dtypes and setitem."""
import numpy as np
import pytest

import lamina as lm
from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import randn

TIES = np.array([[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0], [5.0, 5.0, 5.0, 5.0]],
                 [[0.0, 0.0, -1.0, 4.0], [4.0, 1.0, 4.0, 1.0], [7.0, 6.0, 7.0, 7.0]]],
                dtype=np.float32)


# ----------------------------------------------------------------------------- ties
TIE_CASES = {
    "max_dim": (lambda x, d: lm.max(x, d), lambda x, d: torch.max(x, d)),
    "min_dim": (lambda x, d: x.min(d, keepdim=True), lambda x, d: x.min(d, keepdim=True)),
    "amax": (lambda x, d: lm.amax(x, d), lambda x, d: torch.amax(x, d)),
    "amin_tuple": (lambda x, d: lm.amin(x, (d, (d + 1) % 3)),
                   lambda x, d: torch.amin(x, (d, (d + 1) % 3))),
    "max_all": (lambda x, d: lm.max(x), lambda x, d: torch.max(x)),
    "min_all": (lambda x, d: x.min(), lambda x, d: x.min()),
    "norm_inf": (lambda x, d: lm.norm(x, np.inf, d), lambda x, d: torch.norm(x, np.inf, d)),
}


@requires_torch
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("case", list(TIE_CASES))
def test_tie_gradients_and_indices_match_torch(case, dim):
    """Values and (for (values, indices) pairs) indices equal torch's; so do the gradients
    of a random cotangent on the values, up to rounding."""
    fn_lm, fn_t = TIE_CASES[case]
    r = check_against_torch(lambda x: fn_lm(x, dim), lambda x: fn_t(x, dim), TIES, cotangent=0,
                            rtol=0, atol=0, grad_rtol=1e-6, grad_atol=1e-7)
    out_lm, out_t = r.lamina.result, r.torch.result
    if isinstance(out_t, tuple):
        np.testing.assert_array_equal(out_lm.indices.numpy(), out_t.indices.numpy())
        np.testing.assert_array_equal(out_lm.values.numpy(), out_t.values.detach().numpy())


def test_max_dim_sends_gradient_to_one_element_amax_splits_it():
    x = lm.tensor([[2.0, 2.0, 1.0]], requires_grad=True)
    lm.max(x, 1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 0.0]])
    x.grad = None
    lm.amax(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.5, 0.0]])


@requires_torch
@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1}, {"dim": 1, "keepdim": True},
                                    {"keepdim": True}])
def test_arg_extrema_with_ties_match_torch(fn, kwargs):
    got = getattr(lm, fn)(lm.tensor(TIES), **kwargs)
    expected = getattr(torch, fn)(torch.tensor(TIES), **kwargs)
    assert got.dtype == lm.int64
    assert got.shape == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_max_with_a_tensor_is_elementwise():
    a, b = lm.tensor([1.0, 5.0, 3.0]), lm.tensor([4.0, 2.0, 3.0])
    np.testing.assert_array_equal(lm.max(a, b).numpy(), [4.0, 5.0, 3.0])
    np.testing.assert_array_equal(a.min(b).numpy(), [1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- logsumexp
LSE_INPUTS = {
    "big": np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 + 1.0]], np.float32),
    "neg_inf_entries": np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, -np.inf]], np.float32),
    "mixed": np.array([[1e4, -np.inf, 3.0], [-1e4, 0.0, -np.inf]], np.float32),
}


@requires_torch
@pytest.mark.parametrize("name", list(LSE_INPUTS))
@pytest.mark.parametrize("dim", [1, -1, (0, 1)])
def test_logsumexp_extremes_finite_and_match_torch(name, dim):
    r = check_against_torch(lambda x: lm.logsumexp(x, dim), lambda x: torch.logsumexp(x, dim),
                            LSE_INPUTS[name], cotangent=0, rtol=1e-6, atol=0,
                            grad_rtol=1e-5, grad_atol=1e-7)
    assert np.all(np.isfinite(r.lamina.values[0])) and np.all(np.isfinite(r.lamina.grads[0]))


def test_logsumexp_of_an_all_neg_inf_row_is_neg_inf_without_nan():
    x = lm.tensor([[-np.inf, -np.inf], [0.0, -np.inf]], requires_grad=True)
    y = lm.logsumexp(x, 1)
    assert y.numpy()[0] == -np.inf and y.numpy()[1] == 0.0
    y[1].backward()  # the gradient of the finite row, through an all -inf neighbour
    assert not np.isnan(x.grad.numpy()).any()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [1.0, 0.0]])


# ----------------------------------------------------------------------------- repeated indices
REPEATS = {
    "list": (lambda x: x[[0, 0, 2, 0]], [3.0, 0.0, 1.0, 0.0]),
    "tensor": (lambda x: x[lm.tensor([2, 2, 3])], [0.0, 0.0, 2.0, 1.0]),
    "index_select": (lambda x: lm.index_select(x, 0, lm.tensor([1, 1, 1])), [0.0, 3.0, 0.0, 0.0]),
    "gather": (lambda x: lm.gather(x, 0, lm.tensor([3, 0, 3, 3])), [1.0, 0.0, 0.0, 3.0]),
    "take_along_dim": (lambda x: lm.take_along_dim(x, lm.tensor([0, 0])), [2.0, 0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("case", list(REPEATS))
def test_repeated_indices_accumulate_gradient(case):
    fn, counts = REPEATS[case]
    x = lm.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    lm.sum(fn(x)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), counts)


def test_repeated_rows_accumulate_in_2d():
    x = lm.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    lm.sum(x[[1, 1], [0, 0]] * lm.tensor([2.0, 5.0])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [7, 0], [0, 0]])


# ----------------------------------------------------------------------------- partly used pieces
PIECES = {
    "split_first": (lambda x: lm.split(x, 2)[0], [1, 1, 0, 0, 0]),
    "split_last": (lambda x: lm.split(x, [1, 3, 1])[2], [0, 0, 0, 0, 1]),
    "split_two": (lambda x: lm.split(x, 2)[0] * 2.0 + lm.split(x, 2)[1], [2, 2, 1, 1, 0]),
    "chunk_middle": (lambda x: lm.chunk(x, 3)[1], [0, 0, 1, 1, 0]),
    "unbind_one": (lambda x: lm.unbind(x)[3], [0, 0, 0, 1, 0]),
}


@pytest.mark.parametrize("case", list(PIECES))
def test_unused_pieces_get_zero_gradient(case):
    fn, expected = PIECES[case]
    x = lm.tensor(np.arange(5.0, dtype=np.float32), requires_grad=True)
    lm.sum(fn(x)).backward()
    assert x.grad.dtype == lm.float32
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_split_pieces_used_through_one_node_each():
    x = lm.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2), requires_grad=True)
    a, b = lm.chunk(x, 2, dim=1)
    lm.sum(a * b).backward()
    np.testing.assert_array_equal(x.grad.numpy(), x.numpy()[:, ::-1])


# ----------------------------------------------------------------------------- errors
ERRORS = {
    "view_bad_size": (lambda x: x.view(5, 5), lm.ShapeError),
    "view_two_unknowns": (lambda x: lm.ops.view(x, -1, -1), lm.ShapeError),
    "reshape_bad_size": (lambda x: lm.reshape(x, (7,)), lm.ShapeError),
    "reshape_unknown_indivisible": (lambda x: x.reshape(-1, 5), lm.ShapeError),
    "expand_incompatible": (lambda x: lm.ops.expand(x, 3, 5), lm.ShapeError),
    "expand_too_few": (lambda x: lm.ops.expand(x, 4), lm.ShapeError),
    "repeat_too_few": (lambda x: lm.ops.repeat(x, 2), lm.ShapeError),
    "permute_not_permutation": (lambda x: lm.permute(x, 0, 0), lm.LaminaValueError),
    "dim_out_of_range": (lambda x: lm.sum(x, 2), lm.LaminaValueError),
    "dim_twice": (lambda x: lm.amax(x, (1, -1)), lm.LaminaValueError),
    "max_tuple_dim": (lambda x: lm.max(x, (0, 1)), lm.LaminaTypeError),
    "cat_mismatch": (lambda x: lm.cat([x, lm.zeros(2, 3)], 0), lm.ShapeError),
    "cat_not_a_list": (lambda x: lm.cat(x), lm.LaminaTypeError),
    "stack_mismatch": (lambda x: lm.stack([x, x.T]), lm.ShapeError),
    "split_sections": (lambda x: lm.split(x, [1, 2]), lm.ShapeError),
    "chunk_zero": (lambda x: lm.chunk(x, 0), lm.LaminaValueError),
    "pad_odd": (lambda x: lm.ops.pad(x, (1,)), lm.LaminaValueError),
    "pad_reflect_too_wide": (lambda x: lm.ops.pad(x, (4, 0), mode="reflect"), lm.LaminaValueError),
    "pad_mode": (lambda x: lm.ops.pad(x, (1, 1), mode="mirror"), lm.LaminaValueError),
    "pad_crop_too_much": (lambda x: lm.ops.pad(x, (-3, -2)), lm.ShapeError),
    "mean_of_ints": (lambda x: lm.mean(lm.tensor([1, 2])), lm.LaminaTypeError),
    "norm_nuc": (lambda x: lm.norm(x, "nuc"), lm.LaminaValueError),
    "amax_empty": (lambda x: lm.amax(lm.zeros(0, 3), 0), lm.LaminaValueError),
    "float_index": (lambda x: x[lm.tensor([0.0, 1.0])], lm.LaminaTypeError),
    "gather_shape": (lambda x: lm.gather(x, 1, lm.tensor([0, 1])), lm.ShapeError),
    "gather_out_of_range": (lambda x: lm.gather(x, 1, lm.tensor([[4], [0]])), IndexError),
    "gather_negative": (lambda x: lm.gather(x, 1, lm.tensor([[-1], [0]])), IndexError),
    "index_select_2d": (lambda x: lm.index_select(x, 0, lm.tensor([[0]])), lm.ShapeError),
    "masked_fill_int_mask": (lambda x: lm.masked_fill(x, lm.tensor([1, 0, 1, 0]), 0.0),
                             lm.LaminaTypeError),
    "getitem_out_of_range": (lambda x: x[5], IndexError),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors(case):
    fn, error = ERRORS[case]
    x = lm.tensor(np.arange(8.0, dtype=np.float32).reshape(2, 4), requires_grad=True)
    with pytest.raises(error):
        fn(x)


def test_view_error_names_both_shapes():
    with pytest.raises(lm.ShapeError, match=r"\(4, 4\).*2, 3"):
        lm.zeros(2, 3).view(4, 4)


# ----------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.uint8])
@pytest.mark.parametrize("fn", [lm.sum, lm.prod])
def test_integer_sum_and_prod_give_int64(fn, dtype):
    x = lm.tensor(np.array([[1, 0, 1], [1, 1, 1]]).astype(dtype))
    assert fn(x).dtype == lm.int64
    assert fn(x, 1).dtype == lm.int64


FLOAT_REDUCTIONS = [lm.sum, lm.mean, lm.var, lm.std, lm.amax, lm.amin, lm.prod, lm.norm,
                    lambda x, d: lm.max(x, d).values, lambda x, d: lm.logsumexp(x, d),
                    lambda x, d: lm.norm(x, 3, d), lambda x, d: lm.norm(x, float("inf"), d)]


@pytest.mark.parametrize("dtype", [lm.float32, lm.float64])
@pytest.mark.parametrize("k", range(len(FLOAT_REDUCTIONS)))
def test_float_reductions_keep_dtype_in_values_and_gradients(k, dtype):
    fn = FLOAT_REDUCTIONS[k]
    x = lm.tensor(randn((3, 4), seed=k, dtype=np.float64), dtype=dtype, requires_grad=True)
    y = fn(x, 1)
    assert y.dtype == dtype
    lm.sum(y).backward()
    assert x.grad.dtype == dtype


@requires_torch
def test_sum_dtype_argument_and_logsumexp_of_ints():
    assert lm.sum(lm.tensor([1.0, 2.0]), dtype=lm.float64).dtype == lm.float64
    y = lm.logsumexp(lm.tensor([1, 2, 3]), 0)
    assert y.dtype == lm.float32
    np.testing.assert_allclose(y.item(), torch.logsumexp(torch.tensor([1.0, 2.0, 3.0]), 0).item(),
                               rtol=1e-6)


@requires_torch
def test_masked_fill_with_neg_inf_matches_torch():
    mask = np.array([[True], [False], [True]])
    check_against_torch(lambda t: lm.masked_fill(t, lm.tensor(mask), -np.inf),
                        lambda t: t.masked_fill(torch.tensor(mask), -np.inf), randn((3, 4), seed=3),
                        cotangent=0, rtol=0, atol=0, grad_rtol=0, grad_atol=0)


# ----------------------------------------------------------------------------- leaf gradients
VIEW_BACKWARDS = {
    "reshape": lambda t: t.reshape(2, 3), "transpose": lambda t: lm.transpose(t, 0, 1).T,
    "flip": lambda t: lm.flip(t, 1), "squeeze": lambda t: lm.unsqueeze(t, 0)[0],
    "pad": lambda t: lm.ops.pad(t, (1, 1))[:, 1:4], "expand": lambda t: lm.ops.expand(t, 2, 3),
    "sum": lambda t: lm.sum(lm.unsqueeze(t, 0), 0), "cat": lambda t: lm.cat([t], 0),
}


@pytest.mark.parametrize("case", list(VIEW_BACKWARDS))
def test_leaf_gradients_are_writable_and_not_shared(case):
    fn = VIEW_BACKWARDS[case]
    x = lm.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = lm.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    seed = np.ones((2, 3), np.float32)
    (fn(x) + fn(w)).backward(lm.tensor(seed))
    assert not np.shares_memory(x.grad.numpy(), w.grad.numpy())
    assert not np.shares_memory(x.grad.numpy(), seed)
    x.grad.numpy()[...] = 0.0  # an optimiser's in-place update must be possible
    assert w.grad.numpy().min() != 0.0


# ----------------------------------------------------------------------------- setitem
def test_setitem_writes_in_place_and_bumps_version():
    x = lm.zeros(3, 4)
    version = x._version
    x[1, [0, 2]] = 5.0
    x[lm.tensor([False, False, True])] = lm.tensor([1.0, 2.0, 3.0, 4.0])
    expected = np.zeros((3, 4), np.float32)
    expected[1, [0, 2]] = 5.0
    expected[2] = [1, 2, 3, 4]
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x._version == version + 2


@requires_torch
def test_setitem_uses_torch_index_semantics():
    x, t = lm.zeros(3, 2, 5), torch.zeros(3, 2, 5)
    value = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x[0, :, [1, 4, 2]] = lm.tensor(value)
    t[0, :, [1, 4, 2]] = torch.tensor(value)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_setitem_on_tensor_requiring_grad():
    w = lm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(lm.InplaceError):
        w[0] = 0.0
    with lm.no_grad():
        w[0] = 0.0
    np.testing.assert_array_equal(w.numpy(), [0.0, 2.0, 3.0])


def test_setitem_with_a_value_requiring_grad_raises():
    x, v = lm.zeros(3), lm.tensor(2.0, requires_grad=True)
    with pytest.raises(lm.InplaceError):
        x[0] = v


def test_setitem_after_use_is_detected_by_backward():
    a = lm.tensor([1.0, 2.0])
    w = lm.tensor([3.0, 4.0], requires_grad=True)
    y = lm.sum(w * a)
    a[0] = 10.0
    with pytest.raises(lm.InplaceError):
        y.backward()


def test_setitem_on_expanded_tensor_raises_lamina_error():
    x = lm.ops.expand(lm.zeros(1, 3), 2, 3)
    with pytest.raises(lm.LaminaValueError):
        x[0, 0] = 1.0


def test_getitem_of_basic_index_is_a_view():
    x = lm.zeros(2, 3)
    row = x[1]
    x[1, 2] = 7.0
    assert row.numpy()[2] == 7.0

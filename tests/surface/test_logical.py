"""Comparisons, tests and counting (no gradient) and tril/triu, against torch."""
import numpy as np
import pytest

import lamina as lm

from tests.reference import requires_torch, torch

X = np.array([[0.0, 1.5, -2.0], [np.nan, 0.0, np.inf]])
I = np.array([3, 1, 3, 0, 7, 1])

CASES = {
    "any": lambda t, x, i: x.any(),
    "all_dim": lambda t, x, i: t.all(t.isfinite(x), dim=1),
    "any_keepdim": lambda t, x, i: t.any(x > 0, dim=0, keepdim=True),
    "isnan": lambda t, x, i: t.isnan(x),
    "isinf": lambda t, x, i: x.isinf(),
    "nonzero": lambda t, x, i: t.nonzero(i > 1),
    "nonzero_tuple": lambda t, x, i: t.nonzero(i > 1, as_tuple=True)[0],
    "argwhere": lambda t, x, i: t.argwhere(i == 1),
    "count_nonzero": lambda t, x, i: t.count_nonzero(i),
    "bincount": lambda t, x, i: t.bincount(i),
    "bincount_min": lambda t, x, i: t.bincount(i, minlength=10),
    "bincount_w": lambda t, x, i: t.bincount(i, weights=t.ones(6, dtype=t.float64) * 0.5),
    "unique": lambda t, x, i: t.unique(i),
    "unique_inverse": lambda t, x, i: t.unique(i, return_inverse=True)[1],
    "unique_counts": lambda t, x, i: t.unique(i, return_counts=True)[1],
    "eq": lambda t, x, i: t.eq(i, 3),
    "logical_xor": lambda t, x, i: t.logical_xor(i > 1, i < 5),
    "isclose": lambda t, x, i: t.isclose(t.tensor([1.0, 2.0]), t.tensor([1.0 + 1e-9, 2.1])),
    "mod": lambda t, x, i: i % 4,
    "mod_neg": lambda t, x, i: (i - 4) % 3,
    "floordiv": lambda t, x, i: (i - 4) // 3,
    "rfloordiv": lambda t, x, i: 20 // (i + 1),
    "float_mod": lambda t, x, i: t.tensor([-3.5, 2.25]) % 2,
}


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    fn = CASES[name]
    ours = fn(lm, lm.tensor(X), lm.tensor(I))
    theirs = fn(torch, torch.tensor(X), torch.tensor(I))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_equal_and_allclose_are_python_bools():
    a = lm.tensor([1.0, 2.0])
    assert lm.equal(a, lm.tensor([1.0, 2.0])) is True
    assert lm.equal(a, lm.tensor([1.0])) is False
    assert lm.allclose(a, a + 1e-9) is True


@requires_torch
@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_triangles_and_their_gradients(fn, diagonal):
    values = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    x = lm.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    y, ty = getattr(lm, fn)(x, diagonal), getattr(torch, fn)(tx, diagonal)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_bincount_rejects_negative_values():
    with pytest.raises(lm.LaminaValueError, match="non-negative"):
        lm.bincount(lm.tensor([1, -1]))

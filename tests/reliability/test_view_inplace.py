"""In-place changes through views and detached tensors are seen by autograd, as in PyTorch.

A view (slicing, ``view``/``reshape`` when it returns a view, ``transpose``/``permute``/``T``,
``squeeze``/``unsqueeze``, ``expand``, ``diagonal``, ``narrow``, ``select``, ``unbind``,
``detach``, ...) shares its base's version counter. Changing the view in place after the base
was saved for backward must make backward raise (PyTorch raises too) instead of computing a
gradient from the changed values. Each case runs one program under torch and under lamina and
compares what happened: both raise, or both give the same gradient.
"""
import numpy as np
import pytest

import lamina

from tests.reference import requires_torch, torch

# (name, view-making expression on a (3, 4) tensor ``x``): all are views in PyTorch.
VIEWS = [
    ("slice", lambda x: x[0:2]),
    ("index", lambda x: x[1]),
    ("index-then-index", lambda x: x[0][1:3]),
    ("ellipsis", lambda x: x[..., 1]),
    ("none-index", lambda x: x[:, None]),
    ("view", lambda x: x.view(-1)),
    ("reshape", lambda x: x.reshape(12)),
    ("view_as", lambda x: x.view(2, 6)),
    ("flatten", lambda x: x.flatten()),
    ("T", lambda x: x.T),
    ("t", lambda x: x.t()),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("permute", lambda x: x.permute(1, 0)),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(0)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("diagonal", lambda x: x.diagonal()),
    ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("select", lambda x: x.select(0, 2)),
    ("unbind", lambda x: x.unbind(0)[1]),
    ("chunk", lambda x: x.chunk(2, dim=1)[0]),
    ("split", lambda x: x.split(1, dim=0)[2]),
    ("detach", lambda x: x.detach()),
    ("detach-slice", lambda x: x.detach()[1:]),
]

# (name, in-place change of a view ``v``).
CHANGES = [
    ("add_", lambda v: v.add_(10)),
    ("mul_", lambda v: v.mul_(0)),
    ("sub_", lambda v: v.sub_(1.5)),
    ("div_", lambda v: v.div_(2)),
    ("zero_", lambda v: v.zero_()),
    ("fill_", lambda v: v.fill_(3.0)),
    ("clamp_", lambda v: v.clamp_(0.0, 0.5)),
    ("setitem", lambda v: v.__setitem__(0, 100.0)),
    ("neg_", lambda v: v.neg_()),
]


def _run(lib, view, change):
    """w * x saves x for the gradient of w; then x is changed through a view."""
    data = np.arange(1.0, 13.0).reshape(3, 4) / 7.0
    x = lib.tensor(data)
    w = lib.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
    y = (w * x).sum()
    try:
        change(view(x))
        y.backward()
    except RuntimeError as error:
        return "raised", str(error)
    return "gradient", w.grad.detach().numpy().copy()


@requires_torch
@pytest.mark.parametrize("change_name, change", CHANGES, ids=[c[0] for c in CHANGES])
@pytest.mark.parametrize("view_name, view", VIEWS, ids=[v[0] for v in VIEWS])
def test_in_place_change_through_a_view_of_a_saved_tensor(view_name, view, change_name, change):
    expected, _ = _run(torch, view, change)
    outcome, detail = _run(lamina, view, change)
    assert expected == "raised"  # the premise: torch refuses every one of these
    assert outcome == "raised", f"lamina computed a gradient from changed values: {detail}"
    assert "modified in place" in detail


@requires_torch
def test_expanded_view_cannot_be_written():
    # Several elements of an expanded tensor share one memory location: torch refuses the
    # write itself; lamina must refuse it too rather than write to the base silently.
    for lib in (torch, lamina):
        x = lib.zeros(3)
        with pytest.raises(RuntimeError):
            x.expand(2, 3).add_(1)
        assert x.sum().item() == 0.0


@requires_torch
def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place_changes():
    for lib in (torch, lamina):
        x = lib.ones(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError):
            x[0:2].add_(10)
        with pytest.raises(RuntimeError):
            x.T.mul_(0)


@requires_torch
def test_copies_do_not_share_the_counter():
    # Advanced indexing and clone() copy: changing the copy leaves the saved tensor valid.
    for copy in (lambda x: x[[0, 2]], lambda x: x.clone(), lambda x: x[x > 0.5],
                 lambda x: x.contiguous().clone().view(-1)):
        results = []
        for lib in (torch, lamina):
            x = lib.tensor(np.arange(12.0).reshape(3, 4) / 12.0)
            w = lib.ones(3, 4, requires_grad=True)
            y = (w * x).sum()
            copy(x).add_(5)
            y.backward()
            results.append(w.grad.numpy().copy())
        np.testing.assert_array_equal(results[0], results[1])


@requires_torch
def test_change_before_use_is_fine_and_gradients_see_the_new_values():
    for lib in (torch, lamina):
        x = lib.tensor(np.ones((3, 4)))
        x[0:2].mul_(2)
        w = lib.ones(3, 4, requires_grad=True)
        (w * x).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy()[:2], 2.0)
        np.testing.assert_array_equal(w.grad.numpy()[2], 1.0)


@requires_torch
def test_the_base_changed_after_a_view_was_saved():
    # The view is what the graph saved; the change is made through the base.
    for lib in (torch, lamina):
        x = lib.tensor(np.ones((3, 4)))
        w = lib.ones(4, requires_grad=True)
        y = (w * x[1]).sum()
        x.add_(1)
        with pytest.raises(RuntimeError, match="modified"):
            y.backward()

"""``lamina.autograd.grad`` and ``lamina.autograd.backward`` with PyTorch's signatures,
compared with torch on the same graphs."""
import numpy as np
import pytest

import lamina as lm

from tests.reference import requires_torch, torch


def _leaves(fw, requires=(True, True, False)):
    rng = np.random.default_rng(7)
    return [fw.tensor(rng.standard_normal(3).astype("float32"), requires_grad=r) for r in requires]


def _close(lamina_values, torch_values):
    assert len(lamina_values) == len(torch_values)
    for a, e in zip(lamina_values, torch_values):
        if e is None:
            assert a is None
        else:
            np.testing.assert_allclose(a.numpy(), e.detach().numpy(), rtol=1e-6, atol=1e-6)


def _program(fw):
    x, w, c = _leaves(fw)
    h = x * w + c
    return x, w, c, h, (h * h).sum(), (h.exp() * x).sum()


@requires_torch
def test_grad_of_several_outputs_and_inputs_matches_torch():
    results = []
    for fw in (torch, lm):
        x, w, c, h, loss1, loss2 = _program(fw)
        results.append(fw.autograd.grad([loss1, loss2], [x, w, h]))
        assert x.grad is None and w.grad is None
    _close(results[1], results[0])


@requires_torch
def test_grad_with_grad_outputs_for_a_non_scalar_output():
    results = []
    for fw in (torch, lm):
        x, w, c, h, *_ = _program(fw)
        weights = fw.tensor([1.0, -2.0, 0.5])
        results.append(fw.autograd.grad(h * h, (x,), grad_outputs=weights))
    _close(results[1], results[0])


@requires_torch
def test_allow_unused():
    for fw in (torch, lm):
        x, w, c, h, loss1, _ = _program(fw)
        unused = fw.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="(?i)not have been used"):
            fw.autograd.grad(loss1, [x, unused], retain_graph=True)
        gx, gu = fw.autograd.grad(loss1, [x, unused], allow_unused=True)
        assert gu is None
        with pytest.raises(RuntimeError, match="(?i)does not require grad"):
            fw.autograd.grad((x * 2).sum(), [x, c])


def test_grad_leaves_every_grad_untouched():
    x, w, c, h, loss1, _ = _program(lm)
    w.grad = lm.full((3,), 5.0)
    h.retain_grad()
    (gx,) = lm.autograd.grad(loss1, x, retain_graph=True)
    assert x.grad is None and h.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), 5.0)   # another leaf keeps its .grad
    loss1.backward()                                      # the graph was retained
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy())
    assert h.grad is not None                            # retain_grad still works


@requires_torch
def test_grad_frees_the_graph_unless_retained():
    for fw in (torch, lm):
        x, w, c, h, loss1, _ = _program(fw)
        fw.autograd.grad(loss1, x)
        with pytest.raises(RuntimeError):
            fw.autograd.grad(loss1, x)


@requires_torch
def test_backward_of_several_tensors_and_inputs_matches_torch():
    grads, only = [], []
    for fw in (torch, lm):
        x, w, c, h, loss1, loss2 = _program(fw)
        fw.autograd.backward([loss1, h], [fw.tensor(2.0), fw.ones(3)])
        grads.append([x.grad, w.grad])
        x, w, c, h, loss1, loss2 = _program(fw)
        fw.autograd.backward(loss2, inputs=[w])
        only.append([x.grad, w.grad])
    _close(grads[1], grads[0])
    _close(only[1], only[0])


def test_create_graph_is_refused_clearly():
    x, w, c, h, loss1, _ = _program(lm)
    with pytest.raises(lm.GraphError, match="create_graph"):
        lm.autograd.grad(loss1, x, create_graph=True)

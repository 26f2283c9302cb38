"""lamina.nn.utils: gradient clipping against PyTorch, the L_p penalty and its gradient,
flattening parameters, and weight noise."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lamina as lm
import lamina.nn as nn
from lamina.errors import LaminaValueError, ShapeError
from lamina.nn import utils

from tests.reference import check_against_torch, requires_torch, torch
from tests.samples import randn


def _pair_with_grads(scale: float):
    """A lamina and a torch Sequential with the same weights and the same gradients."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    mine = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    mine.load_state_dict(ref.state_dict())
    x = randn((6, 4), seed=1) * scale
    g = randn((6, 3), seed=2) * scale
    mine(lm.tensor(x)).backward(lm.tensor(g))
    ref(torch.tensor(x)).backward(torch.tensor(g))
    return mine, ref


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.05, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    mine, ref = _pair_with_grads(scale=3.0)
    total = utils.clip_grad_norm_(mine.parameters(), max_norm, norm_type)
    total_ref = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm, norm_type)
    assert total.dtype == np.float32 and total.shape == ()
    np.testing.assert_allclose(total.item(), total_ref.item(), rtol=1e-5)
    for p, q in zip(mine.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    if max_norm < total.item():
        flat = np.concatenate([p.grad.numpy().ravel() for p in mine.parameters()])
        np.testing.assert_allclose(np.linalg.norm(flat, norm_type), max_norm, rtol=1e-4)


@requires_torch
def test_clip_grad_norm_replaces_gradient_arrays_instead_of_scaling_in_place():
    mine, _ = _pair_with_grads(scale=3.0)
    weight = mine[0].weight
    shared = weight.grad.numpy()
    before = shared.copy()
    utils.clip_grad_norm_(mine.parameters(), 1e-3)
    np.testing.assert_array_equal(shared, before)
    assert weight.grad.numpy() is not shared


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(lm.ones(3))
    assert utils.clip_grad_norm_([p], 1.0).item() == 0.0          # no gradients yet
    p.grad = lm.tensor([np.inf, 0.0, 1.0])
    with pytest.raises(LaminaValueError, match="inf"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


@requires_torch
def test_clip_grad_value_matches_torch():
    mine, ref = _pair_with_grads(scale=3.0)
    utils.clip_grad_value_(mine.parameters(), 0.5)
    torch.nn.utils.clip_grad_value_(ref.parameters(), 0.5)
    for p, q in zip(mine.parameters(), ref.parameters()):
        assert np.abs(p.grad.numpy()).max() == 0.5
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def _lp_arrays():
    rng = np.random.default_rng(4)
    return [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, 1.5])
def test_lp_penalty_value_and_gradient(p):
    arrays = _lp_arrays()
    params = [nn.Parameter(lm.tensor(a)) for a in arrays]
    omega = utils.lp_penalty(params, p)
    assert omega.shape == () and omega.dtype == np.float32
    np.testing.assert_allclose(omega.item(), sum(np.sum(np.abs(a) ** p) for a in arrays), rtol=1e-5)
    omega.backward()
    for w, a in zip(params, arrays):
        # lecture 000: dOmega/dW_ij = p |W_ij|^(p-1) sgn(W_ij)
        np.testing.assert_allclose(w.grad.numpy(), p * np.abs(a) ** (p - 1) * np.sign(a), rtol=1e-4)


@requires_torch
@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, 1.5])
def test_lp_penalty_matches_torch(p):
    check_against_torch(lambda *ws: utils.lp_penalty(list(ws), p),
                        lambda *ts: sum(t.abs().pow(p).sum() for t in ts), *_lp_arrays(),
                        cotangent="ones", rtol=1e-5, atol=0, grad_rtol=1e-4, grad_atol=1e-6)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0])
def test_lp_penalty_gradient_is_zero_at_zero_weights(p):
    w = nn.Parameter(lm.tensor([0.0, -2.0, 0.0, 1.0]))
    utils.lp_penalty([w], p).backward()
    g = w.grad.numpy()
    assert np.isfinite(g).all() and g[0] == 0 and g[2] == 0
    assert g[1] == pytest.approx(-p * 2.0 ** (p - 1)) and g[3] == pytest.approx(p)


def test_lp_penalty_of_a_module_and_in_a_loss_gradient():
    model = nn.Linear(3, 2)
    lam = 0.1
    omega = utils.lp_penalty(model, 1)
    expected = sum(np.abs(q.numpy()).sum() for q in model.parameters())
    np.testing.assert_allclose(omega.item(), expected, rtol=1e-6)
    lm.ops.mul(omega, lam).backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), lam * np.sign(model.weight.numpy()), rtol=1e-6)
    with pytest.raises(LaminaValueError, match="p > 0"):
        utils.lp_penalty(model, 0)


@requires_torch
def test_parameters_to_vector_round_trip_and_torch_layout():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Linear(4, 3))
    mine = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(4, 3))
    mine.load_state_dict(ref.state_dict())
    vec = utils.parameters_to_vector(mine.parameters())
    assert vec.shape == (mine.num_parameters(),)
    np.testing.assert_array_equal(vec.numpy(),
                                  torch.nn.utils.parameters_to_vector(ref.parameters()).detach().numpy())
    arrays = [p.numpy() for p in mine.parameters()]
    new = lm.tensor(np.arange(vec.shape[0], dtype=np.float32))
    utils.vector_to_parameters(new, mine.parameters())
    assert all(a is p.numpy() for a, p in zip(arrays, mine.parameters()))   # written in place
    np.testing.assert_array_equal(utils.parameters_to_vector(mine.parameters()).numpy(), new.numpy())
    with pytest.raises(ShapeError, match=f"\\({vec.shape[0]},\\)"):
        utils.vector_to_parameters(lm.zeros(3), mine.parameters())


def test_parameters_to_vector_is_differentiable():
    a, b = nn.Parameter(lm.ones(2, 2)), nn.Parameter(lm.ones(3))
    vec = utils.parameters_to_vector([a, b])
    vec.backward(lm.arange(7, dtype=lm.float32))
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.grad.numpy(), [4, 5, 6])


def test_add_weight_noise_statistics_and_reproducibility():
    model = nn.Linear(200, 100)
    before = [p.numpy().copy() for p in model.parameters()]
    lm.manual_seed(9)
    assert utils.add_weight_noise_(model, 0.01) is model
    noise = np.concatenate([(p.numpy() - b).ravel() for p, b in zip(model.parameters(), before)])
    assert model.weight.dtype == np.float32 and model.weight.requires_grad
    np.testing.assert_allclose(noise.std(), 0.01, rtol=0.03)
    assert abs(noise.mean()) < 5 * 0.01 / math.sqrt(noise.size)
    again = nn.Linear(200, 100)
    again.load_state_dict({k: b for k, b in zip(("weight", "bias"), before)})
    lm.manual_seed(9)
    utils.add_weight_noise_(again.parameters(), 0.01)
    np.testing.assert_array_equal(again.weight.numpy(), model.weight.numpy())
    with pytest.raises(LaminaValueError):
        utils.add_weight_noise_(model, -1.0)

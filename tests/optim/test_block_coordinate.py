"""Block-coordinate descent (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks): the
exact block minimiser of a deep linear network's least-squares loss, and gradient BCD with one
step size alpha_j per parameter group."""
import copy

import numpy as np
import pytest

import lamina as lm
from lamina import nn
from lamina.errors import LaminaTypeError, LaminaValueError, ShapeError
from lamina.models import mlp
from lamina.optim import SGD, BlockCoordinateDescent, DeepLinearLeastSquares
from lamina.optim.lr_scheduler import InverseTimeLR


def _problem(seed=0, sizes=(5, 3, 3, 4), n=40, dtype=lm.float64, bias=True):
    lm.manual_seed(seed)
    if bias:
        model = mlp(list(sizes), "identity").to(dtype)
    else:
        model = nn.Sequential(*[nn.Linear(a, b, bias=False)
                                for a, b in zip(sizes[:-1], sizes[1:])]).to(dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0]))
    y = x @ rng.standard_normal((sizes[0], sizes[-1])) + 0.3 * rng.standard_normal((n, sizes[-1]))
    problem = DeepLinearLeastSquares(model, lm.tensor(x, dtype=dtype), lm.tensor(y, dtype=dtype))
    return model, problem


def _weights(problem, j):
    layer = problem.layers[j]
    w = layer.weight.detach().numpy()
    return w if layer.bias is None else np.concatenate([w, layer.bias.detach().numpy()[:, None]], 1)


def _direct_solve(problem, j):
    """Block j's minimum-norm least-squares solution from the vectorised problem
    vec(A W~ B) = (B^T kron A) vec(W~), solved by np.linalg.lstsq."""
    x = problem.x.numpy().astype(np.float64)
    y = problem.y.numpy().astype(np.float64)
    layers = problem.layers
    z = x
    for layer in layers[:j]:
        z = z @ layer.weight.detach().numpy().T
        if layer.bias is not None:
            z = z + layer.bias.detach().numpy()
    if layers[j].bias is not None:
        z = np.concatenate([z, np.ones((len(z), 1))], 1)
    a, c = np.eye(layers[j].out_features), np.zeros(layers[j].out_features)
    for layer in layers[j + 1:]:
        w = layer.weight.detach().numpy()
        a, c = w @ a, w @ c + (0 if layer.bias is None else layer.bias.detach().numpy())
    target = (y - c).T                               # (d_J, N) = A W~ Z~^T
    kron = np.kron(z, a)                             # vec(A W~ B) with B = Z~^T, column-major
    solution = np.linalg.lstsq(kron, target.reshape(-1, order="F"), rcond=None)[0]
    return solution.reshape(layers[j].out_features, z.shape[1], order="F")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("j", [0, 1, 2])
def test_exact_block_update_is_the_direct_least_squares_solution(j, bias):
    model, problem = _problem(seed=j, bias=bias)
    before = problem.loss()
    expected = _direct_solve(problem, j)
    problem.minimize_block(j)
    np.testing.assert_allclose(_weights(problem, j), expected, rtol=1e-7, atol=1e-8)
    assert problem.loss() <= before + 1e-12


def test_exact_block_update_minimises_the_loss_over_that_block():
    model, problem = _problem(seed=3)
    problem.minimize_block(1)
    best = problem.loss()
    layer = problem.layers[1]
    rng = np.random.default_rng(0)
    for _ in range(5):  # any change of block 1 alone does not lower the loss
        saved = layer.weight.detach().numpy().copy()
        with lm.no_grad():
            layer.weight._data += 1e-3 * rng.standard_normal(saved.shape)
        assert problem.loss() >= best - 1e-12
        with lm.no_grad():
            layer.weight._data[...] = saved


@pytest.mark.parametrize("order", [None, [2, 0, 1], [0, 1, 2, 1]])
def test_exact_bcd_decreases_the_loss_monotonically(order):
    model, problem = _problem(seed=5, sizes=(6, 2, 3, 5))
    bcd = BlockCoordinateDescent(problem.blocks(), order=order, exact=problem)
    losses = [problem.loss()]
    for _ in range(12):
        bcd.step()
        losses.append(problem.loss())
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < losses[0]


def test_exact_bcd_reaches_the_reduced_rank_optimum():
    # The network's map has rank <= 2 (a bottleneck): the optimum is reduced-rank regression.
    model, problem = _problem(seed=6, sizes=(6, 2, 3, 5), n=60)
    bcd = BlockCoordinateDescent(problem.blocks(), exact=problem)
    for _ in range(300):
        bcd.step()
    x = np.concatenate([problem.x.numpy(), np.ones((60, 1))], 1)
    fitted = x @ np.linalg.lstsq(x, problem.y.numpy(), rcond=None)[0]
    centred = fitted - fitted.mean(0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    best = fitted.mean(0) + (u[:, :2] * s[:2]) @ vt[:2]
    optimum = ((problem.y.numpy() - best) ** 2).sum() / 60
    assert abs(problem.loss() - optimum) < 1e-6 * optimum


def test_gradient_bcd_with_one_block_is_sgd():
    model, problem = _problem(seed=7, dtype=lm.float32)
    twin = copy.deepcopy(model)
    twin_problem = DeepLinearLeastSquares(twin, problem.x, problem.y)
    bcd = BlockCoordinateDescent(model.parameters(), lr=0.05)
    sgd = SGD(twin.parameters(), lr=0.05)
    for _ in range(5):
        for opt, prob in ((bcd, problem), (sgd, twin_problem)):
            opt.zero_grad()
            prob.loss_tensor().backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert bcd.current_block == 0 and bcd.sweeps == 5


def test_gradient_bcd_updates_one_block_with_its_own_step_size():
    model, problem = _problem(seed=8)
    bcd = BlockCoordinateDescent(problem.blocks(lr=[0.1, 0.02, 0.3]))

    def closure():
        bcd.zero_grad()
        loss = problem.loss_tensor()
        loss.backward()
        return loss

    for j, lr in enumerate([0.1, 0.02, 0.3]):
        before = [p.detach().numpy().copy() for p in model.parameters()]
        loss = bcd.step(closure)
        grads = [p.grad.numpy() for p in model.parameters()]
        after = [p.detach().numpy() for p in model.parameters()]
        for k, (b, g, a) in enumerate(zip(before, grads, after)):
            if k // 2 == j:      # layer j's weight and bias
                np.testing.assert_allclose(a, b - lr * g, rtol=1e-12, atol=1e-14)
            else:
                np.testing.assert_array_equal(a, b)
        assert isinstance(loss.item(), float)


def test_gradient_bcd_matches_torch_per_layer_updates():
    torch = pytest.importorskip("torch")
    model, problem = _problem(seed=9)
    tw = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in model.parameters()]
    x, y = torch.tensor(problem.x.numpy()), torch.tensor(problem.y.numpy())
    steps = [0.05, 0.01, 0.2]
    bcd = BlockCoordinateDescent(problem.blocks(lr=steps))
    torch_opt = torch.optim.SGD([{"params": tw[2 * j:2 * j + 2], "lr": steps[j]} for j in range(3)])
    for k in range(7):
        j = k % 3
        bcd.zero_grad()
        problem.loss_tensor().backward()
        bcd.step()
        z = x
        for w, b in zip(tw[::2], tw[1::2]):
            z = z @ w.T + b
        loss = ((z - y) ** 2).sum() / len(x)
        torch_opt.zero_grad()
        loss.backward()
        for i, p in enumerate(tw):  # only block j moves: drop the other layers' gradients
            if i // 2 != j:
                p.grad = None
        torch_opt.step()
    for ours, theirs in zip(model.parameters(), tw):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


def test_step_size_schedules_come_from_lr_scheduler():
    model, problem = _problem(seed=10)
    bcd = BlockCoordinateDescent(problem.blocks(lr=[0.1, 0.2, 0.4]))
    schedule = InverseTimeLR(bcd, power=0.5)           # alpha_j^{(k)} = alpha_j / sqrt(k)
    for _ in range(3):
        bcd.sweep()
        schedule.step()                                 # once per iteration k (a sweep)
    np.testing.assert_allclose([g["lr"] for g in bcd.param_groups],
                               np.array([0.1, 0.2, 0.4]) / np.sqrt(4))


def test_block_lipschitz_step_never_increases_the_loss():
    model, problem = _problem(seed=11)
    bcd = BlockCoordinateDescent(problem.blocks())
    losses = [problem.loss()]
    for k in range(9):
        j = bcd.current_block
        bcd.param_groups[j]["lr"] = 1.0 / problem.block_lipschitz(j)
        bcd.zero_grad()
        problem.loss_tensor().backward()
        bcd.step()
        losses.append(problem.loss())
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:])), losses


def test_state_dict_round_trip_keeps_the_next_block(tmp_path):
    model, problem = _problem(seed=12)
    bcd = BlockCoordinateDescent(problem.blocks(lr=0.01), order=[2, 1, 0])
    bcd.step()
    bcd.step()
    path = str(tmp_path / "bcd.lmt")
    lm.save(bcd.state_dict(), path)
    fresh = BlockCoordinateDescent(problem.blocks(lr=0.5))
    fresh.load_state_dict(lm.load(path))
    assert fresh.order == [2, 1, 0] and fresh.current_block == 0 and fresh.position == 2
    assert [g["lr"] for g in fresh.param_groups] == [0.01] * 3
    fresh.step()
    assert fresh.current_block == 2 and fresh.sweeps == 1


@pytest.mark.parametrize("call, error, words", [
    (lambda p: BlockCoordinateDescent(p.blocks(), order=[0, 3]), LaminaValueError, ["[0, 3)"]),
    (lambda p: BlockCoordinateDescent(p.blocks(), order=[]), LaminaValueError, ["non-empty"]),
    (lambda p: BlockCoordinateDescent(p.blocks(), exact=object()), LaminaTypeError,
     ["minimize_block"]),
    (lambda p: p.minimize_block(3), LaminaValueError, ["block 3", "3 layers"]),
    (lambda p: p.blocks(lr=[0.1]), LaminaValueError, ["3 step sizes"]),
    (lambda p: DeepLinearLeastSquares(mlp([5, 3, 4], "relu"), p.x, p.y), LaminaValueError,
     ["ReLU"]),
    (lambda p: DeepLinearLeastSquares(mlp([6, 3, 4], "identity"), p.x, p.y), ShapeError,
     ["(N, 6)"]),
    (lambda p: DeepLinearLeastSquares([nn.Linear(5, 3), nn.Linear(2, 4)], p.x, p.y),
     ShapeError, ["layer 0", "layer 1"]),
])
def test_errors(call, error, words):
    _, problem = _problem()
    with pytest.raises(error) as info:
        call(problem)
    for word in words:
        assert word in str(info.value)


def test_exported_from_lamina_optim():
    assert lm.optim.BlockCoordinateDescent is BlockCoordinateDescent
    assert "DeepLinearLeastSquares" in lm.optim.__all__

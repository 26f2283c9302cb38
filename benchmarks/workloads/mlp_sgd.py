"""Workload 1, ``mlp-sgd``: the [784, 30, 10] network of Grohs's lecture
"Introduction to (Convolutional) Neural Networks", one epoch of minibatch SGD.

Network [784, 30, 10] with sigmoid units on both layers, every weight and bias drawn from
N(0, 1) (Nielsen's ``network.py``), the quadratic cost C = 1/(2n) sum_x ||y(x) - a||^2,
minibatches of n = 10, learning rate eta = 3.0, one epoch over 50,000 Fashion-MNIST images in
the shared permuted order. Reported: seconds per 50,000-image epoch (--quick times a part of
the epoch and scales it up).

Besides lamina, PyTorch and JAX, a hand-written NumPy version (no framework: the forward and
backward passes of this one network written out, vectorised over the batch) shows the floor
that Python and NumPy allow for the same arithmetic, and the same lamina step under
``lamina.compile`` is timed against JAX's jit.
"""
from __future__ import annotations

import numpy as np

from .common import (Row, Settings, Target, check_losses, clock, fashion_mnist, interleave,
                     lamina_state, load_into_torch, one_hot, permutation, SEED, training_step)

EPOCH = 50_000
BATCH = 10
LR = 3.0


# ----------------------------------------------------------------------------- lamina
class LaminaMLP:
    """The eager loop a user writes: zero_grad, forward, quadratic cost, backward, step.

    ``compiled=True`` wraps that same step in ``lamina.compile`` (opt-in replay)."""

    def __init__(self, compiled: bool = False) -> None:
        import lamina as lm
        from lamina.models import mlp
        from lamina.nn import functional as F

        lm.manual_seed(SEED)
        self.lm, self.F = lm, F
        self.net = mlp([784, 30, 10], "sigmoid", "normal", output_activation="sigmoid")
        self.opt = lm.optim.SGD(self.net.parameters(), lr=LR)
        net, opt = self.net, self.opt

        step = training_step(lm, net, opt, lambda t, out, y: F.quadratic_loss(out, y))
        self._step = lm.compile(step) if compiled else step

    def step(self, x: np.ndarray, y: np.ndarray):
        return self._step(self.lm.from_numpy(x), self.lm.from_numpy(y))

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.lm.no_grad():
            return float(self.F.quadratic_loss(self.net(self.lm.from_numpy(x)),
                                               self.lm.from_numpy(y)).item())


# ----------------------------------------------------------------------------- torch
class TorchMLP:
    def __init__(self, state: dict[str, np.ndarray]) -> None:
        import torch

        self.torch = torch
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 30),
                                       torch.nn.Sigmoid(), torch.nn.Linear(30, 10),
                                       torch.nn.Sigmoid())
        load_into_torch(self.net, state)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=LR)

    def _cost(self, x, y):
        return 0.5 * ((self.net(x) - y) ** 2).sum(1).mean()

    def step(self, x: np.ndarray, y: np.ndarray):
        self.opt.zero_grad()
        loss = self._cost(self.torch.from_numpy(x), self.torch.from_numpy(y))
        loss.backward()
        self.opt.step()
        return loss

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.torch.no_grad():
            return float(self._cost(self.torch.from_numpy(x), self.torch.from_numpy(y)).item())


# ----------------------------------------------------------------------------- NumPy floor
def _sigmoid_(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^{-z}), computed in place in z's own buffer."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


class NumpyMLP:
    """The 784-30-10 sigmoid network with quadratic cost, trained by hand (Nielsen's
    backprop equations, vectorised over the minibatch of n samples, rows = samples):

        a1 = sigma(x W1^T + b1),  a2 = sigma(a1 W2^T + b2)
        delta2 = (a2 - y) * a2 (1 - a2) / n          (BP1 with the 1/n of the mean cost)
        delta1 = (delta2 W2) * a1 (1 - a1)            (BP2)
        dC/dW2 = delta2^T a1, dC/db2 = sum_rows delta2, dC/dW1 = delta1^T x, dC/db1 = ...
        W <- W - eta dC/dW                            (SGD)
    """

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.w1, self.b1 = state["1.weight"].copy(), state["1.bias"].copy()
        self.w2, self.b2 = state["3.weight"].copy(), state["3.bias"].copy()

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z1 = x @ self.w1.T
        z1 += self.b1
        a1 = _sigmoid_(z1)
        z2 = a1 @ self.w2.T
        z2 += self.b2
        return a1, _sigmoid_(z2)

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        a1, a2 = self._forward(x)
        delta2 = a2 - y
        delta2 *= a2
        delta2 *= 1.0 - a2
        delta2 *= 1.0 / x.shape[0]
        delta1 = delta2 @ self.w2
        delta1 *= a1
        delta1 *= 1.0 - a1
        self.w2 -= LR * (delta2.T @ a1)
        self.b2 -= LR * delta2.sum(axis=0)
        self.w1 -= LR * (delta1.T @ x)
        self.b1 -= LR * delta1.sum(axis=0)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(0.5 * np.square(self._forward(x)[1] - y).sum(axis=1).mean())


# ----------------------------------------------------------------------------- JAX
class JaxMLP:
    def __init__(self, state: dict[str, np.ndarray]) -> None:
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.params = {k: jnp.asarray(v) for k, v in state.items()}

        def cost(p, x, y):
            a1 = jax.nn.sigmoid(x @ p["1.weight"].T + p["1.bias"])
            a2 = jax.nn.sigmoid(a1 @ p["3.weight"].T + p["3.bias"])
            return 0.5 * jnp.mean(jnp.sum((a2 - y) ** 2, axis=1))

        def step(p, x, y):
            loss, grads = jax.value_and_grad(cost)(p, x, y)
            return jax.tree_util.tree_map(lambda w, g: w - LR * g, p, grads), loss

        self._step = jax.jit(step)
        self._cost = jax.jit(cost)

    def step(self, x: np.ndarray, y: np.ndarray):
        self.params, loss = self._step(self.params, x, y)
        return loss

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self._cost(self.params, x, y))

    def sync(self) -> None:
        self.jax.block_until_ready(self.params)


# ----------------------------------------------------------------------------- workload
def run(settings: Settings) -> list[Row]:
    images, labels, source = fashion_mnist(train=True)
    n = settings.pick(5_000, EPOCH)
    order = permutation(EPOCH)[:n]  # the first 50,000 training images, in one shared order
    x = np.ascontiguousarray(images[order].reshape(n, 784))
    y = one_hot(labels[order])
    steps = n // BATCH

    models: dict[str, object] = {"lamina": LaminaMLP(), "compiled": LaminaMLP(compiled=True)}
    state = lamina_state(models["lamina"].net)
    if settings.has_torch:
        models["torch"] = TorchMLP(state)
    models["numpy"] = NumpyMLP(state)
    if settings.has_jax:
        models["jax"] = JaxMLP(state)

    # One step on the first batch in every framework, then the loss of the updated network
    # on the second: both must agree with lamina's, or the frameworks are not doing the same work.
    losses = {}
    with np.errstate(over="ignore"):
        for name, m in models.items():
            first = m.loss(x[:BATCH], y[:BATCH])
            m.step(x[:BATCH], y[:BATCH])
            losses[name] = [first, m.loss(x[BATCH:2 * BATCH], y[BATCH:2 * BATCH])]
    check_losses("mlp-sgd", losses)

    pieces = 10  # the epoch is timed in 10 slices, the frameworks taking turns slice by slice
    per_piece = steps // pieces * BATCH

    def epoch_unit(m):
        def unit(piece: int) -> float:
            with np.errstate(over="ignore"):
                step, first = m.step, piece * per_piece
                start = clock()
                for i in range(first, first + per_piece, BATCH):
                    step(x[i:i + BATCH], y[i:i + BATCH])
                if hasattr(m, "sync"):
                    m.sync()
                return clock() - start
        return unit

    # No warm-up round: the check above already ran (and, for JAX, compiled) every step.
    seconds = interleave({k: epoch_unit(m) for k, m in models.items()}, settings.reps,
                         pieces=pieces, warmup=False)
    scale = EPOCH / (pieces * per_piece)
    samples = {k: [t * scale for t in v] for k, v in seconds.items()}
    note = f"{source}; batch {BATCH}, lr {LR}; step-1 losses {losses['lamina'][0]:.5f} -> " \
           f"{losses['lamina'][1]:.5f}, equal in all frameworks to 1e-4"
    if n < EPOCH:
        note += f"; timed on {n:,} images and scaled to 50,000"
    return [Row("mlp-sgd", "epoch time", "s", False, samples,
                [Target("<= 1/3 of PyTorch", "<=", 1 / 3, "torch"),
                 Target("<= 1.3x NumPy floor", "<=", 1.3, "numpy"),
                 Target("lamina.compile <= 1.0x JAX jit", "<=", 1.0, "jax", "compiled")], note)]

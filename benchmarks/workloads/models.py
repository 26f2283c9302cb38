"""The convolutional networks of the benchmark in PyTorch and in JAX, layer for layer the same
as lamina's ``lenet5`` (Schwing & Telgarsky's lecture) and ``tf_cnn`` (Grohs's), with the same parameter names
and layouts, so lamina's state dict is loaded into both unchanged.

torch and jax are imported inside the builders: a process that measures lamina alone (the
peak-memory child) never loads them.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def torch_model(name: str):
    """``lenet5`` or ``tf_cnn`` as a torch.nn.Module with lamina's attribute names."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class LeNet5(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)  # 28x28 input padded to 32x32
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.reshape(x.shape[0], -1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    class TFCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
            self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
            self.fc1 = nn.Linear(7 * 7 * 64, 1024)
            self.dropout = nn.Dropout(0.5)
            self.fc2 = nn.Linear(1024, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.reshape(x.shape[0], -1)
            x = self.dropout(F.relu(self.fc1(x)))
            return self.fc2(x)

    return {"lenet5": LeNet5, "tf_cnn": TFCNN}[name]()


def lamina_model(name: str):
    """lamina's ``lenet5`` (28x28 input) or ``tf_cnn``."""
    from lamina import models

    return {"lenet5": models.lenet5, "tf_cnn": models.tf_cnn}[name]()


def jax_forward(name: str) -> Callable:
    """``forward(params, x, key, train)`` of ``name`` in JAX (NCHW images, OIHW kernels, as
    lamina and PyTorch); ``key`` feeds dropout when ``train`` is True."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def conv(x, w, b, pad):
        y = lax.conv_general_dilated(x, w, (1, 1), [(pad, pad), (pad, pad)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def dense(p, name, x):
        return x @ p[name + ".weight"].T + p[name + ".bias"]

    def lenet5(p, x, key, train):
        x = pool(jax.nn.relu(conv(x, p["conv1.weight"], p["conv1.bias"], 2)))
        x = pool(jax.nn.relu(conv(x, p["conv2.weight"], p["conv2.bias"], 0)))
        x = x.reshape(x.shape[0], -1)
        x = jax.nn.relu(dense(p, "fc1", x))
        x = jax.nn.relu(dense(p, "fc2", x))
        return dense(p, "fc3", x)

    def tf_cnn(p, x, key, train):
        x = pool(jax.nn.relu(conv(x, p["conv1.weight"], p["conv1.bias"], 2)))
        x = pool(jax.nn.relu(conv(x, p["conv2.weight"], p["conv2.bias"], 2)))
        x = x.reshape(x.shape[0], -1)
        x = jax.nn.relu(dense(p, "fc1", x))
        if train:  # inverted dropout, p = 0.5, as nn.Dropout
            x = jnp.where(jax.random.bernoulli(key, 0.5, x.shape), x * 2.0, 0.0)
        return dense(p, "fc2", x)

    return {"lenet5": lenet5, "tf_cnn": tf_cnn}[name]


class JaxTrainer:
    """SGD with heavy-ball momentum on cross-entropy, as torch.optim.SGD: b = mu b + g
    (b = g at the first step, which b = 0 initially gives), w = w - lr b; one jitted step."""

    def __init__(self, name: str, state: dict[str, np.ndarray], lr: float, momentum: float):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        forward = jax_forward(name)
        self.params = {k: jnp.asarray(v) for k, v in state.items()}
        self.buffers = {k: jnp.zeros_like(v) for k, v in self.params.items()}
        self.key = jax.random.PRNGKey(0)
        self.train = True
        # Only dropout depends on the mode; a model without it keeps one compiled step.
        self.has_dropout = name == "tf_cnn"

        def cost(p, x, y, key, train):
            logits = forward(p, x, key, train)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))

        def step(p, b, x, y, key, train):
            loss, g = jax.value_and_grad(cost)(p, x, y, key, train)
            b = jax.tree_util.tree_map(lambda bi, gi: momentum * bi + gi, b, g)
            p = jax.tree_util.tree_map(lambda pi, bi: pi - lr * bi, p, b)
            return p, b, loss

        self._step = jax.jit(step, static_argnums=5)
        self._cost = jax.jit(cost, static_argnums=4)
        self._logits = jax.jit(forward, static_argnums=3)

    def step(self, x: np.ndarray, y: np.ndarray):
        key, train = None, self.train and self.has_dropout
        if train:
            self.key, key = self.jax.random.split(self.key)
        self.params, self.buffers, loss = self._step(self.params, self.buffers, x, y, key, train)
        return loss

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self._cost(self.params, x, y, None, False))

    def logits(self, x: np.ndarray):
        return self._logits(self.params, x, None, False)

    def sync(self) -> None:
        self.jax.block_until_ready(self.params)

"""Workloads 2-4: training LeNet-5 and the TensorFlow CNN, and LeNet-5 inference.

- ``lenet-train``: Schwing & Telgarsky's LeNet-5 on 28x28 images, batches of 64, cross-entropy, SGD with
  lr 0.01 and momentum 0.9; a fixed number of steps; training images per second.
- ``tf-cnn-train``: Grohs's TensorFlow CNN (conv 32, conv 64, fc 1024, dropout 0.5),
  batches of 50, the same optimiser; training images per second.
- ``lenet-infer``: LeNet-5 forward over the 10,000 test images in batches of 1,000 (lamina
  under ``no_grad``, PyTorch under ``inference_mode``, JAX jitted); images per second.

Every framework starts from lamina's initial weights (copied through NumPy) and sees the same
batches in the same order. Before timing, one step is taken in every framework (dropout off)
and the losses before and after it must agree with lamina's to 1e-4.
"""
from __future__ import annotations

import numpy as np

from .common import (SEED, EquivalenceError, Row, Settings, Target, batches, check_losses, clock,
                     fashion_mnist, interleave, lamina_state, load_into_torch, training_step)
from .models import JaxTrainer, lamina_model, torch_model

LR, MOMENTUM = 0.01, 0.9


class LaminaTrainer:
    """lamina model + SGD(momentum) + cross-entropy, the lecture's training step, eager as a
    user writes it (``compiled=True``: the same step under ``lamina.compile``)."""

    def __init__(self, name: str, compiled: bool = False) -> None:
        import lamina as lm
        from lamina.nn import functional as F

        lm.manual_seed(SEED)
        self.lm, self.F = lm, F
        self.model = lamina_model(name)
        self.opt = lm.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        model, opt = self.model, self.opt

        step = training_step(lm, model, opt, lambda t, out, y: F.cross_entropy(out, y))
        self._step = lm.compile(step) if compiled else step

    def set_train(self, mode: bool) -> None:
        self.model.train(mode)

    def step(self, x: np.ndarray, y: np.ndarray):
        return self._step(self.lm.from_numpy(x), self.lm.from_numpy(y))

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.lm.no_grad():
            return float(self.F.cross_entropy(self.model(self.lm.from_numpy(x)),
                                              self.lm.from_numpy(y)).item())

    def logits(self, x: np.ndarray) -> np.ndarray:
        with self.lm.no_grad():
            return self.model(self.lm.from_numpy(x)).numpy()


class TorchTrainer:
    """The identical torch module, optimiser and loss."""

    def __init__(self, name: str, state: dict[str, np.ndarray] | None) -> None:
        import torch

        self.torch = torch
        if state is None:  # standalone (the memory child): torch's own initialisation
            torch.manual_seed(SEED)
        self.model = torch_model(name)
        if state is not None:
            load_into_torch(self.model, state)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def set_train(self, mode: bool) -> None:
        self.model.train(mode)

    def step(self, x: np.ndarray, y: np.ndarray):
        torch = self.torch
        self.opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(self.model(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        loss.backward()
        self.opt.step()
        return loss

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.torch.no_grad():
            return float(self.torch.nn.functional.cross_entropy(
                self.model(self.torch.from_numpy(x)), self.torch.from_numpy(y)).item())

    def logits(self, x: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return self.model(self.torch.from_numpy(x)).numpy()


class JaxModel(JaxTrainer):
    def set_train(self, mode: bool) -> None:
        self.train = mode


def _trainers(name: str, settings: Settings) -> dict[str, object]:
    trainers: dict[str, object] = {"lamina": LaminaTrainer(name)}
    state = lamina_state(trainers["lamina"].model)
    if settings.has_torch:
        trainers["torch"] = TorchTrainer(name, state)
    if settings.has_jax:
        trainers["jax"] = JaxModel(name, state, LR, MOMENTUM)
    return trainers


def _check_one_step(workload: str, trainers: dict, xs: np.ndarray, ys: np.ndarray) -> list[float]:
    """Loss on batch 0, one step on it, loss on batch 1, in every framework (dropout off)."""
    losses = {}
    for name, t in trainers.items():
        t.set_train(False)
        first = t.loss(xs[0], ys[0])
        t.step(xs[0], ys[0])
        losses[name] = [first, t.loss(xs[1], ys[1])]
        t.set_train(True)
    check_losses(workload, losses)
    return losses["lamina"]


def _train_unit(t, xs: np.ndarray, ys: np.ndarray, per_piece: int):
    """A timed unit: piece p is training steps p * per_piece ... (p + 1) * per_piece - 1."""
    def unit(piece: int) -> float:
        step, first = t.step, piece * per_piece
        start = clock()
        for i in range(first, first + per_piece):
            step(xs[i], ys[i])
        if hasattr(t, "sync"):
            t.sync()
        return clock() - start
    return unit


def _train_workload(workload: str, model: str, batch: int, per_piece: int, pieces: int,
                    settings: Settings, target_note: str) -> list[Row]:
    steps = per_piece * pieces
    xs, ys, source = batches(batch, steps)
    trainers = _trainers(model, settings)
    losses = _check_one_step(workload, trainers, xs, ys)
    for t in trainers.values():  # warm-up: allocator, caches, JAX's compilation of train mode
        _train_unit(t, xs, ys, min(3, steps))(0)
    seconds = interleave({k: _train_unit(t, xs, ys, per_piece) for k, t in trainers.items()},
                         settings.reps, pieces=pieces, warmup=False)
    samples = {k: [steps * batch / s for s in v] for k, v in seconds.items()}
    note = (f"{source}; {steps} steps of {batch} per repetition; check losses "
            f"{losses[0]:.5f} -> {losses[1]:.5f} equal to 1e-4{target_note}")
    return [Row(workload, "training throughput", "images/s", True, samples,
                [Target(">= PyTorch", ">=", 1.0, "torch")], note)]


def run_lenet_train(settings: Settings) -> list[Row]:
    per_piece, pieces = settings.pick((4, 3), (40, 5))
    return _train_workload("lenet-train", "lenet5", 64, per_piece, pieces, settings, "")


def run_tf_cnn_train(settings: Settings) -> list[Row]:
    per_piece, pieces = settings.pick((2, 2), (8, 5))
    return _train_workload("tf-cnn-train", "tf_cnn", 50, per_piece, pieces, settings,
                           "; dropout 0.5 on in the timed steps")


def run_lenet_infer(settings: Settings) -> list[Row]:
    images, _, source = fashion_mnist(train=False)
    total, batch = settings.pick(3_000, 10_000), 1_000
    xs = np.ascontiguousarray(images[:total].reshape(-1, batch, 1, 28, 28))
    trainers = _trainers("lenet5", settings)
    reference = None
    for name, t in trainers.items():
        t.set_train(False)
        out = np.asarray(t.logits(xs[0]))
        if reference is None:
            reference = out
        elif not np.allclose(out, reference, atol=1e-4, rtol=1e-4):
            raise EquivalenceError(f"lenet-infer: {name}'s logits differ from lamina's by up to "
                                   f"{np.abs(out - reference).max():.3g}")

    pieces = settings.pick(3, 5)
    per_piece = len(xs) // pieces

    def unit_for(t):
        def unit(piece: int) -> float:
            start = clock()
            for x in xs[piece * per_piece:(piece + 1) * per_piece]:
                out = t.logits(x)
            if hasattr(out, "block_until_ready"):
                out.block_until_ready()
            return clock() - start
        return unit

    seconds = interleave({k: unit_for(t) for k, t in trainers.items()}, settings.reps,
                         pieces=pieces)
    samples = {k: [total / s for s in v] for k, v in seconds.items()}
    note = f"{source}; {total:,} images in batches of {batch}; logits equal to 1e-4"
    return [Row("lenet-infer", "inference throughput", "images/s", True, samples,
                [Target(">= PyTorch", ">=", 1.0, "torch")], note)]

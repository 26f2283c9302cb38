"""The PyTorch half of benchmarks/results.py: the same recipe as ``lamina train --preset``.

``torch_model`` is the twin of lamina's ``build_model(spec)`` with lamina's parameter names and
layouts (its state dict loads unchanged); its dropout draws the masks from a copy of lamina's
generator exactly as ``lamina.ops.dropout`` does (keep where u >= 1/2, scale by 2).
``torch_loss`` is lamina's loss (quadratic = 1/2 sum of squares, batch mean), and
``torch_optimizer`` is ``lamina.train.assembly.make_optimizer``. ``train_torch`` trains from
lamina's initial weights on the same float32 batches in the same order (the loader's
``permutation(epoch)``), so the two runs differ only by rounding; ``_nudge`` moves the first
bias one ulp for a control run of PyTorch against itself.

NumPy, PyTorch and lamina are imported inside the functions: ``results.main`` sets the BLAS
thread variables and puts the checkout on ``sys.path`` before any of them loads.
"""
from __future__ import annotations

import json
import sys
import time

from results_lamina import overrides


def torch_model(spec: str, rng) -> "torch.nn.Module":
    """The torch twin of lamina's ``build_model(spec)`` (+ the CLI's Sigmoid for the quadratic
    cost), with lamina's parameter names and layouts so the state dict loads unchanged.
    Dropout draws its masks from ``rng`` (a NumPy Generator) exactly as lamina does."""
    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SameMaskDropout(nn.Module):  # lamina.ops.dropout's draw, p = 0.5
        def forward(self, x):
            if not self.training:
                return x
            keep = rng.random(tuple(x.shape), dtype=np.float32) >= np.float32(0.5)
            return x * torch.from_numpy(keep.astype(np.float32) * np.float32(2.0))

    class ConvNet(nn.Module):
        """conv1 5x5 (pad 2) -> ReLU -> pool 2 -> conv2 5x5 -> ReLU -> pool 2 -> fc1 -> ReLU
        ... -> [dropout] -> last fc: lamina's LeNet5 (28x28 input) and TFCNN, same names."""

        def __init__(self, maps: tuple, pad2: int, widths: tuple, dropout: bool) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, maps[0], 5, padding=2)
            self.conv2 = nn.Conv2d(maps[0], maps[1], 5, padding=pad2)
            self.fcs = [f"fc{i}" for i in range(1, len(widths))]
            for name, d_in, d_out in zip(self.fcs, widths[:-1], widths[1:]):
                setattr(self, name, nn.Linear(d_in, d_out))
            self.dropout = SameMaskDropout() if dropout else None

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).reshape(x.shape[0], -1)
            for name in self.fcs[:-1]:
                x = F.relu(getattr(self, name)(x))
            return getattr(self, self.fcs[-1])(x if self.dropout is None else self.dropout(x))

    if spec == "lenet5":  # Schwing & Telgarsky's Net: 28 -> (pad) 32 -> 28 -> 14 -> 10 -> 5
        return ConvNet((6, 16), 0, (16 * 5 * 5, 120, 84, 10), dropout=False)
    if spec == "tf-cnn":  # Grohs's TensorFlow CNN: 'SAME' convs, 28 -> 14 -> 7
        return ConvNet((32, 64), 2, (7 * 7 * 64, 1024, 10), dropout=True)
    sizes = [int(s) for s in spec.split(":")[1].split(",")]  # mlp:784,30,10:sigmoid:normal
    layers = [nn.Flatten()]
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(d_in, d_out), nn.Sigmoid()]  # hidden sigmoids + the CLI's output one
    return nn.Sequential(*layers)


def torch_loss(config: dict, classes: int):
    """lamina's loss for ``config`` in torch; quadratic = 1/2 sum of squares, batch mean."""
    import torch.nn.functional as F

    if config["loss"] == "cross-entropy":
        return F.cross_entropy
    return lambda out, y: 0.5 * (out - F.one_hot(y, classes).to(out.dtype)).pow(2).sum(1).mean()


def torch_optimizer(config: dict, model):
    """``lamina.train.assembly.make_optimizer`` in torch (the presets use sgd, momentum, adam)."""
    import torch

    lr, wd, params = float(config["lr"]), float(config["weight_decay"]), list(model.parameters())
    if config["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    momentum = float(config["momentum"]) if config["optimizer"] == "momentum" else 0.0
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)


def _nudge(state: dict) -> None:
    """Move every entry of the first bias one ulp up (in place): a control run."""
    import numpy as np

    bias = next(v for k, v in state.items() if k.endswith("bias")).numpy()
    bias[...] = np.nextafter(bias, np.float32(np.inf))


def train_torch(preset: str, seed: int, epochs: int | None, threads: int,
                nudge: bool = False) -> dict:
    """The same recipe in PyTorch from lamina's initial weights, batches and dropout masks
    (with ``nudge``, the first bias one ulp off: how much PyTorch differs from itself)."""
    import numpy as np
    import torch

    import lamina as lm
    from lamina.random import get_rng_state
    from lamina.train.runner import build_run, resolve_config

    torch.set_num_threads(threads)
    config = resolve_config(overrides(preset, seed, epochs))
    data, lamina_net, _, _ = build_run(config)  # seeds lamina exactly as `lamina train` does
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = get_rng_state()  # where lamina's dropout masks will come from
    model = torch_model(config["model"], rng)
    state = {k: torch.from_numpy(np.array(v.numpy(), copy=True))
             for k, v in lamina_net.state_dict().items()}
    if nudge:
        _nudge(state)
    model.load_state_dict(state, strict=True)
    train_x, train_y = (torch.from_numpy(a) for a in data.train_loader.dataset.arrays())
    test_x, test_y = (torch.from_numpy(a) for a in data.test_loader.dataset.arrays())
    with torch.no_grad():  # the two networks must start as the same function
        probe = test_x[:100]
        start_gap = float(np.max(np.abs(model.eval()(probe).numpy()
                                        - lamina_net.eval()(lm.tensor(probe.numpy())).numpy())))
    loss_fn, optimizer = torch_loss(config, data.num_classes), torch_optimizer(config, model)
    batch, test_batch = data.train_loader.batch_size, data.test_loader.batch_size
    n, record = len(train_y), {"test_accuracy": [], "train_loss": [], "epoch_seconds": []}
    for epoch in range(1, int(config["epochs"]) + 1):
        started = time.perf_counter()
        order = torch.from_numpy(data.train_loader.permutation(epoch))
        model.train()
        loss_sum = 0.0
        for begin in range(0, n, batch):
            index = order[begin:begin + batch]
            x, y = train_x[index], train_y[index]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(test_x[begin:begin + test_batch]).argmax(1)
                                   for begin in range(0, len(test_y), test_batch)])
        correct = int((predicted == test_y).sum())
        record["epoch_seconds"].append(time.perf_counter() - started)
        record["train_loss"].append(loss_sum / n)
        record["test_accuracy"].append(correct / len(test_y))
        print(f"  torch {preset} seed {seed} epoch {epoch}: test accuracy "
              f"{record['test_accuracy'][-1]:.4f} ({record['epoch_seconds'][-1]:.1f}s)",
              file=sys.stderr, flush=True)
    record["start_output_gap"] = start_gap
    record["rng_state_after"] = json.dumps(rng.bit_generator.state["state"])
    record["threads"] = torch.get_num_threads()
    record["predicted_per_class"] = torch.bincount(predicted, minlength=data.num_classes).tolist()
    return record

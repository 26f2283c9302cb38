"""The models of benchmarks/gpu.py on a device, one source text for lamina and PyTorch.

``build(t, model)`` gives lamina's own LeNet-5 (``lamina.models.lenet5``, Schwing &
Telgarsky's ``Net``) or Grohs's TensorFlow CNN (``lamina.models.tf_cnn``), their PyTorch twins
(``tests/reference_models.py``), or the ResNet-18-style network written once below on ``t.nn``.
``DeviceTrainer`` holds one of them on a device with SGD (lr 0.01, momentum 0.9) and the
cross-entropy cost, and runs ``workloads.common.training_step`` -- the same step for both
frameworks -- or forward passes, between two ``synchronize()`` calls, so that the work queued on
the device is inside the time it belongs to.

Imported by ``gpu.py`` once its ``main`` has put benchmarks/ and the checkout on ``sys.path``.
"""
from __future__ import annotations

import functools
import time

import numpy as np

import lamina
from eager import cross_entropy
from tests.reference_models import reference_models
from workloads.common import SEED, lamina_state, load_into_torch, training_step


@functools.cache
def resnet18_class(t):
    """A ResNet-18 for 32x32 images on ``t.nn`` (``t`` is lamina or torch): a 3x3 stem of 64
    maps, four stages of two BasicBlocks (64, 128, 256, 512 maps; stride 2 from the second
    stage on), global average pooling and a linear layer."""
    nn, F = t.nn, t.nn.functional
    BasicBlock = reference_models(t).BasicBlock   # relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            widths, cin = (64, 128, 256, 512), 64
            for i, width in enumerate(widths):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, width, stride),
                                                             BasicBlock(width, width)))
                cin = width
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18


def build(t, model: str):
    """lamina's own model (``lamina.models``), or its PyTorch twin, or the ResNet-18 above."""
    if model == "resnet18":
        return resnet18_class(t)()
    if t is lamina:
        return lamina.models.lenet5() if model == "lenet5" else lamina.models.tf_cnn()
    return reference_models(t).Net(padding=2) if model == "lenet5" else reference_models(t).TFCNN()


class DeviceTrainer:
    """``eager.Trainer``'s interface (``step``, ``loss``, ``logits`` on NumPy batches) for a
    model on ``device``; the torch one starts from ``state``, lamina's initial weights."""

    def __init__(self, t, model: str, device: str, state=None) -> None:
        self.t, self.device = t, device
        t.manual_seed(SEED)
        module = build(t, model)
        if state is None:
            state = lamina_state(module)
        else:
            load_into_torch(module, state)
        self.state = state
        self.model = module.to(device)
        self.opt = t.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.train_step = training_step(t, self.model, self.opt, cross_entropy)
        self.cost = cross_entropy

    def put(self, array):
        return self.t.from_numpy(array).to(self.device)

    def step(self, x, y):
        return self.train_step(self.put(x), self.put(y))

    def loss(self, x, y) -> float:
        with self.t.no_grad():
            return float(self.cost(self.t, self.model(self.put(x)), self.put(y)).item())

    def logits(self, x) -> np.ndarray:
        with self.t.no_grad():
            return self.model(self.put(x)).cpu().numpy()

    def synchronize(self) -> None:
        if str(self.device).startswith("cuda"):
            self.t.cuda.synchronize()

    def run(self, kind: str, xs, ys, steps: int) -> float:
        """Seconds of ``steps`` training steps (or forward passes) on the device batches."""
        self.synchronize()
        start = time.perf_counter()
        if kind == "infer":
            with self.t.no_grad():
                for i in range(steps):
                    self.model(xs[i % len(xs)])
        else:
            for i in range(steps):
                self.train_step(xs[i % len(xs)], ys[i % len(ys)])
        self.synchronize()
        return time.perf_counter() - start

"""The models that tests/nn/test_module.py and test_module_state.py share: a small CNN written
once and built with either library (``build_model(torch.nn, torch.ones)`` or
``build_model(lamina.nn, lamina.ones)``), the ``models`` and ``model`` fixtures, and
``Ordered``, whose parameters, buffers and sub-modules are assigned interleaved."""
from __future__ import annotations

import pytest

import lamina as lm
import lamina.nn as nn

from tests.reference import torch
tnn = torch.nn

SMALL_CNN = """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(Block(), nn.MaxPool2d(2))
        self.heads = nn.ModuleList([nn.Linear(4 * 4 * 4, 5), nn.Linear(4 * 4 * 4, 5)])
        self.extra = nn.ModuleDict({"proj": nn.Linear(5, 2, bias=False)})
        self.scale = nn.Parameter(ONES(1))

    def forward(self, x):
        h = self.features(x).reshape(x.shape[0], -1)
        return self.extra["proj"](self.heads[0](h) + self.heads[1](h)) * self.scale
"""


def build_model(library, ones):
    namespace = {"nn": library, "ONES": ones}
    exec(SMALL_CNN, namespace)
    return namespace["Model"]()


@pytest.fixture
def models():
    torch.manual_seed(0)
    return build_model(tnn, torch.ones), build_model(nn, lm.ones)


@pytest.fixture
def model():
    """lamina's half of ``models``."""
    return build_model(nn, lm.ones)


class Ordered(nn.Module):
    def __init__(self):
        super().__init__()
        self.z = nn.Parameter(lm.zeros(2))
        self.register_buffer("count", lm.zeros(1))
        self.a = nn.Linear(2, 2)
        self.m = nn.Parameter(lm.ones(3))
        self.register_buffer("cache", lm.zeros(2), persistent=False)
        self.b = nn.Linear(2, 1)

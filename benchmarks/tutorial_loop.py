"""The loop a user writes, tutorial style and eager: ``zero_grad; loss = crit(net(x), y);
loss.backward(); opt.step()`` for a 784-30-10 sigmoid MLP with SGD+momentum on a batch of 64,
timed in lamina and PyTorch in one process (interleaved repeats, one BLAS thread each) and
reported as the ratio lamina / torch (below 1: lamina is faster).

    python benchmarks/tutorial_loop.py
"""
import timeit

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import lamina

torch.set_num_threads(1)
threadpool_limits(1)


def make(t):
    nn, F = t.nn, t.nn.functional
    net = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10))
    opt = t.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x = t.tensor(np.random.default_rng(0).standard_normal((64, 784)).astype(np.float32))
    y = t.tensor(np.random.default_rng(1).integers(0, 10, 64))
    crit = nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(); loss = crit(net(x), y); loss.backward(); opt.step(); return loss.item()
    return step
res = {}
for name, t in (("torch", torch), ("lamina", lamina), ("torch", torch), ("lamina", lamina)):
    s = make(t); s()
    res.setdefault(name, []).append(min(timeit.repeat(s, number=300, repeat=3)) / 300 * 1e6)
lt, tt = min(res["lamina"]), min(res["torch"])
print(f"MLP 784-30-10 batch 64 SGD step: lamina {lt:.0f} us, torch {tt:.0f} us, lamina/torch = {lt/tt:.2f}")

"""How fast two runs of one recipe drift apart (``benchmarks/results.py --divergence STEPS``).

From lamina's initial weights, on the same batches of epoch 1 (seed 0, no dropout), five runs
of ``STEPS`` steps: lamina and PyTorch in float32 and in float64, and PyTorch with its first
bias one ulp off. At about 20 marks the largest absolute parameter difference
max_i |w_i - w'_i| of each pair in ``PAIRS`` is recorded: rounding differences grow as
training amplifies them, which is why lamina's and PyTorch's accuracies are compared to the
seed-to-seed noise rather than to each other.

NumPy, PyTorch and lamina are imported inside the function: ``results.main`` sets the BLAS
thread variables and puts the checkout on ``sys.path`` before any of them loads.
"""
from __future__ import annotations

from results_lamina import overrides
from results_torch import _nudge, torch_loss, torch_model, torch_optimizer

PAIRS = (("lamina32", "torch32"), ("torch32", "torch32+1ulp"), ("torch32", "torch64"),
         ("lamina64", "torch64"))


def divergence(preset: str, steps: int, threads: int) -> dict:
    """How fast two runs of the same recipe drift apart: the largest |parameter difference|
    during the first ``steps`` steps of epoch 1 (seed 0) between lamina and torch in float32
    and in float64, and between torch and torch with its first bias moved by one ulp.
    All runs start from lamina's initial weights and see the same batches (no dropout)."""
    import numpy as np
    import torch

    import lamina as lm
    from lamina.train.runner import build_run, resolve_config
    from lamina.train.assembly import make_model, make_optimizer

    torch.set_num_threads(threads)
    config = resolve_config(overrides(preset, 0, 1))
    if float(config["dropout"]):
        raise SystemExit(f"--divergence: {preset} has dropout; choose a preset without it")
    data, net, lamina_loss, _ = build_run(config)
    start = {k: np.array(v.numpy(), copy=True) for k, v in net.state_dict().items()}
    images, labels = data.train_loader.dataset.arrays()
    order, batch = data.train_loader.permutation(1), data.train_loader.batch_size
    marks = sorted({*range(0, steps, max(1, steps // 20)), steps - 1})

    def trajectory(framework: str, dtype, nudge: bool = False) -> list:
        if framework == "lamina":
            net = make_model(config, data)
            net.load_state_dict({k: lm.tensor(v) for k, v in start.items()})
            net = net.double() if dtype == np.float64 else net
            opt, loss_fn = make_optimizer(config, net), lamina_loss
        else:
            net = torch_model(config["model"], None)
            state = {k: torch.from_numpy(v.copy()) for k, v in start.items()}
            if nudge:
                _nudge(state)
            net.load_state_dict(state)
            net = net.double() if dtype == np.float64 else net
            opt, loss_fn = torch_optimizer(config, net), torch_loss(config, data.num_classes)
        wrap = lm.tensor if framework == "lamina" else torch.from_numpy
        kept = []
        for step in range(steps):
            index = order[step * batch:(step + 1) * batch]
            opt.zero_grad()
            loss_fn(net(wrap(images[index].astype(dtype))), wrap(labels[index])).backward()
            opt.step()
            if step in marks:
                kept.append(np.concatenate([np.asarray(p.detach().numpy(), np.float64).ravel()
                                            for p in net.parameters()]))
        return kept

    runs = {"lamina32": trajectory("lamina", np.float32),
            "lamina64": trajectory("lamina", np.float64),
            "torch32": trajectory("torch", np.float32),
            "torch32+1ulp": trajectory("torch", np.float32, nudge=True),
            "torch64": trajectory("torch", np.float64)}
    return {"steps": marks, "batch": batch, "pairs": {
        f"{a} vs {b}": [float(np.max(np.abs(x - y))) for x, y in zip(runs[a], runs[b])]
        for a, b in PAIRS}}

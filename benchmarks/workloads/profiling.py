"""``run.py --profile NAME``: where lamina spends the time of a training workload.

Runs lamina alone on the workload under cProfile and prints the top functions by cumulative
and by own ("total") time, then a breakdown of the loop's time:

- per operation family (the file in lamina/ops that defines the Function): the time inside
  its ``forward`` (called by ``Function.apply``) and its ``backward`` (called by the engine);
- the engine's bookkeeping: ``Function.apply`` minus the forwards it runs, and
  ``run_backward`` minus the backwards it runs (graph recording, topological sort, gradient
  accumulation, sum_to, version checks, wrapping);
- the optimiser (``step`` and ``zero_grad``);
- the rest: module calls, wrappers, argument checks, the loop itself.

cProfile adds a fixed cost to every Python call, so Python-heavy parts (the bookkeeping)
look larger than they are without it; the breakdown is a guide, not a measurement.
"""
from __future__ import annotations

import cProfile
import io
import pstats
from collections import defaultdict
from pathlib import Path

import numpy as np

from .common import Settings, batches

LAMINA = str(Path(__file__).resolve().parents[2] / "lamina") + "/"


def _loop(name: str, settings: Settings):
    """The lamina training loop of workload ``name`` and a description of it."""
    if name == "mlp-sgd":
        from .common import fashion_mnist, one_hot, permutation
        from .mlp_sgd import BATCH, LaminaMLP

        steps = settings.pick(500, 3000)
        images, labels, _ = fashion_mnist(True)
        order = permutation(50_000)[:steps * BATCH]
        x = np.ascontiguousarray(images[order].reshape(-1, 784))
        y = one_hot(labels[order])
        model = LaminaMLP()

        def loop(n=steps):
            for i in range(0, n * BATCH, BATCH):
                model.step(x[i:i + BATCH], y[i:i + BATCH])
        return loop, f"{steps} SGD steps of batch {BATCH}"
    from .convnets import LaminaTrainer

    model_name, batch = {"lenet-train": ("lenet5", 64), "tf-cnn-train": ("tf_cnn", 50)}[name]
    steps = settings.pick(10, 60 if name == "lenet-train" else 15)
    xs, ys, _ = batches(batch, steps)
    trainer = LaminaTrainer(model_name)

    def loop(n=steps):
        for i in range(n):
            trainer.step(xs[i], ys[i])
    return loop, f"{steps} training steps of batch {batch}"


def breakdown(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    """(category, seconds) of the profiled loop, largest first (see the module docstring)."""
    raw = stats.stats  # (file, line, function) -> (calls, ncalls, tottime, cumtime, callers)
    autograd = LAMINA + "autograd/"
    apply = [k for k in raw if k[0].endswith("autograd/function.py") and k[2] == "apply"]
    engine = [k for k in raw if k[0].endswith("autograd/engine.py") and k[2] == "run_backward"]
    parts: dict[str, float] = defaultdict(float)
    for key, (_, _, _, _, callers) in raw.items():
        file, _, func = key
        if func not in ("forward", "backward") or not file.startswith(LAMINA + "ops/"):
            continue
        # Only the calls the engine makes (Function.apply, the backward pass) count here.
        parts[f"{Path(file).stem} {func}"] += sum(
            stat[3] for caller, stat in callers.items() if caller[0].startswith(autograd))
    forward_total = sum(v for k, v in parts.items() if k.endswith("forward"))
    backward_total = sum(v for k, v in parts.items() if k.endswith("backward"))
    parts["engine: Function.apply bookkeeping"] = sum(raw[k][3] for k in apply) - forward_total
    parts["engine: run_backward bookkeeping"] = sum(raw[k][3] for k in engine) - backward_total
    for key, value in raw.items():
        if key[0].endswith("optim/optimizer.py") and key[2] in ("step", "zero_grad"):
            parts[f"optimiser {key[2]}"] += value[3]
    parts["everything else (modules, wrappers, checks, loop)"] = total - sum(parts.values())
    return sorted(parts.items(), key=lambda kv: -kv[1])


def profile(name: str, settings: Settings, top: int = 25) -> str:
    """The profile report of lamina on workload ``name`` (mlp-sgd, lenet-train, tf-cnn-train)."""
    loop, what = _loop(name, settings)
    loop(2)  # warm-up outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    loop()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    parts = breakdown(stats, total)
    out = io.StringIO()
    out.write(f"# lamina on {name}: {what}, {total:.2f} s under cProfile\n\n")
    out.write("## Breakdown of the loop's time\n\n| part | s | share |\n|---|---|---|\n")
    for label, seconds in parts:
        out.write(f"| {label} | {seconds:.3f} | {100 * seconds / total:.1f}% |\n")
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(top)
        body = buffer.getvalue()
        body = body[body.find("ncalls"):] if "ncalls" in body else body
        out.write(f"\n## Top {top} functions by {order} time\n\n```\n{body.rstrip()}\n```\n")
    return out.getvalue()

"""Workload 6, ``startup-and-memory``: import time and peak resident memory.

- import time: ``import lamina`` / ``import torch`` / ``import jax`` (and ``import numpy``,
  the floor under ``import lamina``) each timed inside a fresh Python process, several
  processes per library, interleaved; the clock (wall, or the process's CPU time with
  --cpu-time) starts after the interpreter is up.
- peak memory: a fresh process imports one framework, builds LeNet-5 and trains it for a fixed
  number of steps of ``lenet-train`` (batches of 64, SGD with momentum) on synthetic batches
  (the same for every framework, generated from a seed, so the data set's own memory is not
  counted); it reports its peak resident set size (VmHWM, see :func:`peak_rss_mib` for why
  not ``ru_maxrss``). The lamina process never imports torch or jax.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .common import SEED, Row, Settings, Target

BENCH_DIR = Path(__file__).resolve().parents[1]
ROOT = BENCH_DIR.parent

_IMPORT = "import time; t = time.{1}(); import {0}; print(time.{1}() - t)"
_CLOCK_FUNCTIONS = {"wall": "perf_counter", "cpu": "process_time"}


def _python(code: str, timeout: float = 300) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"child process failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB: VmHWM from /proc/self/status.

    Not ``ru_maxrss``: on Linux a child's ``ru_maxrss`` starts from the parent's resident
    size at fork (the kernel keeps the old address space's high-water mark across exec), so a
    child of a 1 GiB benchmark process would report at least 1 GiB. VmHWM belongs to the
    address space created by exec. ``ru_maxrss`` is the fallback where /proc is absent.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB -> MiB
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(framework: str, steps: int, threads: int) -> None:
    """Body of the memory child: train LeNet-5 for ``steps`` steps, print peak RSS as JSON."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    xs = rng.random((4, 64, 1, 28, 28), dtype=np.float32)  # cycled: 4 distinct batches
    ys = rng.integers(0, 10, (4, 64)).astype(np.int64)
    after_numpy = peak_rss_mib()
    if framework == "lamina":
        import lamina  # noqa: F401 - the import is part of what is measured
        from workloads.convnets import LaminaTrainer
        trainer = LaminaTrainer("lenet5")
    elif framework == "torch":
        import torch
        torch.set_num_threads(threads)
        from workloads.convnets import TorchTrainer
        trainer = TorchTrainer("lenet5", None)
    else:
        trainer = _jax_trainer()
    after_import = peak_rss_mib()
    for i in range(steps):
        trainer.step(xs[i % 4], ys[i % 4])
    if hasattr(trainer, "sync"):
        trainer.sync()
    if framework == "lamina":
        assert "torch" not in sys.modules and "jax" not in sys.modules, "lamina child loaded them"
    print(json.dumps({"peak_mib": peak_rss_mib(), "after_import_mib": after_import,
                      "baseline_mib": after_numpy}))


def _jax_trainer():
    """JAX LeNet-5 from its own (seeded, PyTorch-style uniform) initial weights."""
    import numpy as np

    from workloads.convnets import LR, MOMENTUM
    from workloads.models import JaxTrainer

    rng = np.random.default_rng(SEED)
    shapes = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5),
              "conv2.bias": (16,), "fc1.weight": (120, 400), "fc1.bias": (120,),
              "fc2.weight": (84, 120), "fc2.bias": (84,), "fc3.weight": (10, 84),
              "fc3.bias": (10,)}
    state = {k: rng.uniform(-0.1, 0.1, s).astype(np.float32) for k, s in shapes.items()}
    return JaxTrainer("lenet5", state, LR, MOMENTUM)


def run(settings: Settings) -> list[Row]:
    modules = {"lamina": "lamina", "numpy": "numpy"}
    if settings.has_torch:
        modules["torch"] = "torch"
    if settings.has_jax:
        modules["jax"] = "jax"
    order = ["lamina", "torch", "numpy", "jax"]
    modules = {k: modules[k] for k in order if k in modules}
    imports: dict[str, list[float]] = {k: [] for k in modules}
    for _ in range(settings.pick(3, 7)):
        for key, module in modules.items():
            imports[key].append(float(_python(_IMPORT.format(module, _CLOCK_FUNCTIONS[settings.clock]))))

    steps = settings.pick(10, 50)
    frameworks = [k for k in ("lamina", "torch", "jax") if k in modules]
    memory: dict[str, list[float]] = {k: [] for k in frameworks}
    extra: dict[str, dict] = {}
    for _ in range(settings.pick(1, 3)):
        for key in frameworks:
            code = (f"import sys; sys.path[:0] = [{str(BENCH_DIR)!r}, {str(ROOT)!r}]; "
                    f"from workloads.startup import child; "
                    f"child({key!r}, {steps}, {settings.threads})")
            report = json.loads(_python(code))
            memory[key].append(report["peak_mib"])
            extra[key] = report
    after = ", ".join(f"{k} {v['after_import_mib']:.0f}" for k, v in extra.items())
    return [
        Row("startup-and-memory", "import time", "s", False, imports,
            [Target("import lamina < 0.3 s", "<", 0.3)],
            "fresh process per import; the NumPy column is `import numpy`, which `import "
            "lamina` includes"),
        Row("startup-and-memory", "peak RSS (VmHWM), lenet-train", "MiB", False, memory,
            [Target("<= 1/3 of PyTorch", "<=", 1 / 3, "torch")],
            f"fresh process, {steps} steps of batch 64; peak RSS after imports and model "
            f"(MiB): {after}; interpreter + NumPy + data alone: "
            f"{next(iter(extra.values()))['baseline_mib']:.0f} MiB"),
    ]

"""The workloads of benchmarks/gpu.py: data, the equivalence check, the plan and the rows.

A throughput workload (``run_workload``) builds both frameworks' ``DeviceTrainer`` from the
same weights, checks that the loss on batch 0, one step on it and the loss on batch 1 agree
(the logits, for inference), puts ``BATCHES_ON_DEVICE`` batches on each device, warms up,
calibrates two steps, and ``plan``s repetitions x slices x steps to fit its share of the
budget; the frameworks then take turns slice by slice (``workloads.common.interleave``). A
row's samples are images per second, ``slices * steps * batch / seconds`` per repetition.
The memory workload (``run_memory``) gives two rows: the peak bytes the tensors held
(``lamina.cuda.max_memory_allocated`` / ``torch.cuda.max_memory_allocated``) and what the
allocators reserved (CuPy's pool total / ``torch.cuda.max_memory_reserved``), in MiB.

Imported by ``gpu.py`` once its ``main`` has put benchmarks/ and the checkout on ``sys.path``.
"""
from __future__ import annotations

import time

import numpy as np
import torch

import lamina
from gpu_models import DeviceTrainer
from lamina.backend import cuda_backend
from workloads.common import SEED, EquivalenceError, batches, check_losses, interleave

BATCHES_ON_DEVICE = 4   # distinct batches cycled through by the timed steps


def data(model: str, batch: int, count: int):
    """``count`` batches: Fashion-MNIST-shaped for the convnets (``workloads.common.batches``),
    CIFAR-sized random images for the ResNet."""
    if model != "resnet18":
        xs, ys, source = batches(batch, count)
        return xs, ys, source
    rng = np.random.default_rng(SEED)
    xs = rng.standard_normal((count, batch, 3, 32, 32), dtype=np.float32)
    return xs, rng.integers(0, 10, (count, batch)).astype(np.int64), "random 3x32x32 images"


def frameworks(model: str, settings) -> dict:
    """lamina's trainer on its device, and PyTorch's from the same initial weights."""
    trainers = {"lamina": DeviceTrainer(lamina, model, settings.lamina_device)}
    trainers["torch"] = DeviceTrainer(torch, model, settings.torch_device, trainers["lamina"].state)
    return trainers


def check(name, kind, trainers, xs, ys, settings) -> None:
    """Before any timing: the loss on batch 0, one step on it and the loss on batch 1 (dropout
    off, BatchNorm on its running statistics) agree with lamina's, as in ``eager._check``; for
    inference, the logits agree."""
    if kind == "infer":
        reference = trainers["lamina"].logits(xs[0])
        for key, tr in trainers.items():
            tr.model.eval()
            if not np.allclose(tr.logits(xs[0]), reference, atol=settings.tolerance,
                               rtol=settings.tolerance):
                raise EquivalenceError(f"{name}: {key}'s logits differ from lamina's")
        return
    losses = {}
    for key, tr in trainers.items():
        tr.model.train(False)
        first = tr.loss(xs[0], ys[0])
        tr.step(xs[0], ys[0])
        losses[key] = [first, tr.loss(xs[1], ys[1])]
        tr.model.train(True)
    check_losses(name, losses, settings.tolerance)


def plan(per_step: dict, time_left: float, settings) -> tuple[int, int, int]:
    """(repetitions, slices per repetition, steps per slice) fitting ``time_left`` seconds."""
    if settings.smoke:
        return 1, 1, 2
    slices = 4
    per_slice = int(min(50, max(1, round(0.2 / max(per_step.values())))))
    rep = slices * per_slice * sum(per_step.values())
    if rep > time_left:
        per_slice = max(1, int(per_slice * time_left / rep))
        rep = slices * per_slice * sum(per_step.values())
    return int(min(settings.max_reps, max(1, time_left // rep))), slices, per_slice


def run_workload(name, kind, model, batch, share, settings) -> dict:
    """One throughput row: the check, warm-up and calibration, then interleaved slices."""
    began = time.monotonic()
    xs, ys, source = data(model, batch, BATCHES_ON_DEVICE)
    trainers = frameworks(model, settings)
    check(name, kind, trainers, xs, ys, settings)
    on_device = {k: ([tr.put(x) for x in xs], [tr.put(y) for y in ys])
                 for k, tr in trainers.items()}
    per_step = {}
    for key, tr in trainers.items():
        if not settings.smoke:   # warm-up (kernels compile, pools fill), then a calibration
            tr.run(kind, *on_device[key], 3)
        per_step[key] = tr.run(kind, *on_device[key], 2) / 2
    # plan on 80% of what is left: a calibration of two steps may be optimistic
    reps, slices, per_slice = plan(per_step, 0.8 * (share - (time.monotonic() - began)), settings)
    units = {k: (lambda piece, tr=tr, k=k: tr.run(kind, *on_device[k], per_slice))
             for k, tr in trainers.items()}
    seconds = interleave(units, reps, pieces=slices, warmup=False)
    images = slices * per_slice * batch
    what = "training" if kind == "train" else "inference (eval, no_grad)"
    return {"workload": name, "kind": kind, "metric": f"{what} throughput", "unit": "images/s",
            "higher_is_better": True, "batch": batch,
            "samples": {k: [images / s for s in v] for k, v in seconds.items()},
            "note": f"{source}; {reps} repetition(s) of {slices} x {per_slice} steps"
                    + ("; dropout 0.5 on" if model == "tf-cnn" and kind == "train" else "")}


def run_memory(name, model, batch, settings) -> list[dict]:
    """Peak device memory of the training step (weights, momentum, batches included): what
    the tensors held and what the allocators reserved."""
    on_gpu = settings.torch_device.startswith("cuda")
    lamina.cuda.empty_cache()
    if on_gpu:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    xs, ys, source = data(model, batch, 2)
    trainers = frameworks(model, settings)
    check(name, "train", trainers, xs, ys, settings)
    for tr in trainers.values():
        tr.run("train", [tr.put(x) for x in xs], [tr.put(y) for y in ys], 2)
    mib = 2.0 ** 20
    allocated = {"lamina": [lamina.cuda.max_memory_allocated() / mib],
                 "torch": [torch.cuda.max_memory_allocated() / mib] if on_gpu else []}
    pool = _pool_bytes()
    reserved = {"lamina": [pool / mib] if pool is not None else [],
                "torch": [torch.cuda.max_memory_reserved() / mib] if on_gpu else []}
    common = {"kind": "memory", "unit": "MiB", "higher_is_better": False, "batch": batch}
    return [{"workload": name, "metric": "peak device memory allocated", "samples": allocated,
             "note": f"{source}; the check, then 2 training steps; lamina.cuda."
                     "max_memory_allocated() (CuPy's pool in use, as lamina last sampled it) "
                     "/ torch.cuda.max_memory_allocated()", **common},
            {"workload": f"{name}-reserved", "metric": "peak device memory reserved",
             "samples": reserved, "note": "what the allocators hold after the same steps: "
             "CuPy's pool total (it keeps freed blocks, so this is its high-water mark) / "
             "torch.cuda.max_memory_reserved()", **common}]


def _pool_bytes():
    """Bytes CuPy's default memory pool holds (its high-water mark: it keeps freed blocks),
    or None where lamina's CUDA backend is not CuPy."""
    pool = getattr(getattr(cuda_backend(), "module", None), "get_default_memory_pool", None)
    try:
        return int(pool().total_bytes()) if pool is not None else None
    except Exception:  # noqa: BLE001 - a stand-in module without CuPy's pool
        return None

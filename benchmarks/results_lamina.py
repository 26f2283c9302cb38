"""The lamina half of benchmarks/results.py: a preset trained by ``lamina train`` itself.

``overrides`` is what ``lamina train --preset P --dataset fashion-mnist --seed S [--epochs N]``
passes to :func:`lamina.train.runner.run`; the PyTorch twin (``results_torch``) and the drift
measurement (``results_divergence``) resolve the same configuration from it, so all three
start from the same model, seed, batches and hyper-parameters. ``train_lamina`` records the
per-epoch history, the wall time, lamina's generator state afterwards and how many test images
the saved ``model.safetensors`` assigns to each class.

lamina, NumPy and PyTorch are imported inside the functions: ``results.main`` sets the BLAS
thread variables and puts the checkout on ``sys.path`` before any of them loads.
"""
from __future__ import annotations

import json
import os
import time


def overrides(preset: str, seed: int, epochs: int | None, out: str | None = None) -> dict:
    """What ``lamina train --preset P --dataset fashion-mnist --seed S [--epochs N]`` passes."""
    return {"preset": preset, "dataset": "fashion-mnist", "seed": seed, "epochs": epochs,
            "out": out, "quiet": True}


def train_lamina(preset: str, seed: int, epochs: int | None, out_root: str) -> dict:
    """``lamina train`` itself: its per-epoch history, wall time and, from the saved
    ``model.safetensors``, how many test images the trained model assigns to each class."""
    from lamina.random import get_rng_state
    from lamina.serialization import load
    from lamina.train.fit import evaluate
    from lamina.train.runner import build_run, resolve_config, run

    out = os.path.join(out_root, f"{preset}-seed{seed}")
    started = time.perf_counter()
    history = run(overrides(preset, seed, epochs, out))
    wall = time.perf_counter() - started
    rng_after = json.dumps(get_rng_state()["state"])
    data, model, loss_fn, _ = build_run(resolve_config(overrides(preset, seed, epochs)))
    model.load_state_dict(load(os.path.join(out, "model.safetensors")))
    confusion = evaluate(model, data.test_loader, loss_fn, data.num_classes)["confusion"]
    return {"test_accuracy": [h["test_accuracy"] for h in history],
            "train_loss": [h["train_loss"] for h in history],
            "epoch_seconds": [h["seconds"] for h in history], "wall_seconds": wall,
            "run_dir": out, "rng_state_after": rng_after,
            "predicted_per_class": [int(c) for c in confusion.sum(axis=0)]}

"""Comparing two ``lamina train`` run directories (an uninterrupted run and a resumed one)."""
import json

import numpy as np

import lamina as lm


def metrics(run_dir) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def weights(path) -> dict:
    return {k: v.numpy() for k, v in lm.load(path).items()}


def assert_identical_runs(a, b) -> None:
    """Every epoch's losses and accuracies equal, and the final weights equal bit for bit."""
    for ra, rb in zip(metrics(a), metrics(b), strict=True):
        for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
            assert ra[key] == rb[key], (ra["epoch"], key)
    wa, wb = weights(a / "model.safetensors"), weights(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)

"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's state dict, the optimiser's and scheduler's state, the global
random-number generator's state, the finished epoch and the metrics history, in one
safetensors file written atomically, so a run killed at any moment leaves the previous
complete checkpoint readable.
"""
from __future__ import annotations

import os

from ..random import get_rng_state, set_rng_state

__all__ = ["save_checkpoint", "load_checkpoint", "restore"]


def save_checkpoint(path: str | os.PathLike, model, optimizer, epoch: int, history: list[dict],
                    scheduler=None) -> None:
    """Write the training state after ``epoch`` to ``path`` (atomically)."""
    from ..serialization import save

    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "rng": get_rng_state(),
        "history": [{k: v for k, v in r.items() if k != "confusion"} for r in history],
    }
    save(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    from ..serialization import load

    return load(path)


def restore(state: dict, model, optimizer, scheduler=None) -> tuple[int, list[dict]]:
    """Put a loaded checkpoint back into ``model``, ``optimizer`` and the global generator;
    returns ``(finished_epoch, history)``."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    return int(state["epoch"]), list(state["history"])

"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's state dict, the optimiser's and scheduler's state, the global
random-number generator's state, the finished epoch and the metrics history, in one
safetensors file written atomically, so a run killed at any moment leaves the previous
complete checkpoint readable.

A run stopped by a scheduler (SIGTERM) between two steps of an epoch writes a checkpoint of
that moment: ``epoch`` and ``history`` are still those of the last finished epoch, and
``progress`` (otherwise None) holds the :class:`~lamina.train.interrupt.EpochProgress` into
the next one, which :func:`partial_epoch` returns for :func:`lamina.train.fit` to continue from.
"""
from __future__ import annotations

import os

from ..errors import FileFormatError
from ..random import get_rng_state, set_rng_state
from ..serialization import load, save
from .interrupt import EpochProgress

__all__ = ["save_checkpoint", "load_checkpoint", "restore", "partial_epoch"]


def save_checkpoint(path: str | os.PathLike, model, optimizer, epoch: int, history: list[dict],
                    scheduler=None, progress: EpochProgress | None = None) -> None:
    """Write the training state after ``epoch`` to ``path`` (atomically); ``progress``: how
    far into epoch ``epoch + 1`` the model, optimiser and generator states are."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "rng": get_rng_state(),
        "history": [{k: v for k, v in r.items() if k != "confusion"} for r in history],
        "progress": progress.state_dict() if progress is not None else None,
    }
    save(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`."""
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


def partial_epoch(state: dict, path: str = "the checkpoint") -> EpochProgress | None:
    """The progress into the epoch after ``state['epoch']`` of a checkpoint written between
    two steps, or None for one written at the end of an epoch (or by an older lamina).
    A malformed entry raises :class:`~lamina.errors.FileFormatError` naming ``path``."""
    progress = state.get("progress")
    if progress is None:
        return None
    try:
        partial = EpochProgress.from_state(progress)
        consistent = partial.epoch == int(state["epoch"]) + 1 and partial.steps >= 0
    except (KeyError, TypeError, ValueError):
        consistent = False
    if not consistent:
        raise FileFormatError(f"{path}: its 'progress' entry is malformed; expected the steps "
                              "done in the epoch after its 'epoch', as lamina writes them")
    return partial

"""What a training run writes while it trains: the :class:`RunFiles` callback, which after
every epoch saves ``model.safetensors``, ``checkpoint.safetensors`` and ``metrics.jsonl``
(in that order, each atomically, so that the metrics never list an epoch the checkpoint
does not hold), prints the epoch's line and draws the plots; and the autoencoder previews
it draws, a few test images (:func:`preview_images`) over the model's reconstructions of
them (:func:`reconstruct`).
"""
from __future__ import annotations

import json
import os
import time

from ..atomic import atomic_write_text
from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..serialization import save
from . import plots
from .checkpoint import save_checkpoint
from .fit import Callback
from .placement import model_device

__all__ = ["RunFiles", "reconstruct", "preview_images", "say"]


def say(message: str, quiet: bool = False) -> None:
    """Print ``message`` and flush, unless ``quiet``."""
    if not quiet:
        print(message, flush=True)


class RunFiles(Callback):
    """Writes metrics, weights, the checkpoint and the plots after every epoch.

    ``task='autoencode'`` prints reconstruction losses and draws ``reconstructions.png`` from
    ``preview``, a few test images (N, ...) as a NumPy array, instead of the confusion matrix.
    A classification run with a ``test_loader`` also draws ``samples.png``: misclassified
    test images with their true and predicted classes.
    """

    def __init__(self, out: str, model, optimizer, scheduler=None, quiet: bool = False,
                 class_names=None, task: str = "classify", preview=None, test_loader=None):
        self.out, self.model, self.optimizer, self.scheduler = out, model, optimizer, scheduler
        self.quiet = quiet
        self.class_names = class_names
        self.task = task
        self.preview = preview
        self.test_loader = test_loader
        self.last_confusion = None
        self.last_plot = time.monotonic()

    PLOT_EVERY_SECONDS = 30.0  # plotting takes ~0.3 s: on short epochs, plot at the end only

    def plot(self, history: list[dict]) -> None:
        if not plots.have_matplotlib():
            return
        plots.plot_curves(history, os.path.join(self.out, "curves.png"))
        if self.last_confusion is not None:
            plots.plot_confusion(self.last_confusion, os.path.join(self.out, "confusion.png"),
                           self.class_names)
        if self.task == "classify" and self.test_loader is not None:
            plots.plot_samples(self.model, self.test_loader, os.path.join(self.out, "samples.png"),
                         self.class_names)
        if self.task == "autoencode" and self.preview is not None:
            plots.plot_reconstructions(self.preview, reconstruct(self.model, self.preview),
                                 os.path.join(self.out, "reconstructions.png"))
        self.last_plot = time.monotonic()

    def on_train_end(self, history: list[dict]) -> None:
        self.plot(history)

    def on_train_stopped(self, progress, history: list[dict]) -> None:
        # Stopped between two steps: save that step. (At an epoch's start the checkpoint of
        # the epoch before is already the state reached.)
        if progress.steps:
            save_checkpoint(os.path.join(self.out, "checkpoint.safetensors"), self.model,
                            self.optimizer, progress.epoch - 1, history, self.scheduler,
                            progress=progress)

    def on_epoch_end(self, record: dict, history: list[dict]) -> None:
        save(self.model.state_dict(), os.path.join(self.out, "model.safetensors"))
        save_checkpoint(os.path.join(self.out, "checkpoint.safetensors"), self.model,
                        self.optimizer, record["epoch"], history, self.scheduler)
        # metrics.jsonl last: it never lists an epoch the checkpoint does not hold (a full
        # disk at the checkpoint leaves both at the previous epoch).
        lines = [json.dumps({k: v for k, v in r.items() if k != "confusion"}) for r in history]
        atomic_write_text(os.path.join(self.out, "metrics.jsonl"), "\n".join(lines) + "\n")
        self.last_confusion = record.get("confusion")
        if time.monotonic() - self.last_plot > self.PLOT_EVERY_SECONDS:
            self.plot(history)
        if self.task == "autoencode":
            say(f"epoch {record['epoch']:3d}  train reconstruction loss {record['train_loss']:.4f}"
                f"  |  test reconstruction loss {record['test_loss']:.4f}  "
                f"({record['seconds']:.1f}s)", self.quiet)
            return
        say(f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
            f"acc {record['train_accuracy']:.4f}  |  test loss {record['test_loss']:.4f}  "
            f"acc {record['test_accuracy']:.4f}  ({record['seconds']:.1f}s)", self.quiet)


def reconstruct(model, images):
    """``model``'s output for the NumPy batch ``images`` (eval mode, no graph), as an array."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(tensor(images, device=model_device(model))).cpu().numpy()
    finally:
        model.train(was_training)


def preview_images(dataset, count: int = 8):
    """The first ``count`` inputs of ``dataset`` as one NumPy array (N, ...)."""
    import numpy as np

    return np.stack([dataset[i][0].numpy() for i in range(min(count, len(dataset)))])

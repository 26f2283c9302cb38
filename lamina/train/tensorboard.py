"""``lamina train --tensorboard [DIR]``: a run's curves and weights as TensorBoard event files.

After every epoch, at step = the epoch number: each number in the epoch's record as a scalar
(``train_loss`` as ``loss/train``, ``test_accuracy`` as ``accuracy/test``, ``lr``,
``seconds``), and the distribution of every parameter (``parameters/NAME``) and of its last
gradient (``gradients/NAME``) as histograms; at the start, the run's configuration as text.
The files go to DIR, by default ``tensorboard/`` in the run's directory, so that
``tensorboard --logdir runs`` shows every run side by side. A resumed run appends to the same
directory and tells TensorBoard to drop what an interrupted run had logged after the epoch it
resumes from. Writing needs the ``tensorboard`` package (``pip install 'lamina[tensorboard]'``).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os

from ..errors import LaminaError
from ..utils.tensorboard import SummaryWriter
from .fit import Callback

__all__ = ["TensorBoard", "tensorboard_callbacks", "scalar_tag"]


def scalar_tag(key: str) -> str:
    """The TensorBoard tag of a record's key: ``train_loss`` -> ``loss/train`` (the split in
    front groups the curves of one quantity on one chart); other keys as they are."""
    for split in ("train", "test", "val"):
        if key.startswith(split + "_"):
            return f"{key[len(split) + 1:]}/{split}"
    return key


class TensorBoard(Callback):
    """Writes each epoch's record and the model's parameters to ``log_dir`` (see the module).

    ``model``: the network whose parameters (and gradients) are drawn as histograms (None:
    scalars only); ``config``: a dict written once as text.
    """

    def __init__(self, log_dir: str, model=None, config: dict | None = None):
        self.log_dir, self.model, self.config = log_dir, model, config
        self.writer = None

    def on_train_begin(self, history: list[dict]) -> None:
        done = len(history)  # epochs already trained (resumed): later events are stale
        self.writer = SummaryWriter(self.log_dir, purge_step=done + 1 if done else None)
        if self.config is not None and not done:
            text = json.dumps(self.config, indent=2, default=str)
            code = "\n".join("    " + line for line in text.splitlines())  # a Markdown code block
            self.writer.add_text("config", code, 0)

    def on_epoch_end(self, record: dict, history: list[dict]) -> None:
        step = int(record["epoch"])
        for key, value in record.items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(scalar_tag(key), value, step)
        if self.model is not None:
            for name, parameter in self.model.named_parameters():
                self.writer.add_histogram(f"parameters/{name}", parameter, step)
                if parameter.grad is not None:
                    self.writer.add_histogram(f"gradients/{name}", parameter.grad, step)
        self.writer.flush()

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def on_train_end(self, history: list[dict]) -> None:
        self._close()

    def on_train_stopped(self, progress, history: list[dict]) -> None:
        self._close()


def tensorboard_callbacks(config: dict, model) -> list:
    """``[TensorBoard(...)]`` when ``config['tensorboard']`` is set (True: the run directory's
    ``tensorboard/``; a path: that directory), else ``[]``. Without the tensorboard package,
    a one-line :class:`~lamina.errors.LaminaError` naming the extra to install."""
    target = config.get("tensorboard")
    if not target:
        return []
    if importlib.util.find_spec("tensorboard") is None:
        raise LaminaError("--tensorboard needs the tensorboard package; install it with: "
                          "pip install 'lamina[tensorboard]' (or pip install tensorboard)")
    log_dir = os.path.join(config["out"], "tensorboard") if target is True else str(target)
    return [TensorBoard(log_dir, model, config)]

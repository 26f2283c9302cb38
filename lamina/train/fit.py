"""The training loop: minibatch stochastic gradient descent, epoch by epoch.

Each step is the lecture's recipe (Grohs, Introduction to (Convolutional) Neural Networks §5): take a minibatch, compute the network's
output and the loss, backpropagate to get the gradient of the loss with respect to every
parameter, and let the optimiser move the parameters against it. After each epoch the model
is evaluated on held-out data and the callbacks see the epoch's record.

Two tasks: ``'classify'`` (the target of a batch (x, y) is the label y; the records hold
accuracies) and ``'autoencode'`` (the target is the input x itself, the loss is the
reconstruction error L(g(f(x)), x) and the records hold no accuracy: the labels are not used).

Stopping and resuming within an epoch: given a :class:`~lamina.train.interrupt.StopRequest`
(which ``lamina train`` sets on SIGTERM), the loop looks at it between two steps; once set,
the callbacks' ``on_train_stopped`` sees how far the epoch got (an
:class:`~lamina.train.interrupt.EpochProgress`) and :class:`TrainingStopped` is raised.
Given that progress back (``partial_epoch``), with the model, optimiser and global generator
restored, the loop continues at the next step exactly as if it had never stopped.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..compiler import compile as compile_step
from ..distributed.strategy import Strategy, strategy_of
from ..errors import LaminaError, LaminaValueError
from ..random import get_rng_state, set_rng_state
from .interrupt import EpochProgress, TrainingStopped
from .metrics import RunningMean, accuracy, confusion_matrix, predictions
from .placement import model_device, to_model_device
from .presets import TASKS
from .progress import progress

__all__ = ["fit", "evaluate", "Callback", "TrainingDiverged", "TrainingStopped"]


def _check_task(task: str) -> bool:
    """True for 'autoencode', False for 'classify'; raises for anything else."""
    if task not in TASKS:
        raise LaminaValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return task == "autoencode"


class TrainingDiverged(LaminaError, FloatingPointError):
    """The loss became NaN or infinite; the message names the epoch and the step."""


class Callback:
    """Hooks the training loop calls; override what you need."""

    def on_train_begin(self, history: list[dict]) -> None:
        pass

    def on_epoch_end(self, record: dict, history: list[dict]) -> None:
        pass

    def on_train_end(self, history: list[dict]) -> None:
        pass

    def on_train_stopped(self, progress: EpochProgress, history: list[dict]) -> None:
        """Training stops at a safe point (a stop was requested) after ``progress``."""


def evaluate(model, loader, loss_fn: Callable, num_classes: int | None = None,
             task: str = "classify") -> dict:
    """Mean loss, accuracy and (with ``num_classes``) the confusion matrix over ``loader``.

    ``task='autoencode'``: the mean reconstruction loss ``loss_fn(model(x), x)`` only
    (``accuracy`` and ``confusion`` are None)."""
    autoencode = _check_task(task)
    if autoencode:
        num_classes = None
    was_training = model.training
    model.eval()
    loss_mean, correct, seen = RunningMean(), 0, 0
    matrix = np.zeros((num_classes, num_classes), np.int64) if num_classes else None
    device = model_device(model)
    with no_grad():
        for x, y in loader:
            n = len(y)
            if n == 0:  # a process's empty share of a short batch
                continue
            x, y = to_model_device((x, y), device)
            out = model(x)
            loss_mean.add(loss_fn(out, x if autoencode else y).item(), n)
            if autoencode:
                seen += n
                continue
            predicted = predictions(out)
            targets = y.cpu().numpy()
            correct += int(np.sum(predicted == targets))
            seen += n
            if matrix is not None:
                matrix += confusion_matrix(predicted, targets, num_classes)
    model.train(was_training)
    # the counts of every process's share (one process: its own)
    flat = [] if matrix is None else matrix.ravel()
    total = strategy_of(model).sum(np.concatenate([[loss_mean.total, correct, seen], flat]))
    loss_mean.total, correct, seen = float(total[0]), int(total[1]), int(total[2])
    loss_mean.count = seen
    if matrix is not None:
        matrix = total[3:].astype(np.int64).reshape(matrix.shape)
    if autoencode:
        return {"loss": loss_mean.mean, "accuracy": None, "confusion": None}
    return {"loss": loss_mean.mean, "accuracy": correct / seen if seen else float("nan"),
            "confusion": matrix}


def _progress(epoch: int, steps: int, loss_mean: RunningMean, acc_mean: RunningMean,
              started: float) -> EpochProgress:
    return EpochProgress(epoch, steps, loss_mean.total, loss_mean.count, acc_mean.total,
                         acc_mean.count, time.perf_counter() - started)


def _continue_epoch(batches, partial: EpochProgress, loss_mean: RunningMean,
                    acc_mean: RunningMean, sums: bool = True) -> int:
    """Draw and drop the batches of the ``partial.steps`` steps already done (the loader's own
    generators advance as they did; the global one is left as restored) and, with ``sums``,
    put back the epoch's running sums; returns the number of steps done."""
    state = get_rng_state()
    for done in range(partial.steps):
        if next(batches, None) is None:
            raise LaminaValueError(f"the checkpoint stopped at epoch {partial.epoch}, step "
                                   f"{partial.steps}, but the training data now has only "
                                   f"{done} batches per epoch")
    set_rng_state(state)
    if sums:
        loss_mean.total, loss_mean.count = partial.loss_total, partial.loss_count
        acc_mean.total, acc_mean.count = partial.accuracy_total, partial.accuracy_count
    return partial.steps


def _stop_if_requested(stop, strategy: Strategy, callbacks: list, history: list[dict],
                       where: Callable, bar=None) -> None:
    """At a safe point: if ``stop`` is set (on any process: all then stop at this same
    step), let the callbacks save ``where()`` and raise :class:`TrainingStopped`."""
    if stop is None:
        return
    signum = stop.signum or 0
    total = strategy.sum([signum, 1 if signum else 0])  # so that all processes agree
    signum = int(round(total[0] / total[1])) if total[1] else 0
    if not signum:
        return
    if bar is not None:
        bar.close()
    reached = where()
    # the epoch's sums so far over every process's share
    sums = strategy.sum([reached.loss_total, reached.loss_count, reached.accuracy_total,
                         reached.accuracy_count])
    reached.loss_total, reached.accuracy_total = float(sums[0]), float(sums[2])
    reached.loss_count, reached.accuracy_count = int(sums[1]), int(sums[3])
    for cb in callbacks:
        hook = getattr(cb, "on_train_stopped", None)
        if hook is not None:
            hook(reached, history)
    strategy.barrier()  # the others wait until rank 0 has written the checkpoint
    raise TrainingStopped(signum, reached)


def _forward_backward(model, loss_fn: Callable) -> Callable:
    """One step's forward and backward pass: ``step(x, target) -> (loss, output)``, the
    gradients accumulated into the parameters' ``.grad``."""

    def step(x, target):
        out = model(x)
        loss = loss_fn(out, target)
        loss.backward()
        return loss, out

    return step


def fit(model, train_loader, val_loader, loss_fn: Callable, optimizer, epochs: int,
        scheduler=None, callbacks: Iterable[Callback] = (), start_epoch: int = 0,
        history: list[dict] | None = None, num_classes: int | None = None,
        quiet: bool = False, compile: bool = False, task: str = "classify", stop=None,
        partial_epoch: EpochProgress | None = None) -> list[dict]:
    """Train ``model`` for epochs ``start_epoch + 1 .. epochs`` and return the history.

    ``history`` holds one dict per epoch: ``epoch``, ``train_loss``, ``train_accuracy``,
    ``test_loss``, ``test_accuracy`` (on ``val_loader``), ``lr`` and ``seconds``; the last
    record also carries the test confusion matrix under ``confusion`` (not serialised).
    ``task='autoencode'`` trains ``model`` to reconstruct its input, ``loss_fn(model(x), x)``:
    its records have no accuracies, ``train_loss`` and ``test_loss`` being reconstruction
    losses.
    A NaN or infinite loss raises :class:`TrainingDiverged` naming the epoch and step,
    before the optimiser applies the bad gradient. ``compile=True`` runs each step's forward
    and backward through :func:`lamina.compile` (recorded, verified against the eager step,
    then replayed where it can be; the results are bitwise those of the eager step); the
    default is the eager step.

    ``stop``: a :class:`~lamina.train.interrupt.StopRequest` looked at between steps (see the
    module's docstring); ``partial_epoch``: the progress into epoch ``start_epoch + 1`` that
    a stopped run had reached, to continue from its next step (the loader's first
    ``partial_epoch.steps`` batches of that epoch are drawn and dropped, so that its
    augmentation draws are those of the uninterrupted run).

    Data-parallel training: given a :class:`lamina.distributed.DistributedDataParallel` model
    and :class:`lamina.distributed.ShardedLoader` loaders, each step uses the mean gradient of
    the global batch and the records hold statistics over every rank's share.
    """
    autoencode = _check_task(task)
    history = list(history or [])
    callbacks = list(callbacks)
    strategy = strategy_of(model)  # one process, or a data-parallel wrapper's
    train_step = _forward_backward(model, loss_fn)
    device = model_device(model)  # each batch is copied there as its step begins
    if compile:
        train_step = compile_step(train_step)
    for cb in callbacks:
        cb.on_train_begin(history)
    for epoch in range(start_epoch + 1, epochs + 1):
        started = time.perf_counter()
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        model.train()
        loss_mean, acc_mean = RunningMean(), RunningMean()
        batches, done = iter(train_loader), 0
        if partial_epoch is not None and partial_epoch.epoch == epoch:
            # the saved sums are over every process; rank 0 alone adds them back
            done = _continue_epoch(batches, partial_epoch, loss_mean, acc_mean,
                                   sums=strategy.rank == 0)
            started -= partial_epoch.seconds
        _stop_if_requested(stop, strategy, callbacks, history, lambda: _progress(
            epoch, done, loss_mean, acc_mean, started))
        bar = progress(batches, total=len(train_loader), desc=f"epoch {epoch}/{epochs}",
                       quiet=quiet)
        for step, (x, y) in enumerate(bar, done + 1):
            optimizer.zero_grad()
            n = len(y)
            if n:  # a process's share of a short last batch may be empty
                x, y = to_model_device((x, y), device)
                # An autoencoder's target is its input: a detached alias, so that the
                # recorded step sees two placeholders as it does for (x, y).
                target = x.detach() if autoencode else y
                with np.errstate(over="ignore", invalid="ignore"):  # reported just below
                    loss, out = train_step(x, target)
                value, out = loss.item(), out._data
                if not math.isfinite(value):
                    bar.close()
                    raise TrainingDiverged(
                        f"the loss became {value} at epoch {epoch}, step {step}; lower the "
                        "learning rate or check the input data for NaN or infinite values")
                loss_mean.add(value, n)
                if not autoencode:
                    acc_mean.add(accuracy(out, y), n)
            strategy.after_backward(n)  # the mean gradient of the global batch
            optimizer.step()
            if stop is not None:  # a safe point: the step is complete
                _stop_if_requested(stop, strategy, callbacks, history, lambda: _progress(
                    epoch, step, loss_mean, acc_mean, started), bar)
            if step % 50 == 0 and autoencode:
                bar.set_postfix(loss=f"{loss_mean.mean:.4f}")
            elif step % 50 == 0:
                bar.set_postfix(loss=f"{loss_mean.mean:.4f}", acc=f"{acc_mean.mean:.3f}")
        bar.close()
        # the epoch's statistics over every process's share
        total = strategy.sum([loss_mean.total, acc_mean.total, loss_mean.count])
        loss_mean.total, acc_mean.total = float(total[0]), float(total[1])
        loss_mean.count = acc_mean.count = int(total[2])
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        result = evaluate(model, val_loader, loss_fn, num_classes, task=task)
        if autoencode:
            record = {"epoch": epoch, "train_loss": loss_mean.mean, "test_loss": result["loss"],
                      "lr": lr, "seconds": time.perf_counter() - started}
        else:
            record = {"epoch": epoch, "train_loss": loss_mean.mean,
                      "train_accuracy": acc_mean.mean, "test_loss": result["loss"],
                      "test_accuracy": result["accuracy"], "lr": lr,
                      "seconds": time.perf_counter() - started}
        history.append(record)
        for cb in callbacks:
            cb.on_epoch_end(dict(record, confusion=result["confusion"]), history)
    for cb in callbacks:
        cb.on_train_end(history)
    return history

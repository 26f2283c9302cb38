"""One training run as the command line sees it: resolve the configuration, load the data,
build the model, optimiser and loss, train, and write the run's files.

Every run writes to its output directory: ``config.json`` (the resolved configuration),
``metrics.jsonl`` (one JSON object per epoch), ``model.safetensors``,
``checkpoint.safetensors`` (weights, optimiser state, RNG state, epoch, history),
``curves.png`` and, for classification, ``confusion.png``; an autoencoder run (``--task
autoencode``) writes ``reconstructions.png`` (test images over their reconstructions)
instead of the confusion matrix, and its metrics are reconstruction losses. Every file is
written atomically. The configuration is resolved and checked in
:mod:`lamina.train.run_config`; the files are written by
:class:`~lamina.train.run_writer.RunFiles`.

Under a scheduler: while it trains, a run holds ``lamina.lock`` in its directory (a second
run into the same directory refuses; :mod:`lamina.train.lock`) and removes the temporary
files that writes killed midway left there; SIGTERM stops it between two steps with a
checkpoint of that step and exit status 143 (:mod:`lamina.train.interrupt`), and ``--resume``
continues from that step. ``config.json`` records the BLAS thread count (``blas_threads``),
and ``--resume`` warns when it differs (:mod:`lamina.train.threads`).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

from ..atomic import atomic_write_text, remove_temporaries
from ..models.spec import default_autoencoder_sizes
from ..random import manual_seed
from .assembly import make_data, make_loss, make_model, make_optimizer
from .checkpoint import partial_epoch, restore
from .fit import fit
from .interrupt import TrainingStopped, TrainingTerminated, signal_name, stop_on_signals
from .lock import check_unlocked, run_lock
from .placement import resolve_device
from .presets import DATASETS, LOSSES, OPTIMIZERS, TASK_LOSSES, TASKS, generic_model
from .run_config import default_out, model_is_default, resolve_config, resume_config
from .run_files import finished_history, read_checkpoint
from .run_writer import RunFiles, preview_images, reconstruct, say
from .tensorboard import tensorboard_callbacks
from .threads import blas_threads

__all__ = ["resolve_config", "model_is_default", "run", "build_run", "reconstruct",
           "preview_images", "OPTIMIZERS", "LOSSES", "DATASETS", "TASKS", "TASK_LOSSES"]


def build_run(config: dict):
    """Data loaders, model, loss function and optimiser for ``config`` (seeded).

    A plain ``autoencoder`` model spec is replaced in ``config`` by the sizes it stands for
    on this data (e.g. ``autoencoder:64,32,16`` for the 8x8 digits), and a model of None (an
    ``idx:`` or ``folder:`` data set's default) by :func:`~lamina.train.presets.generic_model`,
    so that the run's config.json names the network exactly."""
    manual_seed(int(config["seed"]))
    data = make_data(config)
    if config["model"] is None:  # idx:DIR, folder:DIR: a classifier sized to the data
        config["model"] = generic_model(data.in_shape, data.num_classes)
    if config["model"].strip().lower() == "autoencoder":
        sizes = default_autoencoder_sizes(data.in_shape)
        config["model"] = "autoencoder:" + ",".join(map(str, sizes))
    model = make_model(config, data).to(config["device"])  # built on the host, then moved
    optimizer = make_optimizer(config, model)
    loss_fn = make_loss(config, data.num_classes)
    return data, model, loss_fn, optimizer


def run(overrides: dict | None = None, resume: str | None = None, parallel=None) -> list[dict]:
    """Train as ``lamina train`` does; returns the metrics history.

    ``parallel`` trains one model over several processes (``mpiexec -n N lamina train``): an
    object with ``is_main``, ``world_size``, ``wrap_model(model)`` and ``shard_loader(loader)``
    (:class:`lamina.distributed.DataParallelTraining`, which the command line passes in).
    Every rank builds and, with ``resume``, restores the same state; only the main rank
    prints and writes the run's files (and holds the directory's lock). None trains in this
    process alone.

    SIGTERM (in the main thread) stops training after the current step: the checkpoint of
    that step is written, a one-line message goes to stderr and :class:`TrainingTerminated`
    (a ``SystemExit`` with status 143) is raised; data-parallel ranks agree at every step,
    so that all stop at the same one. Another live run holding the directory raises
    :class:`~lamina.train.lock.RunDirectoryLocked`.
    """
    if resume is not None:
        config = resume_config(resume, overrides)
    else:
        config = resolve_config(overrides or {})
        config["out"] = config["out"] or default_out(config)
        config["model_is_default"] = model_is_default(overrides or {})
    config["device"] = resolve_device(config.get("device"))
    out = config["out"]
    main_rank = parallel is None or parallel.is_main  # data-parallel: rank 0 prints and writes
    quiet = bool(config["quiet"]) or not main_rank
    if main_rank:
        check_unlocked(out)  # a second run into a busy directory refuses before loading data
    if resume is not None:
        finished = finished_history(config, resume, main_rank)
        if finished is not None:
            return finished
    _record_threads(config, resume, main_rank)
    with stop_on_signals(die_on_second=parallel is not None) as stop:
        try:
            return _train(config, resume, parallel, main_rank, quiet, stop)
        except TrainingStopped as stopped:
            if main_rank:
                _warn(f"stopped by {signal_name(stopped.signum)} {stopped.progress.where()}; "
                      f"continue with: lamina train --resume {out}")
            raise TrainingTerminated(stopped.signum) from None
        except TrainingTerminated as terminated:  # a second signal, while stopping
            if main_rank:
                _warn(f"stopped at once by a second {signal_name(terminated.signum)}; continue "
                      f"from the last checkpoint with: lamina train --resume {out}")
            raise


# Entries of the configuration that describe this invocation, not the run: not written to
# config.json.
_NOT_RECORDED = ("download", "model_is_default")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _first_line(config: dict, data, parallel) -> str:
    """What the run trains, on what and for how long: the first line it prints."""
    model = config["model"]
    if config.get("model_is_default"):
        kind = "autoencoder" if config["task"] == "autoencode" else "model"
        sized = ("sized to this data" if ":" in config["dataset"]
                 else f"for {config['dataset']}")
        model += f" (the default {kind} {sized}; --model to choose another)"
    processes = f" on {parallel.world_size} processes" if parallel is not None else ""
    if config.get("device", "cpu") != "cpu":
        processes += f" on {config['device']}"
    return (f"training {model} on {config['dataset']} ({data.train_size} train / "
            f"{data.test_size} test images) for {_plural(int(config['epochs']), 'epoch')}"
            f"{processes} -> {config['out']}")


def _warn(message: str) -> None:
    sys.stdout.flush()
    print(f"lamina: {message}", file=sys.stderr, flush=True)


def _record_threads(config: dict, resume: str | None, main_rank: bool) -> None:
    """Record the BLAS thread count in ``config``; on resume keep the recorded one and warn
    (one line) when this process has another."""
    threads = blas_threads()
    recorded = config.setdefault("blas_threads", threads)
    if resume is not None and main_rank and recorded != threads:
        _warn(f"warning: {resume} was trained with {recorded} BLAS threads and resumes with "
              f"{threads}; matrix products may round differently, so the result can differ "
              f"from an uninterrupted run (set OMP_NUM_THREADS={recorded} "
              f"OPENBLAS_NUM_THREADS={recorded} to match)")


def _train(config: dict, resume: str | None, parallel, main_rank: bool, quiet: bool,
           stop) -> list[dict]:
    out = config["out"]
    data, model, loss_fn, optimizer = build_run(config)  # bad names fail before any file exists
    config.update(in_shape=list(data.in_shape), num_classes=data.num_classes,
                  class_names=data.class_names)
    with run_lock(out) if main_rank else contextlib.nullcontext():
        if main_rank:
            remove_temporaries(out)  # left by a run killed while writing; the lock is ours
        start_epoch, history, partial, resumed = 0, [], None, None
        if resume is not None:
            checkpoint = os.path.join(resume, "checkpoint.safetensors")
            if os.path.isfile(checkpoint):
                state = read_checkpoint(checkpoint, model, optimizer, config,
                                        os.path.join(resume, "config.json"))
                start_epoch, history = restore(state, model, optimizer)
                partial = partial_epoch(state, checkpoint)
                resumed = partial.where() if partial else f"after epoch {start_epoch}"
        if "momentum" in optimizer.param_groups[0]:
            # the momentum in use, which a checkpoint restores (runs recorded 0.9 for plain
            # SGD before --momentum existed, and trained with none)
            config["momentum"] = float(optimizer.param_groups[0]["momentum"])
        if main_rank:
            recorded = {k: v for k, v in config.items() if k not in _NOT_RECORDED}
            atomic_write_text(os.path.join(out, "config.json"),
                              json.dumps(recorded, indent=2) + "\n")
        if resumed is not None:
            say(f"resuming {resume} {resumed}", quiet)
        say(_first_line(config, data, parallel), quiet)
        for detail in data.details:
            say(detail, quiet)
        if main_rank:
            for note in data.notes:
                say(note)  # shown even with --quiet: the run differs from what was asked
        trained, train_loader, test_loader = model, data.train_loader, data.test_loader
        if parallel is not None:  # after restore: the wrapper broadcasts rank 0's weights
            trained = parallel.wrap_model(model)
            train_loader = parallel.shard_loader(train_loader)
            test_loader = parallel.shard_loader(test_loader)
        task = config["task"]
        callbacks = []
        if main_rank:
            preview = preview_images(data.test_loader.dataset) if task == "autoencode" else None
            callbacks.append(RunFiles(out, model, optimizer, quiet=quiet,
                                      class_names=data.class_names, task=task, preview=preview,
                                      test_loader=data.test_loader))
            callbacks += tensorboard_callbacks(config, model)  # --tensorboard
        history = fit(trained, train_loader, test_loader, loss_fn, optimizer,
                      int(config["epochs"]), callbacks=callbacks, start_epoch=start_epoch,
                      history=history, num_classes=data.num_classes, quiet=quiet, task=task,
                      stop=stop, partial_epoch=partial, compile=bool(config.get("compile")))
    if history and main_rank:
        if task == "autoencode":
            print(f"test reconstruction loss: {history[-1]['test_loss']:.4f}")
        else:
            print(f"test accuracy: {history[-1]['test_accuracy']:.4f}")
    return history

"""One training run as the command line sees it: resolve the configuration, load the data,
build the model, optimiser and loss, train, and write the run's files.

Every run writes to its output directory: ``config.json`` (the resolved configuration),
``metrics.jsonl`` (one JSON object per epoch), ``model.safetensors``,
``checkpoint.safetensors`` (weights, optimiser state, RNG state, epoch, history),
``curves.png`` and, for classification, ``confusion.png``; an autoencoder run (``--task
autoencode``) writes ``reconstructions.png`` (test images over their reconstructions)
instead of the confusion matrix, and its metrics are reconstruction losses. Every file is
written atomically.

Under a scheduler: while it trains, a run holds ``lamina.lock`` in its directory (a second
run into the same directory refuses; :mod:`lamina.train.lock`) and removes the temporary
files that writes killed midway left there; SIGTERM stops it between two steps with a
checkpoint of that step and exit status 143 (:mod:`lamina.train.interrupt`), and ``--resume``
continues from that step. ``config.json`` records the BLAS thread count (``blas_threads``),
and ``--resume`` warns when it differs (:mod:`lamina.train.threads`).
"""
from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import sys
import time

from ..atomic import atomic_write_text, remove_temporaries
from ..errors import LaminaValueError
from .assembly import dataset_error, normalise_dataset, resolve_momentum
from .checkpoint import partial_epoch, restore, save_checkpoint
from .fit import Callback, fit
from .interrupt import TrainingStopped, TrainingTerminated, signal_name, stop_on_signals
from .lock import check_unlocked, run_lock
from .presets import (DATASET_DEFAULTS, DATASETS, DEFAULTS, GENERIC_DEFAULTS, LOSSES, OPTIMIZERS,
                      PRESETS, TASK_DEFAULTS, TASK_LOSSES, TASKS, generic_model)
from .placement import resolve_device
from .run_files import finished_history, read_checkpoint, read_config
from .tensorboard import tensorboard_callbacks

__all__ = ["resolve_config", "model_is_default", "run", "build_run", "reconstruct",
           "preview_images", "OPTIMIZERS", "LOSSES", "DATASETS", "TASKS", "TASK_LOSSES"]



def resolve_config(overrides: dict) -> dict:
    """Defaults, then the preset's values, then every override that is not None; then, for
    what neither the preset nor an override sets: with ``task='autoencode'`` the values of
    ``TASK_DEFAULTS['autoencode']``, else the data set's (``DATASET_DEFAULTS``: model,
    epochs, learning rate); and the optimiser's momentum (``MOMENTUM_DEFAULTS``).

    The model of an ``idx:DIR`` or ``folder:DIR`` data set stays None here: it is chosen
    when the data is read (:func:`build_run`). A data set path is made absolute, so that
    ``lamina eval`` finds it from any directory."""
    config = dict(DEFAULTS)
    chosen = {key for key, value in overrides.items() if value is not None}
    preset = overrides.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise LaminaValueError(f"unknown preset {preset!r}; known presets: {', '.join(PRESETS)}")
        config.update(PRESETS[preset]["config"])
        config["preset"] = preset
        chosen |= set(PRESETS[preset]["config"])
    for key, value in overrides.items():
        if value is not None:
            config[key] = value
    config["dataset"] = normalise_dataset(config["dataset"])
    fallback = DATASET_DEFAULTS.get(config["dataset"], GENERIC_DEFAULTS)
    fallback = {**fallback, **TASK_DEFAULTS.get(config["task"], {})}
    for key, value in fallback.items():
        if key not in chosen:
            config[key] = value
    resolve_momentum(config, given="momentum" in overrides and overrides["momentum"] is not None)
    _validate(config)
    return config


def model_is_default(overrides: dict) -> bool:
    """True when neither ``overrides`` nor their preset names the model."""
    preset = PRESETS.get(overrides.get("preset") or "", {}).get("config", {})
    return overrides.get("model") is None and "model" not in preset


def _check_task(config: dict) -> None:
    """The model spec and the loss must suit the task (one-line errors naming both)."""
    from ..models.spec import is_autoencoder_spec

    task, model, loss = config["task"], config["model"], config["loss"]
    if task == "classify" and is_autoencoder_spec(model):
        raise LaminaValueError(f"model {model!r} is an autoencoder but --task is classify; use "
                               "--task autoencode, or a classifier spec such as mlp:64,64,10")
    if task == "autoencode" and not is_autoencoder_spec(model):
        raise LaminaValueError(f"model {model!r} is a classifier but --task is autoencode; use an "
                               "autoencoder spec such as autoencoder:784,128,32 or "
                               "conv-autoencoder, or --task classify")
    if loss not in TASK_LOSSES[task]:
        raise LaminaValueError(f"--loss {loss} does not suit --task {task}; expected one of "
                               f"{', '.join(TASK_LOSSES[task])}")


def _validate(config: dict) -> None:
    checks = [
        (config["task"] in TASKS, f"unknown task {config['task']!r}; expected one of {', '.join(TASKS)}"),
        (config["optimizer"] in OPTIMIZERS, f"unknown optimizer {config['optimizer']!r}; expected one of {', '.join(OPTIMIZERS)}"),
        (config["loss"] in LOSSES, f"unknown loss {config['loss']!r}; expected one of {', '.join(LOSSES)}"),
        (dataset_error(config["dataset"]) is None, str(dataset_error(config["dataset"]))),
        (int(config["epochs"]) >= 1, f"--epochs must be a positive integer, got {config['epochs']}"),
        (int(config["batch_size"]) >= 1, f"--batch-size must be a positive integer, got {config['batch_size']}"),
        (math.isfinite(float(config["lr"])) and float(config["lr"]) > 0,
         f"--lr must be a positive finite number, got {config['lr']}"),
        (math.isfinite(float(config["weight_decay"])) and float(config["weight_decay"]) >= 0,
         f"--weight-decay must be a finite number >= 0, got {config['weight_decay']}"),
        (0 <= float(config["dropout"]) < 1, f"--dropout must be in [0, 1), got {config['dropout']}"),
    ]
    for size in ("train_size", "val_size"):
        if config[size] is not None:
            checks.append((int(config[size]) >= 1, f"--{size.replace('_', '-')} must be positive, got {config[size]}"))
    for ok, message in checks:
        if not ok:
            raise LaminaValueError(message)
    _check_task(config)


def _default_out(config: dict) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    model = (config["model"] or "mlp").split(":")[0]  # None: an mlp sized to the data
    kind, colon, path = config["dataset"].partition(":")
    dataset = f"{kind}-{os.path.basename(path.rstrip(os.sep)) or 'data'}" if colon else kind
    return os.path.join("runs", f"{stamp}-{model}-{dataset}")


def _say(message: str, quiet: bool = False) -> None:
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
        from .plots import (have_matplotlib, plot_confusion, plot_curves, plot_reconstructions,
                            plot_samples)

        if not have_matplotlib():
            return
        plot_curves(history, os.path.join(self.out, "curves.png"))
        if self.last_confusion is not None:
            plot_confusion(self.last_confusion, os.path.join(self.out, "confusion.png"),
                           self.class_names)
        if self.task == "classify" and self.test_loader is not None:
            plot_samples(self.model, self.test_loader, os.path.join(self.out, "samples.png"),
                         self.class_names)
        if self.task == "autoencode" and self.preview is not None:
            plot_reconstructions(self.preview, reconstruct(self.model, self.preview),
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
        from ..serialization import save

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
            _say(f"epoch {record['epoch']:3d}  train reconstruction loss {record['train_loss']:.4f}"
                 f"  |  test reconstruction loss {record['test_loss']:.4f}  "
                 f"({record['seconds']:.1f}s)", self.quiet)
            return
        _say(f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
             f"acc {record['train_accuracy']:.4f}  |  test loss {record['test_loss']:.4f}  "
             f"acc {record['test_accuracy']:.4f}  ({record['seconds']:.1f}s)", self.quiet)


def reconstruct(model, images):
    """``model``'s output for the NumPy batch ``images`` (eval mode, no graph), as an array."""
    import lamina as lm

    from .placement import model_device

    was_training = model.training
    model.eval()
    try:
        with lm.no_grad():
            return model(lm.tensor(images, device=model_device(model))).cpu().numpy()
    finally:
        model.train(was_training)


def preview_images(dataset, count: int = 8):
    """The first ``count`` inputs of ``dataset`` as one NumPy array (N, ...)."""
    import numpy as np

    return np.stack([dataset[i][0].numpy() for i in range(min(count, len(dataset)))])


def build_run(config: dict):
    """Data loaders, model, loss function and optimiser for ``config`` (seeded).

    A plain ``autoencoder`` model spec is replaced in ``config`` by the sizes it stands for
    on this data (e.g. ``autoencoder:64,32,16`` for the 8x8 digits), and a model of None (an
    ``idx:`` or ``folder:`` data set's default) by :func:`~lamina.train.presets.generic_model`,
    so that the run's config.json names the network exactly."""
    import lamina as lm

    from ..models.spec import default_autoencoder_sizes
    from .assembly import make_data, make_loss, make_model, make_optimizer

    lm.manual_seed(int(config["seed"]))
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
        config = read_config(resume, "--resume")  # checked: one line naming a bad entry
        ignored = sorted(k for k, v in (overrides or {}).items()
                         if v is not None and k not in RESUME_MAY_CHANGE)
        if ignored:
            raise LaminaValueError(
                "--resume continues the run as configured; only "
                f"{', '.join('--' + k for k in RESUME_MAY_CHANGE)} may change "
                f"(got {', '.join('--' + k.replace('_', '-') for k in ignored)})")
        for key in RESUME_MAY_CHANGE:
            if overrides and overrides.get(key) is not None:
                config[key] = overrides[key]
        config.setdefault("task", "classify")  # runs from before --task existed
        config["out"] = resume
        # the device is this invocation's: a run trained on a GPU resumes on a CPU and back
        config["device"] = (overrides or {}).get("device")
        _validate(config)
    else:
        config = resolve_config(overrides or {})
        config["out"] = config["out"] or _default_out(config)
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


# What `--resume` may change: how long, how it prints, how it steps, where the data comes from.
RESUME_MAY_CHANGE = ("epochs", "quiet", "compile", "download", "tensorboard", "device")
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
    from .threads import blas_threads

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
            _say(f"resuming {resume} {resumed}", quiet)
        _say(_first_line(config, data, parallel), quiet)
        for detail in data.details:
            _say(detail, quiet)
        if main_rank:
            for note in data.notes:
                _say(note)  # shown even with --quiet: the run differs from what was asked
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

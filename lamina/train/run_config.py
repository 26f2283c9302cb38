"""The configuration of a training run, as ``lamina train`` resolves it: the defaults, a
preset's values and the flags given, in that order, then the data set's and the task's
defaults for what none of them set (:func:`resolve_config`); the checks that every value is
one lamina can train with, ending in one line naming the bad value; and, for ``--resume``,
the configuration a run recorded with the few entries a resumed run may change
(:func:`resume_config`).
"""
from __future__ import annotations

import datetime
import math
import os

from ..errors import LaminaValueError
from ..models.spec import is_autoencoder_spec
from .assembly import dataset_error, normalise_dataset, resolve_momentum
from .presets import (DATASET_DEFAULTS, DEFAULTS, GENERIC_DEFAULTS, LOSSES, OPTIMIZERS, PRESETS,
                      TASK_DEFAULTS, TASK_LOSSES, TASKS)
from .run_files import read_config

__all__ = ["resolve_config", "model_is_default", "resume_config", "default_out",
           "RESUME_MAY_CHANGE"]

# What `--resume` may change: how long, how it prints, how it steps, where the data comes from.
RESUME_MAY_CHANGE = ("epochs", "quiet", "compile", "download", "tensorboard", "device")


def resolve_config(overrides: dict) -> dict:
    """Defaults, then the preset's values, then every override that is not None; then, for
    what neither the preset nor an override sets: with ``task='autoencode'`` the values of
    ``TASK_DEFAULTS['autoencode']``, else the data set's (``DATASET_DEFAULTS``: model,
    epochs, learning rate); and the optimiser's momentum (``MOMENTUM_DEFAULTS``).

    The model of an ``idx:DIR`` or ``folder:DIR`` data set stays None here: it is chosen
    when the data is read (:func:`~lamina.train.runner.build_run`). A data set path is made
    absolute, so that ``lamina eval`` finds it from any directory."""
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


def default_out(config: dict) -> str:
    """A new run's output directory: ``runs/<timestamp>-<model>-<dataset>``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    model = (config["model"] or "mlp").split(":")[0]  # None: an mlp sized to the data
    kind, colon, path = config["dataset"].partition(":")
    dataset = f"{kind}-{os.path.basename(path.rstrip(os.sep)) or 'data'}" if colon else kind
    return os.path.join("runs", f"{stamp}-{model}-{dataset}")


def resume_config(resume: str, overrides: dict | None) -> dict:
    """The configuration of the run in ``resume`` (``lamina train --resume DIR``), read
    from its config.json and checked, with the entries of ``overrides`` that
    ``RESUME_MAY_CHANGE`` allows; any other override that is not None raises
    :class:`~lamina.errors.LaminaValueError` naming it. The device is this invocation's
    (None: chosen later)."""
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
    return config

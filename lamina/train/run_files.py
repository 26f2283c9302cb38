"""Reading a run directory back: ``config.json``, the weights and the checkpoint, for
``lamina train --resume``, ``lamina eval`` and ``lamina predict``.

Each file is checked against what lamina writes before anything is built from it, so that
a truncated, emptied or hand-edited ``config.json`` (``"epochs": "ten"``, a missing key, an
unknown model), a weights file where the checkpoint belongs (or the reverse), or the files
of another architecture end in one :class:`~lamina.errors.FileFormatError` line that names
the file, the entry and what was expected, rather than in a ``KeyError`` deep inside.
"""
from __future__ import annotations

import json
import math
import os

from ..errors import FileFormatError, LaminaValueError
from ..models.spec import is_autoencoder_spec
from ..serialization import load
from .assembly import RunData, dataset_error, make_model
from .checkpoint import load_checkpoint, partial_epoch
from .presets import LOSSES, OPTIMIZERS, TASK_LOSSES, TASKS

__all__ = ["CONFIG", "WEIGHTS", "CHECKPOINT", "read_config", "check_config", "build_model_of",
           "load_weights", "read_checkpoint", "check_state_fits", "finished_history"]

CONFIG, WEIGHTS, CHECKPOINT = "config.json", "model.safetensors", "checkpoint.safetensors"
CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "rng", "history")
SEED_RANGE = (-2**63, 2**64 - 1)  # what lm.manual_seed accepts, as torch.manual_seed does

# Entries every config.json written by lamina holds; the others are filled in when absent
# (runs from before --task existed have no 'task'). 'momentum' is the one the optimiser
# uses (0 for plain sgd, None for adam); runs from before --momentum recorded 0.9 for every
# optimiser, and a resumed one records what its checkpoint restores.
_REQUIRED = ("model", "dataset", "epochs", "batch_size", "lr", "optimizer", "loss",
             "weight_decay", "dropout", "augment", "train_size", "val_size", "seed",
             "in_shape", "num_classes", "class_names")
_OPTIONAL = {"task": "classify", "momentum": None, "preset": None, "data_dir": None,
             "out": None, "quiet": False}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _choices() -> dict[str, tuple]:
    return {"task": TASKS, "optimizer": OPTIMIZERS, "loss": LOSSES}


def _dataset(value) -> bool:
    return dataset_error(value) is None


def _positive_int(value) -> bool:
    return _is_int(value) and value >= 1


def _optional(test):
    return lambda value: value is None or test(value)


def _in_shape(value) -> bool:
    return isinstance(value, list) and 1 <= len(value) <= 3 and all(map(_positive_int, value))


def _names(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


# entry -> (test, what was expected); entries lamina does not read are left alone
_RULES = {
    "model": (lambda v: isinstance(v, str) and bool(v.strip()),
              "a model spec such as mlp:64,64,10"),
    "dataset": (_dataset, "one of digits, mnist, fashion-mnist, cifar10, idx:DIR, folder:DIR"),
    "epochs": (_positive_int, "a positive integer"),
    "batch_size": (_positive_int, "a positive integer"),
    "num_classes": (_positive_int, "a positive integer"),
    "train_size": (_optional(_positive_int), "a positive integer or null"),
    "val_size": (_optional(_positive_int), "a positive integer or null"),
    "seed": (lambda v: _is_int(v) and SEED_RANGE[0] <= v <= SEED_RANGE[1],
             "an integer in [-2**63, 2**64 - 1]"),
    "lr": (lambda v: _is_number(v) and v > 0, "a positive finite number"),
    "weight_decay": (lambda v: _is_number(v) and v >= 0, "a finite number >= 0"),
    "momentum": (_optional(lambda v: _is_number(v) and 0 <= v < 1), "a number in [0, 1), or null"),
    "dropout": (_optional(lambda v: _is_number(v) and 0 <= v < 1), "a number in [0, 1)"),
    "augment": (_optional(lambda v: isinstance(v, bool)), "true, false or null"),
    "quiet": (_optional(lambda v: isinstance(v, bool)), "true, false or null"),
    "compile": (_optional(lambda v: isinstance(v, bool)), "true, false or null"),
    "device": (_optional(lambda v: isinstance(v, str)), "a device name such as 'cpu' or 'cuda:0', or null"),
    "preset": (_optional(lambda v: isinstance(v, str)), "a string or null"),
    "data_dir": (_optional(lambda v: isinstance(v, str)), "a string or null"),
    "out": (_optional(lambda v: isinstance(v, str)), "a string or null"),
    "blas_threads": (_optional(_positive_int), "a positive integer or null"),
    "in_shape": (_in_shape, "a list of 1 to 3 positive integers, e.g. [1, 28, 28]"),
    "class_names": (_names, "a list of class names (strings)"),
}


def _problem(key: str, value, choices: dict) -> str | None:
    """What was expected of the entry ``key`` when ``value`` is not it (else None)."""
    if key in choices:
        return None if value in choices[key] else f"one of {', '.join(choices[key])}"
    test, expected = _RULES.get(key, (lambda v: True, ""))
    return None if test(value) else expected


def check_config(config: dict, path: str) -> None:
    """Raise :class:`FileFormatError` naming ``path`` and the first entry of ``config`` that
    is missing or not of the kind lamina writes; fills in the optional entries."""
    choices = _choices()
    for key in _REQUIRED:
        if key not in config:
            raise FileFormatError(f"{path}: no {key!r} entry; expected every entry lamina "
                                  "writes (was the file edited, or is it from another program?)")
    for key, default in _OPTIONAL.items():
        config.setdefault(key, default)
    for key, value in config.items():
        expected = _problem(key, value, choices)
        if expected is not None:
            raise FileFormatError(f"{path}: {key!r} is {json.dumps(value)}, expected {expected}")
    if len(config["class_names"]) != config["num_classes"]:
        raise FileFormatError(f"{path}: 'class_names' lists {len(config['class_names'])} names "
                              f"but 'num_classes' is {config['num_classes']}")
    _check_task(config, path)


def _check_task(config: dict, path: str) -> None:
    task, model, loss = config["task"], config["model"], config["loss"]
    if loss not in TASK_LOSSES[task]:
        raise FileFormatError(f"{path}: 'loss' {loss!r} does not suit 'task' {task!r}; expected "
                              f"one of {', '.join(TASK_LOSSES[task])}")
    if is_autoencoder_spec(model) != (task == "autoencode"):
        kind = "an autoencoder" if is_autoencoder_spec(model) else "a classifier"
        raise FileFormatError(f"{path}: 'model' {model!r} is {kind}, which does not suit 'task' "
                              f"{task!r}")


def read_config(run_dir: str, flag: str, check_model: bool = True) -> dict:
    """The checked configuration in ``run_dir/config.json``; ``flag`` (``'--resume'``,
    ``'eval'``, ``'predict'``) names the command in the message when there is none.
    ``check_model`` builds the model once to check that its spec fits the recorded input
    shape (leave it to :func:`build_model_of` with False)."""
    path = os.path.join(run_dir, CONFIG)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{flag} {run_dir}: no {CONFIG} there (not a lamina run directory)")
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        raise FileFormatError(f"{path} is empty ({len(data)} bytes); expected the run's "
                              "configuration as a JSON object")
    try:
        config = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise FileFormatError(f"{path} is not text (not UTF-8); expected the run's configuration "
                              "as a JSON object") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path} is not valid JSON ({exc}): truncated or edited; "
                              "expected the run's configuration as a JSON object") from None
    if not isinstance(config, dict):
        raise FileFormatError(f"{path} holds a JSON {type(config).__name__}, expected the run's "
                              "configuration as a JSON object")
    check_config(config, path)
    if check_model:
        build_model_of(config, path)
    return config


def build_model_of(config: dict, config_path: str):
    """The (untrained) model that ``config`` describes; an unknown or unfitting model spec
    is reported against ``config_path``."""
    info = RunData(None, None, tuple(config["in_shape"]), int(config["num_classes"]),
                   config["class_names"], 0, 0, [])
    try:
        return make_model(config, info)
    except LaminaValueError as exc:
        raise FileFormatError(f"{config_path}: {exc}") from None


def _shape(value) -> tuple:
    return tuple(getattr(value, "shape", ()))


def check_state_fits(state, model, path: str, of: str) -> None:
    """Raise one :class:`FileFormatError` line when the state dict ``state`` read from
    ``path`` does not fit ``model`` (missing or extra entries, other shapes); ``of`` says
    where the model comes from (e.g. "the model 'mlp:64,8,10' of run/config.json")."""
    if not isinstance(state, dict):
        raise FileFormatError(f"{path} holds a {type(state).__name__}, expected a state dict")
    targets = model.state_dict()
    problems = [f"{k!r} is missing" for k in targets if k not in state]
    problems += [f"{k!r} is not in the model" for k in state if k not in targets]
    problems += [f"{k!r} is {_shape(state[k])} in the file, {_shape(t)} in the model"
                 for k, t in targets.items() if k in state and _shape(state[k]) != _shape(t)]
    if problems:
        more = f" (and {len(problems) - 1} more differences)" if len(problems) > 1 else ""
        raise FileFormatError(f"{path} does not fit {of}: {problems[0]}"
                              f"{more}; is it from a run with another architecture?")


def _model_of(config: dict, config_path: str) -> str:
    return f"the model {config['model']!r} of {config_path}"


def load_weights(path: str, model, config: dict, config_path: str) -> None:
    """Load the weights file ``path`` (a state dict) into ``model``, the model of ``config``
    (read from ``config_path``), checked first."""
    state = load(path)
    if isinstance(state, dict) and set(CHECKPOINT_KEYS) <= set(state):
        raise FileFormatError(f"{path} is a training checkpoint (entries "
                              f"{', '.join(CHECKPOINT_KEYS)}); expected the model's weights "
                              "(a state dict), as lamina writes to model.safetensors")
    check_state_fits(state, model, path, _model_of(config, config_path))
    model.load_state_dict(state)


def read_checkpoint(path: str, model, optimizer, config: dict, config_path: str) -> dict:
    """The checkpoint at ``path``, checked to fit ``model`` and ``optimizer``, built from
    ``config`` (read from ``config_path``); as :func:`~lamina.train.checkpoint.load_checkpoint`
    returns it."""
    state = load_checkpoint(path)
    if not isinstance(state, dict) or not set(CHECKPOINT_KEYS) <= set(state):
        what = ("holds model weights only (a state dict)" if isinstance(state, dict)
                else f"holds a {type(state).__name__}")
        raise FileFormatError(f"{path} {what}; expected a training checkpoint with the entries "
                              f"{', '.join(CHECKPOINT_KEYS)}")
    epoch, history = state["epoch"], state["history"]
    if (not _is_int(epoch) or epoch < 0 or not isinstance(history, list)
            or not isinstance(state["rng"], dict)):
        raise FileFormatError(f"{path}: its 'epoch', 'history' or 'rng' entry is malformed; "
                              "expected a checkpoint written by lamina")
    check_state_fits(state["model"], model, path, _model_of(config, config_path))
    _check_optimizer_fits(state["optimizer"], optimizer, path, config, config_path)
    return state


def _check_optimizer_fits(saved, optimizer, path: str, config: dict, config_path: str) -> None:
    """The saved parameter groups must be as many, as long, and carry the hyper-parameters
    of the optimiser that config.json names (SGD's momentum, Adam's betas, ...)."""
    mine = optimizer.state_dict()["param_groups"]
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    ok = isinstance(groups, list) and len(groups) == len(mine) and all(
        isinstance(g, dict) and set(optimizer.defaults) <= set(g)
        and len(g.get("params", ())) == len(m["params"]) for g, m in zip(groups, mine))
    if not ok:
        raise FileFormatError(f"{path}: its optimiser state does not fit the optimizer "
                              f"{config['optimizer']!r} of {config_path}; is the checkpoint from "
                              "another run, or was config.json edited?")


def finished_history(config: dict, resume: str, say: bool = True) -> list | None:
    """The history of the run in ``resume`` when it has trained all ``config['epochs']``
    epochs (``say``: after printing one line that says so, as the main rank of a job does),
    else None. Only the checkpoint is read, so that ``--resume`` of a finished run loads no
    data and writes nothing; a checkpoint that is not plainly lamina's is left to the full
    checks of :func:`read_checkpoint`."""
    path = os.path.join(resume, "checkpoint.safetensors")
    if not os.path.isfile(path):
        return None
    state = load_checkpoint(path)
    epoch = state.get("epoch") if isinstance(state, dict) else None
    history = state.get("history") if isinstance(state, dict) else None
    if (not isinstance(epoch, int) or not isinstance(history, list)
            or partial_epoch(state, path) is not None or epoch < int(config["epochs"])):
        return None
    if say:
        last = history[-1] if history and isinstance(history[-1], dict) else {}
        metric = next((f"{name} {last[key]:.4f}" for key, name in
                       (("test_accuracy", "test accuracy"),
                        ("test_loss", "test reconstruction loss")) if key in last), None)
        reached = f" (final {metric})" if metric else ""
        epochs = f"{epoch} epoch" if epoch == 1 else f"{epoch} epochs"
        print(f"{resume} is finished: it has trained {epochs}{reached}, and "
              f"--epochs {config['epochs']} asks for no more; nothing to do. To train longer: "
              f"lamina train --resume {resume} --epochs {epoch + 10}", flush=True)
    return history

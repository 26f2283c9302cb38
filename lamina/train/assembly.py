"""Turn a resolved configuration into data loaders, a model, a loss and an optimiser.

Data sets by name: ``digits`` (embedded), ``mnist``, ``fashion-mnist``, ``cifar10`` (from
``--data-dir``, the cache or a system copy; ``--download`` fetches missing files), and by
path: ``idx:DIR`` (any image set in MNIST's IDX format, :class:`lamina.data.IDXDataset`)
and ``folder:DIR`` (a tree of images, one subfolder per class,
:func:`lamina.data.folder.image_folder_splits`).
"""
from __future__ import annotations

import dataclasses
import os
import warnings

from .. import nn, optim
from ..data import (CIFAR10, MNIST, ArrayDataset, DataLoader, Digits, FashionMNIST, IDXDataset,
                    transforms)
from ..data.folder import image_folder_splits
from ..errors import DataError, LaminaValueError
from ..models.spec import build_model
from ..nn import functional as F
from .presets import MOMENTUM_DEFAULTS, PRESETS

__all__ = ["RunData", "make_data", "make_model", "make_loss", "make_optimizer", "get_dataset",
           "get_splits", "standard_dataset", "normalise_dataset", "dataset_error",
           "resolve_momentum", "STANDARD_DATASETS", "PATH_KINDS"]

#: The data sets lamina can download, by command-line name.
STANDARD_DATASETS = ("mnist", "fashion-mnist", "cifar10")
#: Data sets given by a path: ``idx:DIR``, ``folder:DIR``.
PATH_KINDS = ("idx", "folder")


@dataclasses.dataclass
class RunData:
    train_loader: object
    test_loader: object
    in_shape: tuple
    num_classes: int
    class_names: list
    train_size: int
    test_size: int
    notes: list
    #: what the run uses of the data when that is not simply all of it (printed after the
    #: first line, unless --quiet)
    details: list = dataclasses.field(default_factory=list)


def _path_kind(name: str) -> tuple[str, str] | None:
    kind, colon, path = name.partition(":")
    return (kind, path) if colon and kind in PATH_KINDS else None


def dataset_error(name) -> LaminaValueError | None:
    """None when ``name`` names a data set, else the error that says what was expected."""
    expected = ("digits, mnist, fashion-mnist, cifar10, idx:DIR (an image set in MNIST's IDX "
                "format) or folder:DIR (one subfolder of images per class)")
    if not isinstance(name, str):
        return LaminaValueError(f"unknown dataset {name!r}; expected one of {expected}")
    split = _path_kind(name)
    if name == "digits" or name in STANDARD_DATASETS or (split is not None and split[1]):
        return None
    if split is not None:
        return LaminaValueError(f"--dataset {name} names no directory; expected "
                                f"{split[0]}:DIR, e.g. {split[0]}:data/my-images")
    return LaminaValueError(f"unknown dataset {name!r}; expected one of {expected}")


def normalise_dataset(name):
    """``idx:DIR`` and ``folder:DIR`` with DIR made absolute; other names as they are."""
    split = _path_kind(name) if isinstance(name, str) else None
    if split is None or not split[1]:
        return name
    return f"{split[0]}:{os.path.abspath(os.path.expanduser(split[1]))}"


def standard_dataset(name: str):
    """The class of a data set lamina can download (``mnist``, ``fashion-mnist``,
    ``cifar10``)."""
    classes = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}
    if name not in classes:
        raise LaminaValueError(f"unknown dataset {name!r}; expected one of "
                               f"{', '.join(classes)}")
    return classes[name]


def _fetch_or_explain(name: str, root: str | None, download: bool) -> None:
    """Download what is missing (``--download``), or say how to get it."""
    cls = standard_dataset(name)
    missing = cls.missing_files(root)
    if not missing:
        return
    if download:
        cls.fetch(root, report=lambda line: print(line, flush=True))
        return
    dirs = cls.locations(root)
    where = "--data-dir " + root if root is not None else f"the cache {dirs[0]}"
    raise DataError(f"{cls.__name__} ({name}): {', '.join(missing)} not found in "
                    f"{', '.join(map(str, dirs))}; "
                    f"add --download to fetch them into {where} (checksum-verified, from "
                    f"{cls.mirrors[0]}), or run `lamina data fetch {name}` first, or point "
                    "--data-dir at a directory that holds them")


def get_dataset(name: str, train: bool, root: str | None = None, download: bool = False):
    """The training or test split of a data set by its command-line name."""
    train_set, test_set, _ = get_splits(name, root, download)
    return train_set if train else test_set


def get_splits(name: str, root: str | None = None, download: bool = False):
    """(training set, test set, a note on how they were made or None) of a data set by its
    command-line name; ``root`` is ``--data-dir`` (a standard data set's directory)."""
    error = dataset_error(name)
    if error is not None:
        raise error
    if name == "digits":
        return Digits(train=True), Digits(train=False), None
    split = _path_kind(name)
    if split is not None:
        kind, path = split
        if kind == "idx":
            return IDXDataset(path, train=True), IDXDataset(path, train=False), None
        if not os.path.isdir(path):
            raise FileNotFoundError(f"--dataset {name}: no such directory")
        return image_folder_splits(path)
    if root is not None and not os.path.isdir(root) and not download:
        raise FileNotFoundError(f"--data-dir {root}: no such directory")
    _fetch_or_explain(name, root, download)
    cls = standard_dataset(name)
    return cls(root=root, train=True), cls(root=root, train=False), None


def _head(dataset, size):
    """The first ``size`` samples of ``dataset`` (an ArrayDataset)."""
    head = ArrayDataset(dataset.data[:size], dataset.targets[:size], scale=float(dataset.scale))
    head.classes = dataset.classes
    return head


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _flag(config: dict, key: str) -> str:
    """'--train-size 50000', with ', from --preset nielsen-30' when the preset set it."""
    flag = f"--{key.replace('_', '-')} {config[key]}"
    preset = PRESETS.get(config.get("preset") or "", {}).get("config", {})
    return flag + (f", from --preset {config['preset']}" if preset.get(key) == config[key] else "")


def _subsets(train, test, config: dict, notes: list, details: list):
    """--train-size and --val-size: the first images of each split, said in words."""
    wanted, n = config.get("train_size"), len(train)
    if wanted is not None and int(wanted) < n:
        wanted = int(wanted)
        details.append(f"using the first {wanted} of the {n} training images "
                       f"({_flag(config, 'train_size')}): the other {n - wanted} are held out "
                       "for validation and not trained on")
        train = _head(train, wanted)
    elif wanted is not None and int(wanted) > n:
        notes.append(f"note: the training set has {_plural(n, 'image')}, fewer than the "
                     f"{wanted} asked for; using all {n}")
    wanted, n = config.get("val_size"), len(test)
    if wanted is not None and int(wanted) < n:
        wanted = int(wanted)
        details.append(f"evaluating on the first {wanted} of the {n} test images "
                       f"({_flag(config, 'val_size')})")
        test = _head(test, wanted)
    elif wanted is not None and int(wanted) > n:
        notes.append(f"note: the test set has {_plural(n, 'image')}, fewer than the {wanted} "
                     f"asked for; using all {n}")
    return train, test


def _check_splits(name: str, train, test, classes: list) -> None:
    if tuple(train.data.shape[1:]) != tuple(test.data.shape[1:]):
        raise DataError(f"--dataset {name}: the training images have shape "
                        f"{tuple(train.data.shape[1:])} but the test images "
                        f"{tuple(test.data.shape[1:])}; expected one shape")
    top = int(test.targets.max(initial=-1))
    if top >= len(classes):
        raise DataError(f"--dataset {name}: the test split has label {top} but the training "
                        f"split only {len(classes)} classes (labels 0..{len(classes) - 1})")


def make_data(config: dict) -> RunData:
    notes: list = []
    details: list = []
    root = config.get("data_dir")
    if root is not None and (config["dataset"] == "digits" or _path_kind(config["dataset"])):
        # a UserWarning: `lamina` shows it as one line on stderr, and training goes on
        what = ("the digits data set is embedded in lamina" if config["dataset"] == "digits"
                else f"--dataset {config['dataset']} names its directory")
        warnings.warn(f"--data-dir {root} is ignored: {what}", UserWarning, stacklevel=2)
        root = config["data_dir"] = None  # so the run's config.json does not repeat it
    train, test, how = get_splits(config["dataset"], root, bool(config.get("download")))
    if how is not None:
        details.append(how)
    classes = list(train.classes) or [str(k) for k in range(int(train.targets.max()) + 1)]
    _check_splits(config["dataset"], train, test, classes)
    train, test = _subsets(train, test, config, notes, details)
    augment = None
    if config.get("augment"):
        steps = [transforms.RandomShift(1 if config["dataset"] == "digits" else 2),
                 transforms.RandomRotation(10)]
        if config["dataset"] == "cifar10":
            steps.append(transforms.RandomHorizontalFlip(0.5))
        augment = transforms.Compose(steps)
    batch = int(config["batch_size"])
    # The shuffling seed is the generator's: lm.manual_seed(-1), as torch.manual_seed(-1),
    # seeds with -1 mod 2**64, so --seed -1 and --seed 18446744073709551615 are one run.
    train_loader = DataLoader(train, batch_size=batch, shuffle=True,
                              seed=int(config["seed"]) % 2**64, transform=augment)
    test_loader = DataLoader(test, batch_size=max(batch, 500), shuffle=False)
    return RunData(train_loader, test_loader, tuple(train.data.shape[1:]), len(classes),
                   [str(c) for c in classes], len(train), len(test), notes, details)


def make_model(config: dict, data: RunData):
    dropout = float(config.get("dropout") or 0.0)
    model = build_model(config["model"], data.in_shape, data.num_classes,
                        dropout=dropout if dropout > 0 else None)
    if config.get("task", "classify") == "autoencode":
        return model  # its decoder ends in its own output activation (sigmoid)
    if config["loss"] in ("quadratic", "mse"):
        # The quadratic cost compares the output units' activations with one-hot targets,
        # so the output layer is made of sigmoid units (Grohs's network).
        if isinstance(model, nn.Sequential):
            model.append(nn.Sigmoid())
        else:
            model = nn.Sequential(model, nn.Sigmoid())
    return model


def make_loss(config: dict, num_classes: int):
    """``loss_fn(output, target)``. Classification: the target is the class labels (one-hot
    encoded for quadratic and mse). ``task='autoencode'``: the target is the input itself and
    the loss the per-pixel mean squared error ('mse'), the quadratic cost 1/(2n) sum_x
    ||g(f(x)) - x||^2 ('quadratic') or the binary cross-entropy ('bce')."""
    name = config["loss"]
    if config.get("task", "classify") == "autoencode":
        return {"mse": F.mse_loss, "quadratic": F.quadratic_loss,
                "bce": F.binary_cross_entropy}[name]
    if name == "cross-entropy":
        return F.cross_entropy
    if name == "quadratic":
        return lambda out, y: F.quadratic_loss(out, F.one_hot(y, num_classes).float())
    return lambda out, y: F.mse_loss(out, F.one_hot(y, num_classes).float())


def resolve_momentum(config: dict, given: bool) -> None:
    """The momentum the optimiser will use, recorded as such; --momentum for an optimiser
    without one is refused."""
    optimizer = config["optimizer"]
    if optimizer not in MOMENTUM_DEFAULTS:
        return  # _validate names the unknown optimiser
    default = MOMENTUM_DEFAULTS[optimizer]
    if default is None:
        if given:
            with_momentum = ", ".join(k for k, v in MOMENTUM_DEFAULTS.items() if v is not None)
            raise LaminaValueError(f"--momentum {config['momentum']} does not apply to "
                                   f"--optimizer {optimizer}; it applies to {with_momentum}")
        config["momentum"] = None
    elif config["momentum"] is None:
        config["momentum"] = default
    if optimizer == "nesterov" and not config["momentum"]:
        raise LaminaValueError("--optimizer nesterov needs a momentum > 0, got --momentum "
                               f"{config['momentum']}")


def make_optimizer(config: dict, model):
    """The optimiser of ``config``; its ``momentum`` (sgd, momentum, nesterov, rmsprop) as
    recorded, None meaning the optimiser's default (MOMENTUM_DEFAULTS)."""
    name, lr, wd = config["optimizer"], float(config["lr"]), float(config["weight_decay"])
    params = list(model.parameters())
    momentum = config.get("momentum")
    # what config.json records is what is used (None: the optimiser's own default)
    momentum = float(momentum if momentum is not None else MOMENTUM_DEFAULTS.get(name) or 0.0)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    if name == "nesterov":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=True, weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=wd)

"""Turn a resolved configuration into data loaders, a model, a loss and an optimiser."""
from __future__ import annotations

import dataclasses
import os
import warnings

from ..errors import LaminaValueError

__all__ = ["RunData", "make_data", "make_model", "make_loss", "make_optimizer"]


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


def get_dataset(name: str, train: bool, root: str | None = None):
    """The training or test split of a data set by its command-line name."""
    from ..data import CIFAR10, MNIST, Digits, FashionMNIST

    if name == "digits":
        return Digits(train=train)
    classes = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}
    if name not in classes:
        raise LaminaValueError(f"unknown dataset {name!r}; expected one of digits, "
                               f"{', '.join(classes)}")
    if root is not None and not os.path.isdir(root):
        raise FileNotFoundError(f"--data-dir {root}: no such directory")
    return classes[name](root=root, train=train)


def _head(dataset, size, what: str, notes: list):
    """The first ``size`` samples of ``dataset`` (all of them, with a note, if it has fewer)."""
    from ..data import ArrayDataset

    n = len(dataset)
    if size is None or int(size) == n:
        return dataset
    size = int(size)
    if size > n:
        notes.append(f"note: {what} set has {n} images, fewer than the {size} asked for; "
                     f"using all {n}")
        return dataset
    head = ArrayDataset(dataset.data[:size], dataset.targets[:size], scale=float(dataset.scale))
    head.classes = dataset.classes
    return head


def make_data(config: dict) -> RunData:
    from ..data import DataLoader, transforms

    notes: list = []
    root = config.get("data_dir")
    if root is not None and config["dataset"] == "digits":
        # a UserWarning: `lamina` shows it as one line on stderr, and training goes on
        warnings.warn(f"--data-dir {root} is ignored: the digits data set is embedded in lamina",
                      UserWarning, stacklevel=2)
        root = config["data_dir"] = None  # so the run's config.json does not repeat it
    train = _head(get_dataset(config["dataset"], True, root), config.get("train_size"),
                  "the training", notes)
    test = _head(get_dataset(config["dataset"], False, root), config.get("val_size"),
                 "the test", notes)
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
    classes = list(train.classes) or [str(k) for k in range(int(train.targets.max()) + 1)]
    return RunData(train_loader, test_loader, tuple(train.data.shape[1:]), len(classes),
                   [str(c) for c in classes], len(train), len(test), notes)


def make_model(config: dict, data: RunData):
    from .. import nn
    from ..models.spec import build_model

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
    from ..nn import functional as F

    name = config["loss"]
    if config.get("task", "classify") == "autoencode":
        return {"mse": F.mse_loss, "quadratic": F.quadratic_loss,
                "bce": F.binary_cross_entropy}[name]
    if name == "cross-entropy":
        return F.cross_entropy
    if name == "quadratic":
        return lambda out, y: F.quadratic_loss(out, F.one_hot(y, num_classes).float())
    return lambda out, y: F.mse_loss(out, F.one_hot(y, num_classes).float())


def make_optimizer(config: dict, model):
    from .. import optim

    name, lr, wd = config["optimizer"], float(config["lr"]), float(config["weight_decay"])
    params = list(model.parameters())
    momentum = float(config.get("momentum") or 0.9)
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
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
    return optim.RMSprop(params, lr=lr, weight_decay=wd)

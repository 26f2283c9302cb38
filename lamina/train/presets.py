"""The lectures' training recipes as named presets for ``lamina train --preset NAME``.

A preset is a set of defaults: any flag given on the command line overrides it.
"""
from __future__ import annotations

__all__ = ["PRESETS", "DEFAULTS", "TASK_DEFAULTS", "DATASET_DEFAULTS", "GENERIC_DEFAULTS",
           "MOMENTUM_DEFAULTS", "TASKS", "OPTIMIZERS", "LOSSES", "DATASETS", "TASK_LOSSES",
           "generic_model"]

# The names `lamina train` accepts (and a run's config.json may hold).
TASKS = ("classify", "autoencode")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "adagrad", "rmsprop")
LOSSES = ("cross-entropy", "quadratic", "mse", "bce")
# The data sets by name; besides them, idx:DIR and folder:DIR (lamina.train.assembly).
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
# The losses each task accepts: classification compares outputs with the labels, an
# autoencoder compares its reconstruction with the input (bce needs outputs in [0, 1]).
TASK_LOSSES = {"classify": ("cross-entropy", "quadratic", "mse"),
               "autoencode": ("mse", "bce", "quadratic")}

# What `lamina train` does with no arguments: a small MLP on the embedded digits, in seconds.
# The model, the epochs and the learning rate follow the data set (DATASET_DEFAULTS); the
# momentum follows the optimiser (MOMENTUM_DEFAULTS).
DEFAULTS = {
    "preset": None,
    "task": "classify",
    "model": None,
    "dataset": "digits",
    "data_dir": None,
    "download": False,
    "epochs": 30,
    "batch_size": 32,
    "lr": 0.1,
    "optimizer": "momentum",
    "momentum": None,
    "loss": "cross-entropy",
    "weight_decay": 0.0,
    "dropout": 0.0,
    "augment": False,
    "train_size": None,
    "val_size": None,
    "seed": 0,
    "out": None,
    "quiet": False,
    "compile": False,
    "device": None,
}

# What changes when --task autoencode is given and neither a flag nor the preset sets the
# value: a dense autoencoder sized to the data ('autoencoder', see
# lamina.models.spec.default_autoencoder_sizes), the per-pixel mean squared reconstruction
# error, and Adam, since momentum SGD at lr 0.1 stalls at the mean image on the digits.
TASK_DEFAULTS = {
    "classify": {},
    "autoencode": {"model": "autoencoder", "loss": "mse", "optimizer": "adam", "lr": 3e-3},
}

# Per data set, what neither a flag nor the preset sets: a model that fits its inputs and
# classes, and epochs and a learning rate that train it well in a few minutes on a laptop
# (the 784-100-10 ReLU MLP reaches about 0.97 on MNIST and 0.88 on Fashion-MNIST, at about a
# second per epoch; SGD with momentum 0.9 at lr 0.1 is too fast for it).
DATASET_DEFAULTS = {
    "digits": {"model": "mlp:64,64,10:relu", "epochs": 30, "lr": 0.1},
    "mnist": {"model": "mlp:784,100,10:relu", "epochs": 10, "lr": 0.01},
    "fashion-mnist": {"model": "mlp:784,100,10:relu", "epochs": 10, "lr": 0.01},
    "cifar10": {"model": "lenet5", "epochs": 10, "lr": 0.01},
}
# For idx:DIR and folder:DIR, whose inputs are known only once the files are read: the
# model is generic_model(in_shape, num_classes).
GENERIC_DEFAULTS = {"epochs": 10, "lr": 0.01}

# The momentum each optimiser uses unless --momentum (or the preset) sets it: plain SGD has
# none, as torch.optim.SGD; None: the optimiser has no momentum (Adam's betas play that part).
MOMENTUM_DEFAULTS = {"sgd": 0.0, "momentum": 0.9, "nesterov": 0.9, "rmsprop": 0.0,
                     "adam": None, "adamw": None, "adagrad": None}


def generic_model(in_shape, num_classes: int) -> str:
    """The default classifier for inputs of ``in_shape``: a ReLU MLP with 100 hidden units
    (``mlp:784,100,10:relu`` for 28x28 grey images in 10 classes)."""
    inputs = 1
    for size in in_shape:
        inputs *= int(size)
    return f"mlp:{inputs},100,{int(num_classes)}:relu"


PRESETS = {
    "digits-mlp": {
        "source": "lamina's quick start: a ReLU MLP on the embedded 8x8 digits",
        "config": {},
    },
    "nielsen-30": {
        "source": "Grohs, Introduction to (Convolutional) Neural Networks §5 'The Basic Recipe': [784,30,10] sigmoid, quadratic cost, N(0,1) "
                  "init, SGD lr 3.0, batch 10, 30 epochs (lecture: 94.84% on MNIST)",
        "config": {"model": "mlp:784,30,10:sigmoid:normal", "dataset": "mnist", "loss": "quadratic",
                   "optimizer": "sgd", "lr": 3.0, "batch_size": 10, "epochs": 30,
                   "train_size": 50000, "val_size": 10000},
    },
    "nielsen-30-30": {
        "source": "Grohs, Introduction to (Convolutional) Neural Networks §6 'Going Deep': [784,30,30,10] (lecture: 95.81% on MNIST)",
        "config": {"model": "mlp:784,30,30,10:sigmoid:normal", "dataset": "mnist",
                   "loss": "quadratic", "optimizer": "sgd", "lr": 3.0, "batch_size": 10,
                   "epochs": 30, "train_size": 50000, "val_size": 10000},
    },
    "nielsen-30-30-30": {
        "source": "Grohs, Introduction to (Convolutional) Neural Networks §6 'Going Deep': [784,30,30,30,10] (lecture: 95.07% on MNIST)",
        "config": {"model": "mlp:784,30,30,30,10:sigmoid:normal", "dataset": "mnist",
                   "loss": "quadratic", "optimizer": "sgd", "lr": 3.0, "batch_size": 10,
                   "epochs": 30, "train_size": 50000, "val_size": 10000},
    },
    "lenet5": {
        "source": "Schwing & Telgarsky's Net (LeNet-5: conv 6, conv 16, fc 120, 84, 10), cross-entropy, "
                  "SGD with momentum",
        "config": {"model": "lenet5", "dataset": "mnist", "loss": "cross-entropy",
                   "optimizer": "momentum", "lr": 0.01, "momentum": 0.9, "batch_size": 64,
                   "epochs": 10},
    },
    "tf-cnn": {
        "source": "Grohs, Introduction to (Convolutional) Neural Networks §7: the TensorFlow CNN (conv 5x5x32, pool, conv 5x5x64, pool, "
                  "fc 1024 + dropout, fc 10), Adam 1e-4, batch 50 (lecture: 0.99 on MNIST)",
        "config": {"model": "tf-cnn", "dataset": "mnist", "loss": "cross-entropy",
                   "optimizer": "adam", "lr": 1e-4, "batch_size": 50, "epochs": 17,
                   "dropout": 0.5},
    },
}

"""The lectures' training recipes as named presets for ``lamina train --preset NAME``.

A preset is a set of defaults: any flag given on the command line overrides it.
"""
from __future__ import annotations

__all__ = ["PRESETS", "DEFAULTS", "TASK_DEFAULTS", "TASKS"]

TASKS = ("classify", "autoencode")

# What `lamina train` does with no arguments: a small MLP on the embedded digits, in seconds.
DEFAULTS = {
    "preset": None,
    "task": "classify",
    "model": "mlp:64,64,10:relu",
    "dataset": "digits",
    "data_dir": None,
    "epochs": 30,
    "batch_size": 32,
    "lr": 0.1,
    "optimizer": "momentum",
    "momentum": 0.9,
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
}

# What changes when --task autoencode is given and neither a flag nor the preset sets the
# value: a dense autoencoder sized to the data ('autoencoder', see
# lamina.models.spec.default_autoencoder_sizes), the per-pixel mean squared reconstruction
# error, and Adam, since momentum SGD at lr 0.1 stalls at the mean image on the digits.
TASK_DEFAULTS = {
    "classify": {},
    "autoencode": {"model": "autoencoder", "loss": "mse", "optimizer": "adam", "lr": 3e-3},
}

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

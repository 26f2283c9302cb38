"""The lectures as runnable experiments: ``lamina lab NAME [--quick] [--out DIR]``.

Each lab is a module of this package with a ``run(quick: bool, out: str) -> Report``
function; it prints a table (the lecture's figure beside ours where the lecture has one) and
writes a PNG where a picture says more. ``LABS`` maps each lab's command-line name to its
module and a one-line description.
"""
from __future__ import annotations

import importlib

from ..errors import LaminaValueError
from .report import Report, Table

__all__ = ["LABS", "run_lab", "Report", "Table"]

LABS = {
    "backprop-example": ("backprop_example", "the backpropagation lecture's 2-2-1 backpropagation example, digit by digit"),
    "logic": ("logic", "McCulloch-Pitts gates, the perceptron on AND/OR/XOR, a two-layer XOR"),
    "universal-approximation": ("universal_approximation", "one hidden sigmoid layer fitting continuous functions (Grohs, Introduction to (Convolutional) Neural Networks)"),
    "decision-boundaries": ("decision_boundaries", "polygons and a circle from perceptrons; a trained MLP's boundary (Dehaqani, Introduction to Neural Networks)"),
    "gd-vs-sgd": ("gd_vs_sgd", "full gradient descent against SGD and minibatches; variance falling as 1/K (Grohs, Introduction to (Convolutional) Neural Networks)"),
    "depth": ("depth", "Grohs's 30 / 30-30 / 30-30-30 sigmoid networks over 5 seeds: mean, spread, stuck runs"),
    "vanishing-gradients": ("vanishing_gradients", "per-layer gradient norms, deep sigmoid against ReLU (Grohs, Introduction to (Convolutional) Neural Networks §6)"),
    "regularization": ("regularization", "L2, Lp (p <= 1) sparsity, dropout, weight noise, augmentation (Grohs, Introduction to (Convolutional) Neural Networks)"),
    "initialization": ("initialization", "uniform 1/sqrt(fan_in) against Glorot against N(0,1) (Schwing & Telgarsky, Deep Neural Networks)"),
    "optimizers": ("optimizers", "SGD, momentum, Adagrad, RMSProp, Adam, 1/k and 1/sqrt(k) steps (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks)"),
    "cnn-filters": ("cnn_filters", "first-layer filters of a small CNN; conv2d is cross-correlation; a convolution is a circulant matrix product; AlexNet's parameter count (Grohs, Introduction to (Convolutional) Neural Networks)"),
    "graph": ("graph", "the computational graph of a small network, drawn with its forward values and gradients (Schwing & Telgarsky, Deep Neural Networks)"),
    "margins": ("margins", "epsilon from 1 to 0 turns cross-entropy into the hinge; logistic regression, linear SVM, one-layer net (Schwing & Telgarsky, Deep Neural Networks)"),
    "block-coordinate-descent": ("block_coordinate_descent", "BCD against gradient descent on a deep linear net; the Hessian's mixed signs (Ghauch & Ghadikolaei, Fundamentals of Deep Neural Networks)"),
    "classic-rules": ("classic_rules", "Hebb's instability, ADALINE/LMS, MADALINE on XOR, RBF cylinders, McCulloch-Pitts memory (Dehaqani, Introduction to Neural Networks)"),
    "autoencoder": ("autoencoder", "an autoencoder's reconstructions and code space (Fashion-MNIST when present, else the digits)"),
}


def run_lab(name: str, quick: bool = False, out: str | None = None) -> Report:
    """Run the lab ``name`` and return its report (the caller prints it)."""
    if name not in LABS:
        raise LaminaValueError(f"unknown lab {name!r}; known labs: {', '.join(LABS)}")
    module = importlib.import_module(f".{LABS[name][0]}", __name__)
    return module.run(quick=quick, out=out or f"lab-{name}")

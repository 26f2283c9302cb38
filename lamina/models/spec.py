"""Text model specifications for the command line: ``lamina train --model mlp:784,30,10``.

Grammar (case-insensitive, spaces ignored)::

    mlp:<d_0>,<d_1>,...,<d_L>[:<activation>[:<init>]]   e.g. mlp:784,30,10:sigmoid:normal
    lenet5 | tf-cnn | alexnet | vgg[<depth>] | resnet<depth> | googlenet
    autoencoder[:<d_0>,<d_1>,...,<d_k>[:<activation>]]    e.g. autoencoder:784,128,32:relu
    conv-autoencoder[:<c_1>,...,<c_k>[:<activation>]]     e.g. conv-autoencoder:16,32

``in_shape`` is the shape of one sample without the batch axis: (C, H, W) for images, (D,)
for vectors. An mlp's first size must be the flattened input size and its last the number of
classes; the convolutional networks need (C, H, W). The autoencoders (``lamina train --task
autoencode``) reconstruct their input and ignore ``num_classes``: a dense one's first size
must be the flattened input size (plain ``autoencoder`` picks sizes that fit, see
:func:`default_autoencoder_sizes`); a convolutional one takes its input channels from
``in_shape`` and needs H and W divisible by 2^k.
"""
from __future__ import annotations

import math
import re

from .. import nn
from ..errors import LaminaValueError, ShapeError
from .alexnet import alexnet
from .autoencoder import Autoencoder
from .googlenet import googlenet
from .lenet import lenet5
from .mlp import mlp
from .resnet import resnet
from .tf_cnn import tf_cnn
from .vgg import VGG_CONFIGS, vgg

__all__ = ["build_model", "MODEL_SPECS", "KNOWN_SPECS", "AUTOENCODER_NAMES", "is_autoencoder_spec",
           "default_autoencoder_sizes"]

# (spec example, description, lecture source), listed by `lamina models`.
MODEL_SPECS: list[tuple[str, str, str]] = [
    ("mlp:784,30,10", "fully connected, sigmoid units (Nielsen's MNIST network)",
     "Grohs, Introduction to (Convolutional) Neural Networks, The Basic Recipe"),
    ("mlp:784,30,10:sigmoid:normal", "the same with Nielsen's N(0, 1) initialisation",
     "Grohs, Introduction to (Convolutional) Neural Networks, The Basic Recipe"),
    ("mlp:784,100,10:relu", "fully connected, ReLU units", "Schwing & Telgarsky, Deep Neural Networks, activation functions"),
    ("lenet5", "LeNet-5: conv 6 -> pool -> conv 16 -> pool -> fc 120 -> 84 -> classes",
     "Schwing & Telgarsky, Deep Neural Networks, PyTorchCS446.py Net"),
    ("tf-cnn", "conv 5x5x32 -> pool -> conv 5x5x64 -> pool -> fc 1024 -> dropout -> classes",
     "Grohs, Introduction to (Convolutional) Neural Networks, Convolutional Neural Networks (TensorFlow example)"),
    ("alexnet", "small AlexNet: 5 convs, overlapping max-pools, 3 fc layers with dropout",
     "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("vgg11", "small VGG-11 (also vgg13, vgg16, vgg19): stacked 3x3 convolutions",
     "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("resnet8", "CIFAR-style ResNet, 3 stages of 1 residual block",
     "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("resnet14", "CIFAR-style ResNet, 3 stages of 2 residual blocks",
     "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("resnet20", "CIFAR-style ResNet, 3 stages of 3 residual blocks",
     "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("googlenet", "small GoogLeNet with four inception modules", "Schwing & Telgarsky, Deep Neural Networks, Popular architectures"),
    ("autoencoder:784,128,32", "dense autoencoder (--task autoencode): encoder 784->128->32, "
     "mirrored decoder, ReLU units, sigmoid output",
     "Grohs, Introduction to (Convolutional) Neural Networks, What I didn't tell you (autoencoders)"),
    ("conv-autoencoder:16,32", "convolutional autoencoder (--task autoencode): stride-2 3x3 "
     "convolutions, nearest upsampling + 3x3 convolutions back",
     "Grohs, Introduction to (Convolutional) Neural Networks, What I didn't tell you (autoencoders)"),
]
KNOWN_SPECS: tuple[str, ...] = ("mlp:<sizes>[:<activation>[:<init>]]", "lenet5", "tf-cnn",
                                "alexnet", "vgg", "vgg11", "vgg13", "vgg16", "vgg19", "resnet8",
                                "resnet14", "resnet20", "resnet<6n+2>", "googlenet",
                                "autoencoder[:<sizes>[:<activation>]]",
                                "conv-autoencoder[:<channels>[:<activation>]]")
# The spec names (before the first ':') of models trained with --task autoencode.
AUTOENCODER_NAMES: tuple[str, ...] = ("autoencoder", "conv-autoencoder", "conv_autoencoder")
DEFAULT_CONV_CHANNELS = (16, 32)


def is_autoencoder_spec(spec: str) -> bool:
    """True when ``spec`` names an autoencoder (a model for ``--task autoencode``)."""
    if not isinstance(spec, str):
        return False
    return re.sub(r"\s+", "", spec).lower().partition(":")[0] in AUTOENCODER_NAMES


def default_autoencoder_sizes(in_shape: tuple) -> list[int]:
    """The sizes of plain ``autoencoder`` for inputs of ``in_shape``: [d, min(128, d/2),
    min(32, d/4)] with d the flattened input size (784 -> [784, 128, 32]; 8x8 digits ->
    [64, 32, 16])."""
    d = math.prod(in_shape)
    return [d, max(1, min(128, d // 2)), max(1, min(32, d // 4))]


def _build_autoencoder(spec: str, name: str, body: str, in_shape: tuple) -> nn.Module:
    parts = body.split(":") if body else []
    conv = name != "autoencoder"
    form = ("conv-autoencoder[:<channels>[:<activation>]]" if conv
            else "autoencoder[:<sizes>[:<activation>]]")
    if len(parts) > 2:
        raise LaminaValueError(f"bad autoencoder spec {spec!r}: expected {form}")
    activation = parts[1] if len(parts) > 1 and parts[1] else "relu"
    try:
        sizes = [int(s) for s in parts[0].split(",")] if parts and parts[0] else None
    except ValueError:
        raise LaminaValueError(f"bad autoencoder spec {spec!r}: sizes must be comma-separated "
                               f"integers like {'16,32' if conv else '784,128,32'}, got "
                               f"{parts[0]!r}") from None
    if conv:
        if len(in_shape) != 3:
            raise ShapeError(f"model {name!r} needs image input of shape (C, H, W), got "
                             f"in_shape={in_shape}; use a dense autoencoder for vector input")
        channels, h, w = in_shape
        sizes = [channels] + (sizes or list(DEFAULT_CONV_CHANNELS))
        factor = 2 ** (len(sizes) - 1)
        if h % factor or w % factor:
            raise ShapeError(f"model spec {spec!r}: {len(sizes) - 1} stride-2 stages need image "
                             f"sides divisible by {factor}, got {h}x{w}")
    else:
        flat = math.prod(in_shape)
        sizes = sizes or default_autoencoder_sizes(in_shape)
        if len(sizes) < 2:
            raise LaminaValueError(f"bad autoencoder spec {spec!r}: needs at least an input and "
                                   "a code size, e.g. autoencoder:784,128,32")
        if sizes[0] != flat:
            raise ShapeError(f"autoencoder spec {spec!r} starts with {sizes[0]} inputs but the "
                             f"data has in_shape={in_shape}, i.e. {flat} inputs once flattened")
    try:
        return Autoencoder(sizes, activation=activation, conv=conv)
    except LaminaValueError as error:
        raise LaminaValueError(f"bad autoencoder spec {spec!r}: {error}") from None


def _unknown(spec: str) -> LaminaValueError:
    return LaminaValueError(f"unknown model spec {spec!r}; known: {', '.join(KNOWN_SPECS)}")


def _image_shape(name: str, in_shape: tuple) -> tuple[int, int, int]:
    if len(in_shape) != 3:
        raise ShapeError(f"model {name!r} needs image input of shape (C, H, W), got "
                         f"in_shape={in_shape}; use an mlp for vector input")
    return in_shape


def _square_side(name: str, in_shape: tuple) -> int:
    _, h, w = _image_shape(name, in_shape)
    if h != w:
        raise ShapeError(f"model {name!r} needs square images, got H={h}, W={w}")
    return h


def _build_mlp(spec: str, body: str, in_shape: tuple, num_classes: int,
               dropout: float = 0.0) -> nn.Module:
    parts = body.split(":")
    if len(parts) > 3:
        raise LaminaValueError(
            f"bad mlp spec {spec!r}: expected mlp:<sizes>[:<activation>[:<init>]]")
    try:
        sizes = [int(s) for s in parts[0].split(",")]
    except ValueError:
        raise LaminaValueError(f"bad mlp spec {spec!r}: sizes must be comma-separated integers "
                               f"like 784,30,10, got {parts[0]!r}") from None
    if len(sizes) < 2:
        raise LaminaValueError(
            f"bad mlp spec {spec!r}: needs at least an input and an output size, e.g. 784,30,10")
    activation = parts[1] if len(parts) > 1 and parts[1] else "sigmoid"
    init = parts[2] if len(parts) > 2 and parts[2] else "default"
    flat = math.prod(in_shape)
    if sizes[0] != flat:
        raise ShapeError(f"mlp spec {spec!r} starts with {sizes[0]} inputs but the data has "
                         f"in_shape={in_shape}, i.e. {flat} inputs once flattened")
    if sizes[-1] != num_classes:
        raise ShapeError(f"mlp spec {spec!r} ends with {sizes[-1]} outputs but the data has "
                         f"{num_classes} classes")
    try:
        return mlp(sizes, activation=activation, init=init, dropout=dropout)
    except LaminaValueError as error:  # name the spec, keep mlp's list of accepted names
        raise LaminaValueError(f"bad mlp spec {spec!r}: {error}") from None


def build_model(spec: str, in_shape: tuple, num_classes: int,
                dropout: float | None = None) -> nn.Module:
    """Build the network that ``spec`` names for samples of shape ``in_shape``.

    Args:
        spec: a text spec (see the module docstring and ``MODEL_SPECS``).
        in_shape: one sample's shape without the batch axis, (C, H, W) or (D,).
        num_classes: number of outputs (ignored by the autoencoders, which output their input's
            shape).
        dropout: the dropout probability of the models that have dropout layers (mlp: after
            every hidden layer; tf-cnn and alexnet: their classifier's dropout); None keeps
            each model's default. Other models have no dropout and refuse a non-zero value.

    Raises:
        LaminaValueError: an unknown or malformed spec (the message lists the known ones).
        ShapeError: a spec that does not fit ``in_shape`` or ``num_classes``.

    >>> build_model("mlp:784,30,10", (1, 28, 28), 10)[1].weight.shape
    (30, 784)
    """
    if not isinstance(spec, str):
        raise LaminaValueError(f"a model spec must be a string, got {spec!r}")
    try:
        in_shape = tuple(int(d) for d in in_shape)
    except (TypeError, ValueError):
        raise LaminaValueError(f"in_shape must be a tuple of integers, got {in_shape!r}") from None
    if not in_shape or any(d < 1 for d in in_shape):
        raise ShapeError(f"in_shape must be a non-empty tuple of positive sizes, got {in_shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise LaminaValueError(f"num_classes must be a positive integer, got {num_classes!r}")

    text = re.sub(r"\s+", "", spec).lower()
    name, _, body = text.partition(":")
    if dropout is not None and not 0 <= dropout < 1:
        raise LaminaValueError(f"dropout must be in [0, 1), got {dropout}")
    if dropout and name not in ("mlp", "tf-cnn", "tf_cnn", "tfcnn", "alexnet"):
        raise LaminaValueError(f"model {name!r} has no dropout layer (dropout={dropout}); "
                               "dropout applies to mlp, tf-cnn and alexnet")
    extra = {} if dropout is None else {"dropout": dropout}
    if name == "mlp":
        return _build_mlp(spec, body, in_shape, num_classes, **extra)
    if name in AUTOENCODER_NAMES:
        return _build_autoencoder(spec, name, body, in_shape)
    if body:
        raise LaminaValueError(f"model spec {spec!r}: {name!r} takes no ':' options")
    if name in ("lenet5", "lenet"):
        channels = _image_shape(name, in_shape)[0]
        return lenet5(num_classes, channels, input_size=_square_side(name, in_shape))
    if name in ("tf-cnn", "tf_cnn", "tfcnn"):
        side = _square_side(name, in_shape)
        if side % 4:
            raise ShapeError(f"model 'tf-cnn' needs an image side divisible by 4, got {side}")
        return tf_cnn(num_classes, in_shape[0], input_size=side, **extra)
    if name == "alexnet":
        channels, h, w = _image_shape(name, in_shape)
        if min(h, w) < 15:  # three 3/2 max-pools must leave at least one pixel
            raise ShapeError(f"model 'alexnet' needs images of at least 15x15, got {h}x{w}")
        return alexnet(num_classes, channels, **extra)
    match = re.fullmatch(r"vgg(\d*)", name)
    if match:
        depth = int(match.group(1) or 11)
        if depth not in VGG_CONFIGS:
            raise LaminaValueError(f"model spec {spec!r}: VGG depth must be one of "
                                   f"{sorted(VGG_CONFIGS)}, got {depth}")
        channels, h, w = _image_shape(name, in_shape)
        if min(h, w) < 16:  # four 2x2 max-pools must leave at least one pixel
            raise ShapeError(f"model {name!r} needs images of at least 16x16, got {h}x{w}")
        return vgg(depth, num_classes, channels)
    match = re.fullmatch(r"resnet(\d+)", name)
    if match:
        depth = int(match.group(1))
        if depth < 8 or (depth - 2) % 6:
            raise LaminaValueError(f"model spec {spec!r}: ResNet depth must be 6n + 2 "
                                   f"(8, 14, 20, 32, ...), got {depth}")
        return resnet(depth, num_classes, _image_shape(name, in_shape)[0])
    if name == "googlenet":
        return googlenet(num_classes, _image_shape(name, in_shape)[0])
    raise _unknown(spec)

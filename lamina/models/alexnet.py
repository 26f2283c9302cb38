"""AlexNet: a small variant for 28x28 and 32x32 images, and the full ImageNet configuration.

Schwing & Telgarsky, "Deep Neural Networks", "Popular architectures", show AlexNet as the
example of "decreasing spatial resolution and the increasing number of channels", ask "Why is
the output 1000-dimensional?" (ImageNet's 1000 categories) and note that it "was run on the
GPU" and used "rectified linear units rather than sigmoid units"; they give no parameter
count. Grohs, "Introduction to (Convolutional) Neural Networks" (on the cost of training),
says "AlexNet, neural network with ~160m DOFs", and with ImageNet's ~1.2m images, "One step
of gradient descent requires ~2 * 10^14 flops" (1.2e6 x 1.6e8 = 1.9e14). The slide does not
say what its 160m counts.

What the counts are (weights plus biases, :meth:`lamina.nn.Module.num_parameters`):

=====================================================  ===========  =========================
configuration                                          parameters   builder
=====================================================  ===========  =========================
Krizhevsky et al. (2012), two GPU towers (96, 256,     60,965,224   ``alexnet_imagenet(
384, 384, 256 maps; conv 2, 4, 5 grouped by 2),                     grouped=True)``
224x224x3 in, 1000 classes: the paper's
"60 million parameters"
torchvision's single-tower AlexNet (64, 192, 384,      61,100,840   ``alexnet_imagenet()``
256, 256 maps), 224x224x3 in, 1000 classes
the small variant below, 3 x 32 x 32 in, 10 classes    about 0.35M  ``alexnet(10, 3)``
=====================================================  ===========  =========================

Both full configurations are about 61 million parameters, 58.6M of them (96%) in the three
fully connected layers (9216 -> 4096 -> 4096 -> 1000); the lecture's ~160m is its own figure,
about 2.6 times either. (The paper's local response normalisation has no parameters and is
left out here, so it changes no count.) ``lamina lab cnn-filters`` (without ``--quick``) prints
these counts as computed by :func:`parameter_counts`, and tests/models/test_alexnet_count.py
checks them against torch modules of the same layout.
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor

__all__ = ["AlexNet", "alexnet", "AlexNetImageNet", "alexnet_imagenet", "parameter_counts"]


class AlexNet(nn.Module):
    """AlexNet's layout, sized for 28x28 / 32x32 inputs (about 0.35M parameters).

    Architecture (``features``, ``avgpool``, ``classifier``, as torchvision names them)::

        conv 5x5 pad 2, 32 -> ReLU -> max-pool 3/2          28 -> 13   (32 -> 15)
        conv 3x3 pad 1, 64 -> ReLU -> max-pool 3/2          13 -> 6    (15 -> 7)
        conv 3x3 pad 1, 96 -> ReLU
        conv 3x3 pad 1, 96 -> ReLU
        conv 3x3 pad 1, 64 -> ReLU -> max-pool 3/2          6 -> 2     (7 -> 3)
        adaptive average pool to 2x2, flatten (64*2*2)
        dropout -> fc 256 -> ReLU -> dropout -> fc 256 -> ReLU -> fc num_classes

    Args:
        num_classes: number of outputs (logits).
        in_channels: input maps (1 for MNIST, 3 for CIFAR).
        dropout: dropout probability before the first two fully connected layers.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(64, 96, 3, padding=1), nn.ReLU(),
            nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(),
            nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(64 * 2 * 2, 256), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.reshape(x.shape[0], -1))


def alexnet(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5) -> AlexNet:
    """A small AlexNet for 28x28 or 32x32 images (see :class:`AlexNet`).

    >>> import lamina as lm
    >>> alexnet(10, 3)(lm.zeros(2, 3, 32, 32)).shape
    lamina.Size([2, 10])
    """
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)


class AlexNetImageNet(nn.Module):
    """AlexNet for 224x224x3 ImageNet images, torchvision's layout and parameter names.

    Architecture (``features``, ``avgpool``, ``classifier``; c = the maps of each convolution,
    (64, 192, 384, 256, 256) or, ``grouped``, Krizhevsky's (96, 256, 384, 384, 256) with the
    2nd, 4th and 5th convolutions split into ``groups=2`` (the two GPUs))::

        conv 11x11 stride 4 pad 2, c1 -> ReLU -> max-pool 3/2      224 -> 55 -> 27
        conv 5x5 pad 2, c2 -> ReLU -> max-pool 3/2                 27 -> 13
        conv 3x3 pad 1, c3 -> ReLU
        conv 3x3 pad 1, c4 -> ReLU
        conv 3x3 pad 1, c5 -> ReLU -> max-pool 3/2                 13 -> 6
        adaptive average pool to 6x6, flatten (256*6*6 = 9216)
        dropout -> fc 4096 -> ReLU -> dropout -> fc 4096 -> ReLU -> fc num_classes

    With ``grouped=False`` the state_dict keys and shapes are torchvision's
    ``alexnet()``'s, so its weights load directly.

    Args:
        num_classes: number of outputs (logits), 1000 for ImageNet.
        dropout: dropout probability before the first two fully connected layers.
        grouped: Krizhevsky et al.'s two-tower widths and grouped convolutions.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, grouped: bool = False):
        super().__init__()
        c1, c2, c3, c4, c5 = (96, 256, 384, 384, 256) if grouped else (64, 192, 384, 256, 256)
        g = 2 if grouped else 1
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c1, c2, 5, padding=2, groups=g), nn.ReLU(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1, groups=g), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1, groups=g), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.reshape(x.shape[0], -1))


def alexnet_imagenet(num_classes: int = 1000, dropout: float = 0.5,
                     grouped: bool = False) -> AlexNetImageNet:
    """The full AlexNet for 224x224x3 images (see :class:`AlexNetImageNet`): 61,100,840
    parameters, or 60,965,224 with Krizhevsky's grouped two-tower widths (``grouped=True``).

    >>> alexnet_imagenet().num_parameters()
    61100840
    """
    return AlexNetImageNet(num_classes=num_classes, dropout=dropout, grouped=grouped)


def parameter_counts() -> list[dict]:
    """For each AlexNet in the table of this module's docstring: ``name``, ``parameters``
    (weights + biases) and ``classifier`` (those in the fully connected layers), counted on
    the built module (this builds and initialises about 122 million parameters: a second or
    more)."""
    rows = []
    for name, build in (
            ("Krizhevsky et al. 2012 (two GPU towers, grouped convs), 224x224x3, 1000 classes",
             lambda: alexnet_imagenet(grouped=True)),
            ("torchvision's single-tower AlexNet, 224x224x3, 1000 classes", alexnet_imagenet),
            ("lamina's small alexnet(10, 3), 32x32x3, 10 classes", lambda: alexnet(10, 3))):
        model = build()
        rows.append({"name": name, "parameters": model.num_parameters(),
                     "classifier": model.classifier.num_parameters()})
    return rows

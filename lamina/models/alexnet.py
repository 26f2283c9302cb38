"""A small AlexNet for 28x28 and 32x32 images (Schwing & Telgarsky, Deep Neural Networks, "Popular architectures").

Seed 001 shows AlexNet as the example of "decreasing spatial resolution and the increasing
number of channels", and notes that it "was run on the GPU" and used "rectified linear units
rather than sigmoid units". The original (Krizhevsky et al., 2012) is five convolutions
(11x11/4 96, 5x5 256, 3x3 384, 3x3 384, 3x3 256) with overlapping 3x3/2 max-pooling after the
1st, 2nd and 5th, then fully connected 4096 -> 4096 -> 1000 with dropout, for 224x224 images
(61M parameters). This variant keeps that shape with widths and kernels cut for small images.
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor

__all__ = ["AlexNet", "alexnet"]


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
    (2, 10)
    """
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)

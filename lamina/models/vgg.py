"""Small VGG networks for 28x28 and 32x32 images (Schwing & Telgarsky, Deep Neural Networks, "Popular architectures":
"VGG (16/19 layers, mostly 3x3 convolutions)").

VGG (Simonyan & Zisserman, 2014) stacks 3x3 convolutions (padding 1, so the size is kept)
in stages separated by 2x2 max-pooling, doubling the width after each pool from 64 up to 512,
and ends with fully connected layers 4096 -> 4096 -> 1000. Two 3x3 convolutions see a 5x5
window with fewer parameters than one 5x5 convolution. The configurations below are the
paper's A (11 layers), B (13), D (16) and E (19) with the widths divided by 64 / ``width`` and
the fifth pool dropped: a 28x28 image is 1x1 after four halvings (28 -> 14 -> 7 -> 3 -> 1).
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..errors import LaminaValueError

__all__ = ["VGG", "vgg", "VGG_CONFIGS"]

# Widths as multiples of the first stage's; "M" is a 2x2 max-pool.
VGG_CONFIGS: dict[int, list] = {
    11: [1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8],
    13: [1, 1, "M", 2, 2, "M", 4, 4, "M", 8, 8, "M", 8, 8],
    16: [1, 1, "M", 2, 2, "M", 4, 4, 4, "M", 8, 8, 8, "M", 8, 8, 8],
    19: [1, 1, "M", 2, 2, "M", 4, 4, 4, 4, "M", 8, 8, 8, 8, "M", 8, 8, 8, 8],
}


class VGG(nn.Module):
    """A VGG-``depth`` network (depth = conv layers + 3 fully connected layers).

    Architecture: ``features`` (the configuration's 3x3 convolutions, each followed by
    [BatchNorm ->] ReLU, with 2x2 max-pools between stages) -> ``avgpool`` (adaptive
    average to 1x1) -> ``classifier`` (fc hidden -> ReLU -> dropout -> fc hidden -> ReLU ->
    dropout -> fc num_classes). With ``width=8`` VGG-11 has stages of 8, 16, 32, 64, 64 maps
    and about 0.17M parameters (VGG-19: 0.34M).

    Args:
        depth: 11, 13, 16 or 19.
        num_classes: number of outputs (logits).
        in_channels: input maps.
        width: maps of the first stage (64 in the paper).
        batch_norm: insert BatchNorm2d after every convolution (VGG-BN).
        hidden: width of the two hidden fully connected layers (4096 in the paper).
        dropout: dropout probability in the classifier.
    """

    def __init__(self, depth: int = 11, num_classes: int = 10, in_channels: int = 1,
                 width: int = 8, batch_norm: bool = False, hidden: int = 128,
                 dropout: float = 0.5):
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise LaminaValueError(f"unknown VGG depth {depth!r}; accepted: {sorted(VGG_CONFIGS)}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise LaminaValueError(f"VGG width must be a positive integer, got {width!r}")
        layers: list = []
        channels = in_channels
        for item in VGG_CONFIGS[depth]:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            out = item * width
            layers.append(nn.Conv2d(channels, out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU())
            channels = out
        self.depth = depth
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.reshape(x.shape[0], -1))


def vgg(depth: int = 11, num_classes: int = 10, in_channels: int = 1, width: int = 8,
        batch_norm: bool = False) -> VGG:
    """A small VGG-``depth`` (11, 13, 16 or 19) for 28x28 or 32x32 images (see :class:`VGG`).

    >>> import lamina as lm
    >>> vgg(11, 10, 3)(lm.zeros(2, 3, 32, 32)).shape
    (2, 10)
    """
    return VGG(depth=depth, num_classes=num_classes, in_channels=in_channels, width=width,
               batch_norm=batch_norm)

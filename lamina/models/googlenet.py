"""A small GoogLeNet for 28x28 and 32x32 images (Schwing & Telgarsky, Deep Neural Networks, "Popular architectures":
"GoogLeNet (inception module)"; a layer's output may feed several layers, not just the next).

The inception module (Szegedy et al., 2015) runs four branches side by side on the same input
and concatenates their maps along the channel axis:

    1x1 conv  |  1x1 conv -> 3x3 conv  |  1x1 conv -> 5x5 conv  |  3x3 max-pool -> 1x1 conv

The 1x1 convolutions before the 3x3 and 5x5 ones reduce the number of maps, so the expensive
convolutions see fewer inputs. Every convolution here is followed by BatchNorm and ReLU, as
in torchvision's ``BasicConv2d``.
"""
from __future__ import annotations

import lamina

from .. import nn
from ..autograd import Tensor

__all__ = ["Inception", "GoogLeNet", "googlenet"]


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """Convolution ('same' padding, no bias: BatchNorm has one) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU())


class Inception(nn.Module):
    """The inception module: four branches concatenated along dim 1.

    ``branch1``: 1x1 (ch1x1 maps); ``branch2``: 1x1 (ch3x3red) -> 3x3 (ch3x3);
    ``branch3``: 1x1 (ch5x5red) -> 5x5 (ch5x5); ``branch4``: 3x3 max-pool (stride 1, pad 1)
    -> 1x1 (pool_proj). Output maps: ch1x1 + ch3x3 + ch5x5 + pool_proj, same height and width.
    The argument names are torchvision's.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = _conv_bn_relu(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(_conv_bn_relu(in_channels, ch3x3red, 1),
                                     _conv_bn_relu(ch3x3red, ch3x3, 3))
        self.branch3 = nn.Sequential(_conv_bn_relu(in_channels, ch5x5red, 1),
                                     _conv_bn_relu(ch5x5red, ch5x5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                     _conv_bn_relu(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: Tensor) -> Tensor:
        return lamina.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)],
                          dim=1)


class GoogLeNet(nn.Module):
    """GoogLeNet's layout with four inception modules, for 28x28 / 32x32 inputs (about
    0.09M parameters).

    Architecture::

        stem: 3x3 conv, 32 -> BN -> ReLU -> max-pool 3/2 pad 1      28 -> 14  (32 -> 16)
        inception3a (-> 56 maps) -> inception3b (-> 88 maps) -> max-pool 3/2 pad 1  14 -> 7
        inception4a (-> 112 maps) -> inception4b (-> 144 maps)
        adaptive average pool to 1x1 -> dropout -> fc num_classes

    Args:
        num_classes: number of outputs (logits).
        in_channels: input maps.
        dropout: dropout probability before the classifier (0.4 in the paper).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.4):
        super().__init__()
        self.stem = _conv_bn_relu(in_channels, 32, 3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.inception3a = Inception(32, 16, 16, 24, 4, 8, 8)
        self.inception3b = Inception(56, 24, 24, 32, 8, 16, 16)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, padding=1)
        self.inception4a = Inception(88, 32, 32, 48, 8, 16, 16)
        self.inception4b = Inception(112, 40, 40, 56, 12, 24, 24)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(144, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool1(self.stem(x))
        x = self.maxpool2(self.inception3b(self.inception3a(x)))
        x = self.inception4b(self.inception4a(x))
        x = self.avgpool(x)
        return self.fc(self.dropout(x.reshape(x.shape[0], -1)))


def googlenet(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.4) -> GoogLeNet:
    """A small GoogLeNet for 28x28 or 32x32 images (see :class:`GoogLeNet`).

    >>> import lamina as lm
    >>> googlenet(10, 3)(lm.zeros(2, 3, 32, 32)).shape
    (2, 10)
    """
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)

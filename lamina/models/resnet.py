"""CIFAR-style residual networks (Schwing & Telgarsky, Deep Neural Networks, "Popular architectures": "ResNet (residual
connections)"; the seed also notes that a layer's output need not feed only the next layer).

A residual block learns a correction F to the identity, y = relu(F(x) + s(x)), with
F(x) = BN(conv3x3(relu(BN(conv3x3(x))))) and s the identity, or a 1x1 convolution + BN where
the block changes the width or halves the resolution. Gradients reach early layers through
the identity paths undiminished, which is what lets such networks be deep. He et al. (2016,
section 4.2) use depth 6n + 2 on 32x32 images: a 3x3 convolution with 16 maps, three stages
of n blocks with 16, 32 and 64 maps (the 2nd and 3rd start with stride 2), global average
pooling and one fully connected layer: ResNet-8 (n = 1), -14 (n = 2), -20 (n = 3, 0.27M
parameters).
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..errors import LaminaValueError
from ..nn import functional as F

__all__ = ["BasicBlock", "ResNet", "resnet"]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a shortcut: y = relu(F(x) + s(x)).

    ``downsample`` (as torchvision names it) is None for the identity shortcut and a
    1x1 convolution (stride ``stride``, no bias) + BatchNorm when the shape changes.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.downsample = None

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class ResNet(nn.Module):
    """A CIFAR-style ResNet of depth 6n + 2 (8, 14, 20, 32, ...).

    Architecture: ``conv1`` 3x3, 16 maps, no bias -> ``bn1`` -> ReLU -> ``layer1`` (n blocks,
    16 maps) -> ``layer2`` (n blocks, 32 maps, first with stride 2) -> ``layer3`` (n blocks,
    64 maps, first with stride 2) -> ``avgpool`` (adaptive to 1x1) -> ``fc`` num_classes.
    A 28x28 input becomes 7x7 before pooling, a 32x32 one 8x8.

    Args:
        depth: 6n + 2 with n >= 1 (8, 14, 20, ...).
        num_classes: number of outputs (logits).
        in_channels: input maps.
        width: maps of the first stage (16 in the paper); stages have width, 2*width, 4*width.
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, in_channels: int = 1,
                 width: int = 16):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise LaminaValueError(
                f"ResNet depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, ...), got {depth!r}")
        blocks = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._stage(width, width, blocks, stride=1)
        self.layer2 = self._stage(width, 2 * width, blocks, stride=2)
        self.layer3 = self._stage(2 * width, 4 * width, blocks, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)

    @staticmethod
    def _stage(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
        layers = [BasicBlock(in_channels, out_channels, stride)]
        layers += [BasicBlock(out_channels, out_channels) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        return self.fc(x.reshape(x.shape[0], -1))


def resnet(depth: int = 20, num_classes: int = 10, in_channels: int = 1) -> ResNet:
    """A CIFAR-style ResNet-``depth`` (8, 14, 20, ...) for 28x28 or 32x32 images.

    >>> import lamina as lm
    >>> resnet(8, 10, 3)(lm.zeros(2, 3, 32, 32)).shape
    (2, 10)
    """
    return ResNet(depth=depth, num_classes=num_classes, in_channels=in_channels)

"""LeNet-5, as written in Schwing & Telgarsky's PyTorch example (``PyTorchCS446.py``).

The lecture's ``Net``::

    conv1 = Conv2d(1, 6, 5);  conv2 = Conv2d(6, 16, 5)
    fc1 = Linear(16 * 5 * 5, 120);  fc2 = Linear(120, 84);  fc3 = Linear(84, 10)
    x = max_pool2d(relu(conv1(x)), (2, 2));  x = max_pool2d(relu(conv2(x)), 2)
    x = relu(fc1(flat(x)));  x = relu(fc2(x));  x = fc3(x)

It expects 32x32 inputs ("What are the input dimensions?" asks the slide: 32 -> 28 -> 14 -> 10
-> 5). MNIST digits are 28x28, so for them conv1 pads by 2 pixels, as LeCun et al. padded the
digits to 32x32; padding has no parameters, so the state dict is the seed's.
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..errors import LaminaValueError
from ..nn import functional as F

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """Schwing & Telgarsky's LeNet ``Net`` with the same attribute names, so state dicts load both ways.

    Architecture (for a 32x32 input, or a 28x28 one padded by 2 in conv1):
    ``conv1 5x5, 6 maps -> ReLU -> max-pool 2 -> conv2 5x5, 16 maps -> ReLU -> max-pool 2
    -> flatten (16*5*5) -> fc1 120 -> ReLU -> fc2 84 -> ReLU -> fc3 num_classes`` (logits).

    Args:
        num_classes: output size of fc3 (10 in the lecture).
        in_channels: input maps (1 for MNIST, 3 for CIFAR).
        input_size: side of the square input; 28 pads conv1 by 2, any other size >= 16 is
            used unpadded and sets fc1's input to 16 * s * s with s = ((input_size - 4) // 2
            - 4) // 2 (s = 5 for 32).

    >>> import lamina as lm
    >>> LeNet5()(lm.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28):
        super().__init__()
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 16:
            raise LaminaValueError(
                f"LeNet5 needs a square input of side >= 16 (28 or 32 usually), got {input_size!r}")
        padding = 2 if input_size == 28 else 0
        side = ((input_size + 2 * padding - 4) // 2 - 4) // 2
        self.input_size = input_size
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.reshape(x.shape[0], -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet5(num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> LeNet5:
    """Schwing & Telgarsky's LeNet-5 (see :class:`LeNet5`); 28x28 inputs are padded by 2 in conv1."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, input_size=input_size)

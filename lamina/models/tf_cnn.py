"""The convolutional network of Grohs's TensorFlow MNIST example ("Convolutional Neural
Networks").

The lecture's code::

    W_conv1 = weight_variable([5, 5, 1, 32])     # maps one grayscale image to 32 feature maps
    h_pool1 = max_pool_2x2(relu(conv2d(x_image, W_conv1) + b_conv1))
    W_conv2 = weight_variable([5, 5, 32, 64])    # maps 32 feature maps to 64
    h_pool2 = max_pool_2x2(relu(conv2d(h_pool1, W_conv2) + b_conv2))
    W_fc1 = weight_variable([7 * 7 * 64, 1024])  # after 2 rounds of downsampling, 28x28 -> 7x7
    h_fc1 = relu(matmul(h_pool2_flat, W_fc1) + b_fc1)
    W_fc2 = weight_variable([1024, 10]);  y_conv = matmul(h_fc1, W_fc2) + b_fc2

``conv2d`` there uses ``padding='SAME'`` and stride 1, so a 5x5 kernel is padded by 2. The
tutorial applies dropout to ``h_fc1`` before the last layer. Weights use PyTorch's layout
(out, in, kH, kW) rather than TensorFlow's (kH, kW, in, out).
"""
from __future__ import annotations

from .. import nn
from ..autograd import Tensor
from ..errors import LaminaValueError
from ..nn import functional as F

__all__ = ["TFCNN", "tf_cnn"]


class TFCNN(nn.Module):
    """Grohs's TensorFlow CNN for MNIST (about 3.3 million parameters, most in fc1).

    Architecture: ``conv1 5x5 'same', 32 maps -> ReLU -> max-pool 2 -> conv2 5x5 'same',
    64 maps -> ReLU -> max-pool 2 -> flatten (7*7*64) -> fc1 1024 -> ReLU -> dropout -> fc2
    num_classes`` (logits). For a 32x32 input the flat size is 8*8*64.

    Args:
        num_classes: output size of fc2.
        in_channels: input maps (1 in the lecture).
        dropout: dropout probability on fc1's output (the tutorial keeps 50%).
        input_size: side of the square input, divisible by 4 (28 in the lecture).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5,
                 input_size: int = 28):
        super().__init__()
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 4 \
                or input_size % 4:
            raise LaminaValueError(
                f"tf_cnn needs a square input whose side is a multiple of 4 (28 in the "
                f"lecture), got {input_size!r}")
        side = input_size // 4
        self.conv1 = nn.Conv2d(in_channels, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(side * side * 64, 1024)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.reshape(x.shape[0], -1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def tf_cnn(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5,
           input_size: int = 28) -> TFCNN:
    """Grohs's TensorFlow MNIST CNN as a lamina module (see :class:`TFCNN`).

    >>> import lamina as lm
    >>> tf_cnn()(lm.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """
    return TFCNN(num_classes=num_classes, in_channels=in_channels, dropout=dropout,
                 input_size=input_size)

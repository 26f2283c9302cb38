"""The reference networks, written once, on whichever library is passed in.

``reference_models(library)`` defines the classes on ``library.nn`` and
``library.nn.functional`` (``torch`` or ``lamina``): PyTorch twins of ``lamina.models``,
layer for layer, with lamina's attribute names and parameter layouts, so that a state dict
moves between the two unchanged, and seed 001's ``Net`` (Schwing & Telgarsky, "Deep Neural
Networks": the lecture's PyTorch example) as on the slide. Nothing is imported here: a
NumPy-only install imports this module and simply never asks for the torch classes.

>>> import torch
>>> net = reference_models(torch).Net(padding=2)        # LeNet-5 on 28x28 MNIST images
"""
from __future__ import annotations

import functools
import types


@functools.cache
def reference_models(library) -> types.SimpleNamespace:
    """The reference networks on ``library`` (the module ``torch`` or ``lamina``)."""
    nn, F = library.nn, library.nn.functional

    class Net(nn.Module):
        """Seed 001's Net (LeNet-5): conv 5x5 -> max-pool 2 -> conv 5x5 -> max-pool 2 -> three
        fully connected layers, ReLU between. ``__init__`` and ``forward`` are the slide's,
        ``num_flat_features`` the PyTorch tutorial's it comes from; ``in_channels`` and
        ``padding`` (2 takes 28x28 MNIST images to the slide's 32x32) default to the slide."""

        def __init__(self, in_channels=1, padding=0):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, self.num_flat_features(x))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

        def num_flat_features(self, x):
            size = x.size()[1:]
            num_features = 1
            for s in size:
                num_features *= s
            return num_features

    class TFCNN(nn.Module):
        """Seed 000's TensorFlow CNN: two 5x5 'same' convolutions (32 and 64 maps), each
        followed by ReLU and a 2x2 max-pool, a 1024-unit layer, dropout, 10 outputs. ``side``
        is the input side / 4; ``dropout`` replaces ``nn.Dropout(0.5)`` (a module drawing its
        masks as another library does, say)."""

        def __init__(self, in_channels=1, side=7, dropout=None):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, 32, 5, padding=2)
            self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
            self.fc1 = nn.Linear(side * side * 64, 1024)
            self.dropout = nn.Dropout(0.5) if dropout is None else dropout
            self.fc2 = nn.Linear(1024, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc2(self.dropout(F.relu(self.fc1(x.flatten(1)))))

    class HeadNet(nn.Module):
        """features -> avgpool -> flatten -> classifier (torchvision's AlexNet/VGG layout)."""

        def __init__(self, features, avgpool, classifier):
            super().__init__()
            self.features, self.avgpool, self.classifier = features, avgpool, classifier

        def forward(self, x):
            return self.classifier(self.avgpool(self.features(x)).flatten(1))

    def alexnet(in_channels):
        """lamina's small AlexNet (``alexnet(10, in_channels)``)."""
        return HeadNet(
            nn.Sequential(nn.Conv2d(in_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
                          nn.Conv2d(64, 96, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2)),
            nn.AdaptiveAvgPool2d(2),
            nn.Sequential(nn.Dropout(), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(),
                          nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)))

    def vgg(in_channels, config, width=8, batch_norm=False, hidden=128):
        """lamina's VGG: ``config`` lists conv widths (times ``width``) and "M" for max-pools."""
        layers, c = [], in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers += [nn.Conv2d(c, item * width, 3, padding=1)]
            layers += [nn.BatchNorm2d(item * width)] if batch_norm else []
            layers += [nn.ReLU()]
            c = item * width
        return HeadNet(nn.Sequential(*layers), nn.AdaptiveAvgPool2d(1), nn.Sequential(
            nn.Linear(c, hidden), nn.ReLU(), nn.Dropout(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Dropout(), nn.Linear(hidden, 10)))

    class BasicBlock(nn.Module):
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convolutions."""

        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + identity)

    class ResNet(nn.Module):
        """The CIFAR ResNet of depth 6n + 2: three stages of n blocks (16, 32, 64 maps)."""

        def __init__(self, depth, in_channels):
            super().__init__()
            n = (depth - 2) // 6
            self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)

            def stage(a, b, s):
                return nn.Sequential(BasicBlock(a, b, s), *[BasicBlock(b, b) for _ in range(n - 1)])

            self.layer1, self.layer2, self.layer3 = stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
            return self.fc(self.avgpool(x).flatten(1))

    def conv_bn_relu(cin, cout, k):
        return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU())

    class Inception(nn.Module):
        """Four branches (1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool -> 1x1), concatenated."""

        def __init__(self, cin, c1, c3r, c3, c5r, c5, cp):
            super().__init__()
            self.branch1 = conv_bn_relu(cin, c1, 1)
            self.branch2 = nn.Sequential(conv_bn_relu(cin, c3r, 1), conv_bn_relu(c3r, c3, 3))
            self.branch3 = nn.Sequential(conv_bn_relu(cin, c5r, 1), conv_bn_relu(c5r, c5, 5))
            self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn_relu(cin, cp, 1))

        def forward(self, x):
            return library.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)

    class GoogLeNet(nn.Module):
        """lamina's small GoogLeNet: a stem, four inception modules, pooling, dropout, fc."""

        def __init__(self, in_channels):
            super().__init__()
            self.stem = conv_bn_relu(in_channels, 32, 3)
            self.maxpool1 = nn.MaxPool2d(3, 2, 1)
            self.inception3a = Inception(32, 16, 16, 24, 4, 8, 8)
            self.inception3b = Inception(56, 24, 24, 32, 8, 16, 16)
            self.maxpool2 = nn.MaxPool2d(3, 2, 1)
            self.inception4a = Inception(88, 32, 32, 48, 8, 16, 16)
            self.inception4b = Inception(112, 40, 40, 56, 12, 24, 24)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.dropout = nn.Dropout(0.4)
            self.fc = nn.Linear(144, 10)

        def forward(self, x):
            x = self.maxpool2(self.inception3b(self.inception3a(self.maxpool1(self.stem(x)))))
            x = self.avgpool(self.inception4b(self.inception4a(x)))
            return self.fc(self.dropout(x.flatten(1)))

    return types.SimpleNamespace(Net=Net, TFCNN=TFCNN, alexnet=alexnet, vgg=vgg, ResNet=ResNet,
                                 BasicBlock=BasicBlock, GoogLeNet=GoogLeNet)

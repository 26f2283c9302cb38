"""The lectures' networks as ready-made lamina modules, and the text specs of ``lamina train``.

==================  ============================================  =============================
builder             network                                       lecture
==================  ============================================  =============================
``mlp``             fully connected, sizes like [784, 30, 10]     Grohs, Introduction to (Convolutional) Neural Networks, The Basic Recipe
``lenet5``          LeNet-5 (the ``Net`` of PyTorchCS446.py)      Schwing & Telgarsky, Deep Neural Networks
``tf_cnn``          the TensorFlow MNIST CNN (32, 64 maps, 1024)  Grohs, Introduction to (Convolutional) Neural Networks, CNNs
``alexnet``         small AlexNet                                 Schwing & Telgarsky, Deep Neural Networks, Popular architectures
``vgg``             small VGG-11/13/16/19                         Schwing & Telgarsky, Deep Neural Networks, Popular architectures
``resnet``          CIFAR-style ResNet-8/14/20                    Schwing & Telgarsky, Deep Neural Networks, Popular architectures
``googlenet``       small GoogLeNet (inception modules)           Schwing & Telgarsky, Deep Neural Networks, Popular architectures
``Autoencoder``     dense or convolutional autoencoder            Grohs, Introduction to (Convolutional) Neural Networks, What I didn't tell you
==================  ============================================  =============================

All take (N, C, H, W) images (the mlp also (N, D) vectors) and return logits (N, classes);
the convolutional ones work for 28x28 (MNIST) and 32x32 (CIFAR) inputs. An ``Autoencoder``
returns its reconstruction of the input, in the input's shape.

>>> import lamina as lm
>>> from lamina.models import build_model
>>> build_model("lenet5", (1, 28, 28), 10)(lm.zeros(4, 1, 28, 28)).shape
(4, 10)
"""
from .alexnet import AlexNet, AlexNetImageNet, alexnet, alexnet_imagenet, parameter_counts
from .autoencoder import Autoencoder, NearestUpsample2d
from .googlenet import GoogLeNet, Inception, googlenet
from .lenet import LeNet5, lenet5
from .mlp import ACTIVATIONS, INITS, mlp
from .resnet import BasicBlock, ResNet, resnet
from .spec import KNOWN_SPECS, MODEL_SPECS, build_model
from .tf_cnn import TFCNN, tf_cnn
from .vgg import VGG, VGG_CONFIGS, vgg

__all__ = ["mlp", "ACTIVATIONS", "INITS", "LeNet5", "lenet5", "TFCNN", "tf_cnn", "AlexNet",
           "alexnet", "AlexNetImageNet", "alexnet_imagenet", "parameter_counts", "VGG", "VGG_CONFIGS", "vgg", "BasicBlock", "ResNet", "resnet", "Inception",
           "GoogLeNet", "googlenet", "Autoencoder", "NearestUpsample2d", "build_model", "MODEL_SPECS",
           "KNOWN_SPECS"]

"""Autoencoders: a network trained to give back its own input through a narrow code.

An autoencoder is two networks in a row, an encoder ``f: R^d -> R^k`` and a decoder
``g: R^k -> R^d``, trained without labels to minimise the reconstruction error

    min_{f, g}  1/m sum_{i=1}^m ||g(f(x_i)) - x_i||^2      (the mean squared error)

(or, for pixels in [0, 1], the binary cross-entropy between x_i and g(f(x_i))). With a code
size k < d the network cannot copy its input; it must keep what matters about the data in
the k numbers of the code z = f(x). With affine f and g (no non-linearity) the best code
spans the same subspace as principal component analysis with k components (Baldi & Hornik,
1989), so PCA is the baseline a non-linear autoencoder has to beat.

Lecture context: Grohs, "Introduction to (Convolutional) Neural Networks", section 8 ("What
I didn't tell you"), names "things to do besides regression or classification" and "more
sophisticated training procedures for feature extractor layers (Autoencoder, Restricted
Boltzmann Machines, ...)": an autoencoder's encoder is such a feature extractor, learned
from unlabelled images, and its code can feed a classifier as the CNN part of the lecture's
"feature extractor vs. classifier" architectures does.

Two kinds:

- dense, sizes ``[d_0, d_1, ..., d_k]``: encoder ``Flatten -> Linear(d_0, d_1) -> rho -> ...
  -> Linear(d_{k-1}, d_k)`` (the code layer is affine), decoder the mirror image
  ``Linear(d_k, d_{k-1}) -> rho -> ... -> Linear(d_1, d_0) -> sigma`` with an output
  activation sigma (sigmoid for [0, 1] pixels), reshaped back to the input's shape;
- convolutional, channels ``[C, c_1, ..., c_k]`` for (C, H, W) images: each encoder stage a
  3x3 convolution with stride 2 (halving H and W), each decoder stage a nearest-neighbour
  2x upsampling followed by a 3x3 convolution with padding 1 (lamina has no ConvTranspose2d;
  upsample-then-convolve is the usual replacement and avoids its checkerboard artefacts).
  H and W must be divisible by 2^k.
"""
from __future__ import annotations

import numbers
from typing import Sequence

from .. import nn
from ..errors import LaminaTypeError, LaminaValueError, ShapeError
from .mlp import ACTIVATIONS, mlp

__all__ = ["Autoencoder", "NearestUpsample2d"]


class NearestUpsample2d(nn.Module):
    """Nearest-neighbour upsampling of (N, C, H, W) images by an integer factor s:
    ``y[n, c, i, j] = x[n, c, floor(i / s), floor(j / s)]``, shape (N, C, s H, s W).

    Built from reshape and expand, so its gradient is theirs: each input pixel receives the
    sum of the gradients of its s x s block. The same map as
    ``torch.nn.Upsample(scale_factor=s, mode="nearest")``.
    """

    def __init__(self, scale_factor: int = 2) -> None:
        super().__init__()
        if isinstance(scale_factor, bool) or not isinstance(scale_factor, numbers.Integral) \
                or scale_factor < 1:
            raise LaminaValueError(f"scale_factor must be a positive integer, got {scale_factor!r}")
        self.scale_factor = int(scale_factor)

    def forward(self, input):
        if input.ndim != 4:
            raise ShapeError(f"NearestUpsample2d expects (N, C, H, W) input, got shape "
                             f"{tuple(input.shape)}")
        n, c, h, w = input.shape
        s = self.scale_factor
        blocks = input.reshape(n, c, h, 1, w, 1).expand(n, c, h, s, w, s)
        return blocks.reshape(n, c, h * s, w * s)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode='nearest'"


def _activation_module(name: str, what: str) -> nn.Module:
    key = name.lower().replace("-", "_") if isinstance(name, str) else name
    if key not in ACTIVATIONS:
        raise LaminaValueError(f"unknown {what} {name!r}; accepted: {sorted(ACTIVATIONS)}")
    return getattr(nn, ACTIVATIONS[key])()


def _sizes(spec, what: str) -> list[int]:
    """``spec`` ("784,128,32" or a sequence of integers) as a list of at least two sizes."""
    if isinstance(spec, str):
        try:
            spec = [int(s) for s in spec.replace(" ", "").split(",")]
        except ValueError:
            raise LaminaValueError(f"autoencoder {what} must be comma-separated integers like "
                                   f"784,128,32, got {spec!r}") from None
    if isinstance(spec, bytes) or not hasattr(spec, "__len__"):
        raise LaminaTypeError(f"autoencoder {what} must be a list of integers or a string like "
                              f"'784,128,32', got {spec!r}")
    sizes = list(spec)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise LaminaValueError(f"autoencoder {what} must be positive integers, got {sizes}")
    if len(sizes) < 2:
        raise LaminaValueError(f"an autoencoder needs at least an input and a code {what[:-1]} "
                               f"size, e.g. 784,128,32; got {sizes}")
    return [int(s) for s in sizes]


class Autoencoder(nn.Module):
    """An encoder ``f`` and a mirrored decoder ``g``, trained to minimise ||g(f(x)) - x||^2.

    Args:
        spec: dense: the sizes ``[d_0, ..., d_k]`` (or the string ``"784,128,32"``), input
            size first, code size last; convolutional (``conv=True``): the channels
            ``[C, c_1, ..., c_k]``, image channels first.
        activation: the hidden units' non-linearity rho, one of ``lamina.models.ACTIVATIONS``
            (after every layer except the code layer and the output layer).
        output_activation: sigma after the decoder's last layer: ``'sigmoid'`` (pixels in
            [0, 1], and what the binary cross-entropy needs), another activation name, or None
            for an affine output.
        conv: build the convolutional autoencoder.
        init: the dense layers' initialisation (as in :func:`lamina.models.mlp`).

    Attributes: ``encoder`` and ``decoder`` (``nn.Sequential``), ``sizes`` (the spec as a
    list), ``conv``. ``forward(x)`` returns the reconstruction in the shape of ``x``,
    ``encode(x)`` the code (N, d_k) (convolutional: the (N, c_k, H / 2^k, W / 2^k) map),
    ``decode(z)`` the decoder's output (dense: flat (N, d_0)).

    >>> import lamina as lm
    >>> ae, x = Autoencoder([784, 128, 32]), lm.rand(5, 1, 28, 28)
    >>> tuple(ae(x).shape), tuple(ae.encode(x).shape)
    ((5, 1, 28, 28), (5, 32))
    >>> tuple(Autoencoder([1, 16, 32], conv=True).encode(x).shape)
    (5, 32, 7, 7)
    """

    def __init__(self, spec: Sequence[int] | str, activation: str = "relu",
                 output_activation: str | None = "sigmoid", conv: bool = False,
                 init: str = "default") -> None:
        super().__init__()
        self.conv = bool(conv)
        self.sizes = _sizes(spec, "channels" if self.conv else "sizes")
        self.activation = activation
        self.output_activation = output_activation
        if self.conv:
            self.encoder, self.decoder = self._conv_parts(activation, output_activation)
        else:
            self.encoder = mlp(self.sizes, activation=activation, init=init)
            self.decoder = mlp(self.sizes[::-1], activation=activation, init=init,
                               output_activation=output_activation)

    def _conv_parts(self, activation: str, output_activation: str | None):
        channels = self.sizes
        _activation_module(activation, "activation")  # fail early, even for one stage
        encoder: list = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            encoder.append(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1))
            if i < len(channels) - 2:
                encoder.append(_activation_module(activation, "activation"))
        decoder: list = []
        reversed_channels = channels[::-1]
        for i, (c_in, c_out) in enumerate(zip(reversed_channels[:-1], reversed_channels[1:])):
            decoder += [NearestUpsample2d(2), nn.Conv2d(c_in, c_out, 3, padding=1)]
            if i < len(channels) - 2:
                decoder.append(_activation_module(activation, "activation"))
        if output_activation is not None:
            decoder.append(_activation_module(output_activation, "output_activation"))
        return nn.Sequential(*encoder), nn.Sequential(*decoder)

    @property
    def code_size(self) -> int:
        """The code's size d_k (dense) or channel count c_k (convolutional)."""
        return self.sizes[-1]

    def _check_input(self, x) -> None:
        if self.conv:
            if x.ndim != 4 or x.shape[1] != self.sizes[0]:
                raise ShapeError(f"convolutional autoencoder with channels {self.sizes} expects "
                                 f"(N, {self.sizes[0]}, H, W) images, got shape {tuple(x.shape)}")
            factor = 2 ** (len(self.sizes) - 1)
            h, w = x.shape[2], x.shape[3]
            if h % factor or w % factor:
                raise ShapeError(f"convolutional autoencoder with {len(self.sizes) - 1} stride-2 "
                                 f"stages needs H and W divisible by {factor}, got {h}x{w}")
            return
        flat = 1
        for d in tuple(x.shape)[1:]:
            flat *= d
        if x.ndim < 2 or flat != self.sizes[0]:
            raise ShapeError(f"autoencoder with sizes {self.sizes} expects (N, ...) inputs of "
                             f"{self.sizes[0]} values each, got shape {tuple(x.shape)}")

    def encode(self, x):
        """The code z = f(x)."""
        self._check_input(x)
        return self.encoder(x)

    def decode(self, z):
        """The decoder's output g(z) (dense: flat rows of d_0 values)."""
        return self.decoder(z)

    def forward(self, x):
        """The reconstruction g(f(x)), in the shape of ``x``."""
        out = self.decoder(self.encode(x))
        return out if self.conv else out.reshape(tuple(x.shape))

    def extra_repr(self) -> str:
        kind = "conv" if self.conv else "dense"
        return (f"{kind}, sizes={self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}")

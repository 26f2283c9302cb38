"""Batch transforms: preprocessing and data augmentation on whole batches of arrays.

"Use invariances in the data set to generate more data" (Grohs, Introduction to (Convolutional) Neural Networks): a digit shifted by
a pixel or rotated by a few degrees is still the same digit, so training on randomly
shifted and rotated copies teaches the network that invariance for free. Every transform
here takes a whole batch, an array (N, C, H, W) of images (or (N,) labels for
:class:`OneHot`), and returns a new array, vectorised over the batch: the random ones draw
all their parameters for the batch at once from the NumPy ``Generator`` they are given
(the :class:`~lamina.data.DataLoader` passes one derived from its seed and epoch), else
from lamina's global generator (:func:`lamina.manual_seed`).

>>> augment = Compose([RandomShift(2), RandomRotation(10), Normalize(0.1307, 0.3081)])
>>> x = augment(images, rng)          # images: float32 (N, 1, 28, 28)
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import random as _random
from ..errors import LaminaValueError, ShapeError

__all__ = ["Transform", "Compose", "Normalize", "OneHot", "Flatten", "RandomShift",
           "RandomRotation", "RandomHorizontalFlip", "GaussianNoise", "apply_transform"]


def _generator(rng: np.random.Generator | None) -> np.random.Generator:
    # manual_seed reseeds the global generator in place, so this object is always current.
    return rng if rng is not None else _random.generator()


def apply_transform(transform: Callable | None, batch: np.ndarray,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Apply ``transform`` to ``batch``: lamina transforms get ``rng``, plain callables not."""
    if transform is None:
        return batch
    if isinstance(transform, Transform):
        return transform(batch, rng)
    return transform(batch)


def _images(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim != 4:
        raise ShapeError(f"{name} expects a batch of images (N, C, H, W), got shape {x.shape}")
    return x


class Transform:
    """Base class: ``t(batch, rng=None)`` returns the transformed batch as a new array."""

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        raise LaminaValueError(f"{type(self).__name__} does not define __call__")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose(Transform):
    """Apply transforms in order, passing each the same generator."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x, rng=None):
        rng = _generator(rng) if any(isinstance(t, Transform) for t in self.transforms) else rng
        for t in self.transforms:
            x = apply_transform(t, x, rng)
        return x


class Normalize(Transform):
    """Standardise per channel: x_c <- (x_c - mean_c) / std_c.

    ``mean`` and ``std`` are numbers or one value per channel (axis 1). MNIST's usual
    values are 0.1307 and 0.3081. Keeps the batch's float dtype.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.ndim > 1 or self.std.ndim > 1 or np.any(self.std <= 0):
            raise LaminaValueError(f"Normalize needs scalar or per-channel mean and positive std, "
                                   f"got mean={mean!r}, std={std!r}")

    def __call__(self, x, rng=None):
        channels = max(self.mean.size if self.mean.ndim else 1, self.std.size if self.std.ndim else 1)
        if channels > 1 and (x.ndim < 2 or x.shape[1] != channels):
            raise ShapeError(f"Normalize has {channels} channel values but the batch has shape "
                             f"{x.shape} (channels on axis 1)")
        shape = (1, -1) + (1,) * (x.ndim - 2) if channels > 1 else ()
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        mean = np.broadcast_to(self.mean, (channels,)).reshape(shape).astype(dtype)
        scale = (1.0 / np.broadcast_to(self.std, (channels,))).reshape(shape).astype(dtype)
        return (x - mean) * scale


class OneHot(Transform):
    """Labels (N,) -> one-hot rows (N, num_classes) of float32 (for targets)."""

    def __init__(self, num_classes: int, dtype=np.float32) -> None:
        if num_classes < 1:
            raise LaminaValueError(f"OneHot needs num_classes >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.dtype = np.dtype(dtype)

    def __call__(self, y, rng=None):
        y = np.asarray(y)
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise LaminaValueError(f"OneHot({self.num_classes}) got labels in "
                                   f"[{y.min()}, {y.max()}], expected 0..{self.num_classes - 1}")
        return np.eye(self.num_classes, dtype=self.dtype)[y]


class Flatten(Transform):
    """Reshape (N, C, H, W) -> (N, C*H*W) for a fully connected network (a view, no copy)."""

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = start_dim

    def __call__(self, x, rng=None):
        return x.reshape(x.shape[:self.start_dim] + (-1,))


class _ZeroPadded:
    """A batch with a zero border, flattened, for gathering pixels at arbitrary positions.

    Callers clip positions into the border, so any position outside the image reads zero
    without a mask; one ``np.take`` on the flat array serves the whole batch.
    The border is 1 pixel above/left and 2 below/right (bilinear reads position + 1).
    """

    def __init__(self, x: np.ndarray) -> None:
        n, c, h, w = x.shape
        self.h, self.w, self.wp = h, w, w + 3
        padded = np.zeros((n * c, h + 3, w + 3), dtype=x.dtype)
        padded[:, 1:h + 1, 1:w + 1] = x.reshape(n * c, h, w)
        self.flat = padded.reshape(-1)
        # Offset of image (n, c) in the flat array, shaped to broadcast against (n, 1, H*W).
        self.base = (np.arange(n * c) * ((h + 3) * (w + 3))).reshape(n, c, 1)

    def index(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Flat indices (n, 1, H*W) of integer positions (n, H, W) in [-1, H] x [-1, W]."""
        flat = (rows + 1) * self.wp + (cols + 1)
        return flat.reshape(flat.shape[0], 1, -1)

    def take(self, index: np.ndarray, offset: int = 0) -> np.ndarray:
        """Pixels at ``index + offset`` for every channel: shape (n, c, H*W)."""
        return np.take(self.flat, self.base + (index + offset if offset else index))


class RandomShift(Transform):
    """Translate each image by whole pixels drawn uniformly from [-max_pixels, max_pixels].

    The shift (dy, dx) is drawn per image; out[i, j] = in[i - dy, j - dx], with zeros where
    that falls outside. All images are moved by one gather of blocks over the batch.
    """

    def __init__(self, max_pixels: int = 2) -> None:
        if max_pixels < 0:
            raise LaminaValueError(f"RandomShift needs max_pixels >= 0, got {max_pixels}")
        self.max_pixels = int(max_pixels)

    def __call__(self, x, rng=None):
        n, c, h, w = _images(x, "RandomShift").shape
        m = self.max_pixels
        shift = _generator(rng).integers(-m, m + 1, size=(n, 2))
        padded = np.zeros((n, c, h + 2 * m, w + 2 * m), dtype=x.dtype)
        padded[:, :, m:m + h, m:m + w] = x
        # windows[n, c, i, j] is the (h, w) view starting at (i, j) of the padded image;
        # image n takes the one at (m - dy, m - dx): a gather of whole blocks.
        windows = sliding_window_view(padded, (h, w), axis=(2, 3))
        return windows[np.arange(n)[:, None], np.arange(c)[None, :],
                       (m - shift[:, 0])[:, None], (m - shift[:, 1])[:, None]]


class RandomRotation(Transform):
    """Rotate each image about its centre by an angle drawn from [-max_degrees, max_degrees].

    Output pixel p takes the input at R(-theta) (p - c) + c, c the image centre, by
    bilinear interpolation of the four neighbours (or ``interpolation="nearest"``); pixels
    from outside the image are zero. One set of gathers covers the whole batch.
    """

    def __init__(self, max_degrees: float = 10.0, interpolation: str = "bilinear") -> None:
        if max_degrees < 0:
            raise LaminaValueError(f"RandomRotation needs max_degrees >= 0, got {max_degrees}")
        if interpolation not in ("bilinear", "nearest"):
            raise LaminaValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.max_degrees = float(max_degrees)
        self.interpolation = interpolation

    def __call__(self, x, rng=None):
        n, c, h, w = _images(x, "RandomRotation").shape
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        theta = np.deg2rad(_generator(rng).uniform(-self.max_degrees, self.max_degrees, size=n))
        cos = np.cos(theta).astype(dtype)[:, None, None]
        sin = np.sin(theta).astype(dtype)[:, None, None]
        cy, cx = dtype.type((h - 1) / 2), dtype.type((w - 1) / 2)
        dy = np.arange(h, dtype=dtype)[None, :, None] - cy
        dx = np.arange(w, dtype=dtype)[None, None, :] - cx
        # Clipped to [-1, size]: a position outside reads the zero border with weight 1.
        src_y = np.clip(cos * dy - sin * dx + cy, -1, h)
        src_x = np.clip(sin * dy + cos * dx + cx, -1, w)
        padded = _ZeroPadded(x)
        if self.interpolation == "nearest":
            index = padded.index(np.rint(src_y).astype(np.intp), np.rint(src_x).astype(np.intp))
            return padded.take(index).reshape(x.shape).astype(dtype, copy=False)
        y0, x0 = np.floor(src_y), np.floor(src_x)
        wy, wx = (src_y - y0).reshape(n, 1, -1), (src_x - x0).reshape(n, 1, -1)
        index = padded.index(y0.astype(np.intp), x0.astype(np.intp))
        top = padded.take(index) * (1 - wx) + padded.take(index, 1) * wx
        bottom = padded.take(index, padded.wp) * (1 - wx) + padded.take(index, padded.wp + 1) * wx
        return (top * (1 - wy) + bottom * wy).astype(dtype, copy=False).reshape(x.shape)


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``.

    Right for natural images (CIFAR-10: a car facing left is still a car); wrong for digits
    and letters, whose mirror images are other symbols or none, so lamina's MNIST and
    Digits examples leave it out.
    """

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise LaminaValueError(f"RandomHorizontalFlip needs 0 <= p <= 1, got {p}")
        self.p = float(p)

    def __call__(self, x, rng=None):
        flip = _generator(rng).random(x.shape[0]) < self.p
        return np.where(flip.reshape((-1,) + (1,) * (x.ndim - 1)), x[..., ::-1], x)


class GaussianNoise(Transform):
    """Add independent N(0, std^2) noise to every pixel; ``clip=(lo, hi)`` bounds the result."""

    def __init__(self, std: float = 0.1, clip: tuple[float, float] | None = None) -> None:
        if std < 0:
            raise LaminaValueError(f"GaussianNoise needs std >= 0, got {std}")
        self.std = float(std)
        self.clip = clip

    def __call__(self, x, rng=None):
        dtype = np.dtype(x.dtype if x.dtype in (np.float32, np.float64) else np.float32)
        out = x + _generator(rng).standard_normal(x.shape, dtype=dtype) * dtype.type(self.std)
        return out if self.clip is None else np.clip(out, *self.clip, out=out)

"""Map-style data sets with PyTorch's interface and a vectorised batch path.

A data set has a length and ``dataset[i]``, as in PyTorch. For speed every data set also
answers :meth:`Dataset.get_batch` with whole arrays: the ones that hold arrays
(:class:`TensorDataset`, :class:`ArrayDataset` and the image sets built on it) index them
with the batch's index array in one NumPy operation, so the :class:`~lamina.data.DataLoader`
does no per-sample Python work. Images come out float32 in [0, 1] with shape (N, C, H, W);
labels int64. :func:`batch_fetcher` decides when the loader may use that path: only when the
class that supplies ``get_batch`` is the one that supplies ``__getitem__`` (or derives from
it), so a subclass that overrides ``__getitem__`` is always read sample by sample.

:class:`IterableDataset` is PyTorch's stream-style data set: ``iter(ds)`` yields samples.
The base classes and :func:`batch_fetcher` live in :mod:`lamina.data.dataset_base` and are
imported here, their documented place.
"""
from __future__ import annotations

import gzip
import math
from importlib import resources as _resources
from typing import Callable, Sequence

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import DataError, LaminaValueError, ShapeError
from .dataset_base import Dataset, Index, IterableDataset, batch_fetcher
from .transforms import apply_transform

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ArrayDataset", "Digits",
           "batch_fetcher"]

Transform = Callable[..., np.ndarray]


class TensorDataset(Dataset):
    """Samples are the rows of tensors (or arrays) that share their first dimension.

    >>> ds = TensorDataset(lm.randn(100, 3), lm.arange(100))
    >>> x, y = ds[0]          # tensor of shape (3,), a scalar tensor
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise LaminaValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        sizes = [t._data.shape[0] if t._data.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ShapeError("TensorDataset needs tensors of equal first dimension, got shapes "
                             f"{[tuple(t.shape) for t in self.tensors]}")
        self._arrays = tuple(t._data for t in self.tensors)

    def __len__(self) -> int:
        return self._arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(Tensor._wrap(a[index]) for a in self._arrays)

    def get_batch(self, index: Index, rng: np.random.Generator | None = None) -> tuple[np.ndarray, ...]:
        """Rows ``index`` of every tensor: copies, so a batch never aliases the data set."""
        if isinstance(index, slice):
            return tuple(a[index].copy() for a in self._arrays)
        return tuple(a[index] for a in self._arrays)


class ArrayDataset(Dataset):
    """Images and labels held as two arrays; the base of the image data sets.

    ``data`` has shape (N, C, H, W) in any numeric dtype and is converted per batch to
    float32 ``data * scale`` (``scale = 1/255`` maps bytes to [0, 1]); ``targets`` (N,) are
    int64 class labels. ``transform`` and ``target_transform`` act on whole batches
    (see :mod:`lamina.data.transforms`). Storing the bytes and converting per batch keeps
    CIFAR-10 at 150 MB of memory instead of 600 MB of float32.
    """

    classes: Sequence[str] = ()

    def __init__(self, data: np.ndarray, targets: np.ndarray, scale: float = 1.0,
                 transform: Transform | None = None,
                 target_transform: Transform | None = None) -> None:
        data, targets = np.asarray(data), np.asarray(targets)
        if data.ndim < 2 or targets.ndim != 1 or data.shape[0] != targets.shape[0]:
            raise ShapeError(f"expected data (N, ...) and targets (N,), got {data.shape} and "
                             f"{targets.shape}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.scale = np.float32(scale)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        """Sample ``index`` as (image tensor of shape (C, H, W), int label), like torchvision."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a data set of {n} samples")
        x, y = self.get_batch(np.array([index]))
        return Tensor._wrap(x[0]), int(y[0]) if y.ndim == 1 else Tensor._wrap(y[0])

    def _images(self, index: Index) -> np.ndarray:
        # One pass: gather (or view) the stored bytes and scale them straight into float32.
        return np.multiply(self.data[index], self.scale, dtype=np.float32)

    def get_batch(self, index: Index, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Images float32 (B, C, H, W) and labels int64 (B,) at ``index``, transforms applied."""
        x = apply_transform(self.transform, self._images(index), rng)
        y = apply_transform(self.target_transform, self.targets[index].copy(), rng)
        return x, y

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All images as float32 in [0, 1] and all labels as int64, before any transform."""
        return self._images(slice(None)), self.targets.copy()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(samples={len(self)}, image_shape={self.data.shape[1:]}, "
                f"classes={len(self.classes) or int(self.targets.max(initial=-1)) + 1})")


_DIGITS_FILE = "digits.csv.gz"
_DIGITS_COUNT = 1797


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The embedded UCI optdigits images (1,797 x 8 x 8, values 0..16) and labels."""
    source = _resources.files(__package__).joinpath("digits", _DIGITS_FILE)
    try:
        with source.open("rb") as raw, gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.float64)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"the embedded digits file {source} is unreadable ({exc}); "
                        "reinstall lamina") from None
    if table.shape != (_DIGITS_COUNT, 65):
        raise DataError(f"the embedded digits file {source} has shape {table.shape}, "
                        f"expected ({_DIGITS_COUNT}, 65); reinstall lamina")
    images = table[:, :64].astype(np.uint8).reshape(-1, 1, 8, 8)
    return images, table[:, 64].astype(np.int64)


class Digits(ArrayDataset):
    """Real handwritten digits that ship with lamina: the UCI optdigits 8x8 images.

    1,797 images of the digits 0-9 (about 180 each) written by 43 people, each a 32x32
    bitmap reduced to 8x8 counts of "on" pixels (0..16), here scaled to [0, 1]; samples
    have shape (1, 8, 8). Source: E. Alpaydin and C. Kaynak, UCI Machine Learning
    Repository, CC BY 4.0, as distributed with scikit-learn (see ``lamina/data/digits/``).
    No download: this is the data set for offline examples and tests.

    The split is fixed: a permutation drawn from ``split_seed`` (not from the global
    generator) puts ``ceil(test_fraction * 1797)`` images in the test set, 360 by default,
    and the other 1,437 in the training set. ``train=None`` gives all 1,797 in file order.

    >>> train, test = Digits(train=True), Digits(train=False)
    >>> len(train), len(test)
    (1437, 360)
    """

    classes = tuple(str(d) for d in range(10))

    def __init__(self, train: bool | None = True, test_fraction: float = 0.2,
                 transform: Transform | None = None, target_transform: Transform | None = None,
                 split_seed: int = 0) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise LaminaValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        images, labels = _load_digits()
        if train is not None:
            order = np.random.default_rng(split_seed).permutation(len(labels))
            n_test = math.ceil(test_fraction * len(labels))
            chosen = np.sort(order[n_test:] if train else order[:n_test])
            images, labels = images[chosen], labels[chosen]
        super().__init__(images, labels, scale=1.0 / 16.0, transform=transform,
                         target_transform=target_transform)
        self.train = train

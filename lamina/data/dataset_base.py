"""The data-set protocol: PyTorch's ``Dataset`` and ``IterableDataset``, and their sums.

A map-style :class:`Dataset` has a length and ``dataset[i]``; for speed it also answers
:meth:`Dataset.get_batch` with whole arrays, and :func:`batch_fetcher` decides when the
:class:`~lamina.data.DataLoader` may use that vectorised path (only when the class that
supplies ``get_batch`` is the one that supplies ``__getitem__``, or derives from it). An
:class:`IterableDataset` is a stream: ``iter(ds)`` yields samples.

``a + b`` is part of the protocol, so the two data sets it makes live here too:
:class:`ConcatDataset` (map-style data sets one after another: sample ``i`` comes from the
first data set whose cumulative size exceeds ``i``) and :class:`ChainDataset` (streams one
after another). The data sets built on these are in :mod:`lamina.data.datasets` (arrays,
images) and :mod:`lamina.data.combine` (subsets, stacks, random splits).
"""
from __future__ import annotations

import bisect
from itertools import accumulate
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import LaminaTypeError, LaminaValueError

__all__ = ["Dataset", "IterableDataset", "ConcatDataset", "ChainDataset", "batch_fetcher"]

Index = np.ndarray | slice


def _array(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Dataset:
    """A map-style data set: ``len(ds)`` samples, ``ds[i]`` the i-th one.

    Subclasses implement ``__len__`` and ``__getitem__``; those that hold arrays also
    override :meth:`get_batch`, which the loader calls with a whole batch of indices.
    """

    def __len__(self) -> int:
        raise LaminaTypeError(f"{type(self).__name__} does not define __len__")

    def __getitem__(self, index: int):
        raise LaminaTypeError(f"{type(self).__name__} does not define __getitem__")

    def __add__(self, other: "Dataset") -> "Dataset":
        """``a + b`` is ``ConcatDataset([a, b])``, as in PyTorch."""
        return ConcatDataset([self, other])

    def get_batch(self, index: Index, rng: np.random.Generator | None = None) -> tuple[np.ndarray, ...]:
        """The samples at ``index`` (an int array or a slice) stacked field by field.

        This generic version loops over samples (the slow path for data sets that compute
        samples one at a time); array-backed subclasses replace it with one indexing step.
        """
        positions = range(len(self))[index] if isinstance(index, slice) else index
        samples = [self[int(i)] for i in positions]
        if not samples:
            raise LaminaValueError("get_batch needs at least one index")
        if not isinstance(samples[0], tuple):
            return (np.stack([_array(s) for s in samples]),)
        return tuple(np.stack([_array(s[k]) for s in samples]) for k in range(len(samples[0])))


class IterableDataset(Dataset):
    """A data set read as a stream: subclasses implement ``__iter__`` yielding samples.

    The :class:`~lamina.data.DataLoader` groups consecutive samples into batches (no
    sampler, no shuffling: the stream's order is the order). ``a + b`` chains two streams
    (:class:`~lamina.data.combine.ChainDataset`).

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [b.tolist() for b in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator:
        raise LaminaTypeError(f"{type(self).__name__} does not define __iter__")

    def __getitem__(self, index: int):
        raise LaminaTypeError(f"{type(self).__name__} is an IterableDataset: iterate over it "
                              "instead of indexing it")

    def __add__(self, other: "Dataset") -> "Dataset":
        return ChainDataset([self, other])


def _owner(cls: type, name: str) -> type | None:
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


def batch_fetcher(dataset: Any) -> Callable | None:
    """``dataset.get_batch`` if it may stand in for ``[dataset[i] for i in index]`` followed by
    :func:`~lamina.data.collate.default_collate`, else None.

    That holds when ``get_batch`` is not the generic per-sample one and is defined by the
    class that defines ``__getitem__`` or by a subclass of it; a wrapper such as
    :class:`~lamina.data.combine.Subset` may also say so per instance with a ``_batchable``
    attribute.
    """
    if isinstance(dataset, IterableDataset):
        return None
    batchable = getattr(dataset, "_batchable", None)
    if batchable is not None:
        return dataset.get_batch if batchable else None
    cls = type(dataset)
    batch_owner, item_owner = _owner(cls, "get_batch"), _owner(cls, "__getitem__")
    if batch_owner is None or batch_owner is Dataset or item_owner is None:
        return None
    return dataset.get_batch if issubclass(batch_owner, item_owner) else None


class ConcatDataset(Dataset):
    """Map-style data sets one after another: sample ``i`` comes from the first data set
    whose cumulative size exceeds ``i``. ``cumulative_sizes`` lists the running totals."""

    @staticmethod
    def cumsum(sequence: Iterable) -> list[int]:
        return list(accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise LaminaValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise LaminaTypeError("ConcatDataset does not support IterableDataset "
                                      f"(got {type(d).__name__}); use ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise LaminaValueError(f"absolute value of index {idx} should not exceed "
                                       f"dataset length {len(self)}")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a data set of {len(self)} samples")
        offset = idx if which == 0 else idx - self.cumulative_sizes[which - 1]
        return self.datasets[which][offset]


class ChainDataset(IterableDataset):
    """Iterable data sets one after another, as one stream."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise LaminaTypeError(f"ChainDataset only supports IterableDataset, got "
                                      f"{type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)

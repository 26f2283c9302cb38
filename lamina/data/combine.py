"""Data sets made from other data sets: PyTorch's ``Subset``, ``ConcatDataset``,
``ChainDataset``, ``StackDataset`` and ``random_split``.

A :class:`Subset` of an array-backed data set keeps the vectorised batch path (its
``get_batch`` indexes the parent with the subset's indices), so ``random_split`` of a
:class:`~lamina.data.TensorDataset` loads as fast as the whole one.

``ConcatDataset`` and ``ChainDataset`` are what ``a + b`` makes, so they live beside the base
classes in :mod:`lamina.data.dataset_base`; they are imported here, their documented place.

>>> train, val = random_split(TensorDataset(x, y), [0.8, 0.2],
...                           generator=lm.Generator().manual_seed(0))
"""
from __future__ import annotations

import math
import warnings
from itertools import accumulate
from typing import Any, Sequence

import numpy as np

from .. import random as _random
from ..errors import LaminaValueError
from .dataset_base import ChainDataset, ConcatDataset, Dataset, batch_fetcher

__all__ = ["Subset", "ConcatDataset", "ChainDataset", "StackDataset", "random_split"]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i]`` is
    ``dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        # PyTorch's batched-fetch protocol: pass the whole batch on when the parent has it.
        parent = getattr(self.dataset, "__getitems__", None)
        chosen = [self.indices[i] for i in indices]
        return parent(chosen) if callable(parent) else [self.dataset[i] for i in chosen]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def _batchable(self) -> bool:
        return batch_fetcher(self.dataset) is not None

    def get_batch(self, index, rng: np.random.Generator | None = None):
        """The parent's batch at ``indices[index]`` (the vectorised path)."""
        cached = getattr(self, "_index_array", None)
        if cached is None or cached[0] is not self.indices or len(cached[1]) != len(self.indices):
            # Converted once, not per batch: a long list costs milliseconds to convert.
            cached = self._index_array = (self.indices, np.asarray(self.indices, dtype=np.int64))
        positions = cached[1][index]
        fetch = batch_fetcher(self.dataset)
        if fetch is None:
            return Dataset.get_batch(self, index, rng)
        return fetch(positions, rng)


class StackDataset(Dataset):
    """Data sets of equal length side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``,
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise LaminaValueError("StackDataset takes data sets either as positional or as "
                                   "keyword arguments, not both")
        if not args and not kwargs:
            raise LaminaValueError("StackDataset needs at least one data set")
        self.datasets: tuple | dict = args if args else kwargs
        parts = args if args else tuple(kwargs.values())
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise LaminaValueError(f"StackDataset needs data sets of equal length, got "
                                   f"{[len(d) for d in parts]}")
        self._length = lengths.pop()

    def __getitem__(self, index: int):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths, converting fractions as PyTorch does: floor(n * f) each, then the
    remainder handed out one by one from the first length on."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise LaminaValueError(f"Fraction at index {i} is not between 0 and 1: {frac}")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", UserWarning, stacklevel=3)
        return sizes
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise LaminaValueError(f"random_split lengths must be non-negative integers or "
                                   f"fractions summing to 1, got {list(lengths)}")
    return [int(length) for length in lengths]


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given ``lengths``
    (integers summing to ``len(dataset)``, or fractions summing to 1).

    The permutation is drawn from ``generator`` (a :class:`lamina.Generator`, a NumPy
    ``Generator``, or None for the global generator, PyTorch's ``default_generator``).
    """
    sizes = _split_lengths(len(dataset), lengths)
    if sum(sizes) != len(dataset):
        raise LaminaValueError(f"Sum of input lengths ({sum(sizes)}) does not equal the length "
                               f"of the input dataset ({len(dataset)})!")
    order = _random.numpy_generator_of(generator).permutation(sum(sizes)).tolist()
    ends = list(accumulate(sizes))
    return [Subset(dataset, order[end - size:end]) for size, end in zip(sizes, ends)]

"""Samplers: the order in which a DataLoader visits a map-style data set (PyTorch's
``torch.utils.data`` samplers, same names, arguments and checks).

A sampler is an iterable of indices (a :class:`BatchSampler`: of lists of indices) with a
length. Random samplers draw from ``generator``: a :class:`lamina.Generator`, a NumPy
``Generator``, or None. With None, :class:`RandomSampler` draws a fresh seed from the global
generator at each ``iter`` (so :func:`lamina.manual_seed` makes it reproducible and epochs
differ), and the others draw from the global generator directly, as in PyTorch.

>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .. import random as _random
from ..errors import LaminaTypeError, LaminaValueError, ShapeError

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise LaminaValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _boolean(value: Any, name: str, error=LaminaValueError) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``.

    ``data_source`` is accepted for compatibility and not used, as in PyTorch.
    """

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise LaminaTypeError(f"{type(self).__name__} does not define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a permutation of ``range(n)`` (``n = len(data_source)``) or,
    with ``replacement``, ``num_samples`` independent uniform draws.

    Without replacement ``num_samples`` (default ``n``) may exceed ``n``: whole permutations
    follow one another, the last one cut short.
    """

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = _boolean(replacement, "replacement", LaminaTypeError)
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _positive_int(num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        # Read at each use: the data set may change size between epochs.
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _rng(self) -> np.random.Generator:
        if self.generator is None:
            seed = int(_random.generator().integers(0, 2**63 - 1))
            return np.random.default_rng(seed)
        return _random.numpy_generator_of(self.generator)

    def order(self) -> np.ndarray:
        """This iteration's whole index sequence as an int64 array (draws from the generator)."""
        n, count, rng = len(self.data_source), self.num_samples, self._rng()
        if self.replacement:
            return rng.integers(0, n, size=count, dtype=np.int64)
        parts = [rng.permutation(n) for _ in range(count // n)]
        if count % n:
            parts.append(rng.permutation(n)[:count % n])
        return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in random order (without replacement)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _random.numpy_generator_of(self.generator)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``range(len(weights))`` drawn with probabilities
    proportional to ``weights`` (which need not sum to one), with or without replacement."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.replacement = _boolean(replacement, "replacement")
        weights = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if weights.ndim != 1:
            raise ShapeError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        if weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                or weights.sum() <= 0:
            raise LaminaValueError("weights must be finite, non-negative and not all zero, got "
                                   f"{weights.tolist()}")
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise LaminaValueError(f"cannot draw {self.num_samples} samples without replacement "
                                   f"from {np.count_nonzero(weights)} non-zero weights")
        self.weights = weights
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _random.numpy_generator_of(self.generator)
        p = self.weights / self.weights.sum()
        chosen = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(chosen.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; with ``drop_last`` a
    final shorter list is dropped."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = _boolean(drop_last, "drop_last")

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

"""DataLoader: minibatches of a data set, shuffled reproducibly, as lamina Tensors.

Minibatch SGD (lecture 001) visits the training set in a fresh random order each epoch and
updates on batches of ``batch_size`` samples. The loader's randomness is a pure function of
``(seed, epoch)``: epoch e's permutation and augmentation draws come from a NumPy generator
seeded with ``[seed, e]``, so ``set_epoch(e)`` (or ``load_state_dict``) replays epoch e
exactly after a restart, and successive epochs differ. A batch is made by indexing the data
set's arrays with one slice of the permutation (no per-sample Python work).
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from ..errors import LaminaTypeError, LaminaValueError
from .datasets import Dataset
from .transforms import apply_transform

__all__ = ["DataLoader"]

_AUGMENT_STREAM = 1  # separates augmentation draws from the permutation's stream


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``, yielding tuples of Tensors.

    For image data sets each batch is ``(x, y)``: x float32 (B, C, H, W) in [0, 1] (after
    ``transform``), y int64 (B,) (after ``target_transform``). ``shuffle`` draws a new
    permutation every epoch; ``drop_last`` drops a final short batch.

    The seed: ``seed`` if given, else one drawn from ``generator`` (a NumPy Generator), else
    one drawn from lamina's global generator at construction (so :func:`lamina.manual_seed`
    makes the run reproducible). Each ``iter(loader)`` uses the current epoch and advances it.

    >>> loader = DataLoader(MNIST(train=True), batch_size=64, shuffle=True, seed=0)
    >>> for x, y in loader: ...           # x: (64, 1, 28, 28) float32, y: (64,) int64
    >>> loader.set_epoch(3)               # replay epoch 3 exactly (e.g. after resuming)
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 generator: np.random.Generator | None = None,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise LaminaValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise LaminaTypeError(f"DataLoader needs a map-style data set with __len__ and "
                                  f"__getitem__, got {type(dataset).__name__}")
        if seed is None:
            source = generator if generator is not None else _random.generator()
            seed = int(source.integers(0, 2**63 - 1))
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise LaminaValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.transform = transform
        self.target_transform = target_transform
        self._epoch = 0

    # ----------------------------------------------------------------- the RNG state
    @property
    def epoch(self) -> int:
        """The epoch the next ``iter(loader)`` will produce."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch`` (its order and augmentation)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise LaminaValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self._epoch = int(epoch)

    def state_dict(self) -> dict:
        """``{"seed", "epoch"}``: all a checkpoint needs to resume the same data order."""
        return {"seed": self.seed, "epoch": self._epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict`."""
        try:
            seed, epoch = state["seed"], state["epoch"]
        except (KeyError, TypeError):
            raise LaminaValueError(f"a DataLoader state needs 'seed' and 'epoch', got {state!r}") from None
        self.seed = int(seed)
        self.set_epoch(epoch)

    def permutation(self, epoch: int | None = None) -> np.ndarray:
        """The sample order of ``epoch`` (default: the next one); the identity without shuffle."""
        epoch = self._epoch if epoch is None else epoch
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    # ----------------------------------------------------------------- iteration
    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        epoch = self._epoch
        self._epoch += 1
        return self._batches(epoch)

    def _batches(self, epoch: int) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.permutation(epoch) if self.shuffle else None
        rng = np.random.default_rng([self.seed, epoch, _AUGMENT_STREAM])
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is None:
            get_batch = lambda index, rng=None: Dataset.get_batch(self.dataset, index, rng)  # noqa: E731
        stop_at = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop_at, self.batch_size):
            stop = min(start + self.batch_size, n)
            # In order: a slice lets array data sets gather with a view instead of a copy.
            index = order[start:stop] if order is not None else slice(start, stop)
            batch = list(get_batch(index, rng))
            batch[0] = apply_transform(self.transform, batch[0], rng)
            if len(batch) > 1:
                batch[1] = apply_transform(self.target_transform, batch[1], rng)
            yield tuple(Tensor._wrap(a) for a in batch)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
                f"epoch={self._epoch})")

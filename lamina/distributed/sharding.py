"""Each rank's share of every minibatch, so that N processes train as one would.

``--batch-size B`` is the global batch: the data is visited in the order a single process
would visit it (the loader's permutation of epoch e, a pure function of (seed, e)), cut
into the same batches of B, and rank r of N takes the contiguous block

    rows [floor(r B / N), floor((r + 1) B / N))

of each batch. The shares differ by at most one sample, together they are exactly the
batch, and a short last batch (B' < B samples) is split the same way; with B' < N some ranks
get an empty share and contribute nothing to that step's gradient. With the gradient
weighting of :class:`~lamina.distributed.DistributedDataParallel`, the same seed and the
same command give the same training whatever N is.

Random augmentation is drawn exactly as one process would draw it too: when the loader or
the data set has a transform, every rank builds and transforms the whole global batch (the
draws depend on the batch's size) and keeps its share; without transforms each rank loads
only its own rows.

The role of PyTorch's ``DistributedSampler`` is played by :class:`ShardedLoader`, which wraps
a DataLoader and rebuilds its batches from the loader's epoch permutation: a ``sampler``,
``batch_sampler`` or ``collate_fn`` given to that DataLoader is not used by the sharded one.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..autograd.tensor import Tensor
from ..data.datasets import Dataset
from . import mpi

__all__ = ["shard_bounds", "ShardedLoader"]


def shard_bounds(count: int, num_replicas: int, rank: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of a batch of ``count`` samples that rank ``rank`` of
    ``num_replicas`` takes: ``floor(rank count / N)`` to ``floor((rank + 1) count / N)``.

    >>> [shard_bounds(37, 2, r) for r in range(2)]
    [(0, 18), (18, 37)]
    """
    return count * rank // num_replicas, count * (rank + 1) // num_replicas


def _has_transform(loader) -> bool:
    dataset = loader.dataset
    return any(getattr(obj, name, None) is not None
               for obj in (loader, dataset) for name in ("transform", "target_transform"))


class ShardedLoader:
    """This rank's share of each batch of ``loader`` (a :class:`~lamina.data.DataLoader`
    whose ``batch_size`` is the global batch size).

    ``num_replicas`` and ``rank`` default to :func:`~lamina.distributed.world_size` and
    :func:`~lamina.distributed.rank`. Every rank gets ``len(loader)`` batches per epoch
    (some possibly empty: see the module's docstring), so all ranks take the same number of
    steps. The epoch, ``set_epoch`` and ``state_dict`` are the wrapped loader's.

    >>> loader = ShardedLoader(DataLoader(train, batch_size=64, shuffle=True, seed=0))
    >>> for x, y in loader: ...        # with 2 ranks: 32 + 32 rows of each batch of 64
    """

    def __init__(self, loader, num_replicas: int | None = None, rank: int | None = None) -> None:
        num_replicas = mpi.world_size() if num_replicas is None else int(num_replicas)
        rank = mpi.rank() if rank is None else int(rank)
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise mpi.DistributedError(f"rank must be in [0, {num_replicas}) with num_replicas "
                                       f">= 1, got rank={rank}, num_replicas={num_replicas}")
        self.loader = loader
        self.num_replicas = num_replicas
        self.rank = rank

    # ----------------------------------------------------------------- the wrapped loader's
    @property
    def dataset(self):
        return self.loader.dataset

    @property
    def batch_size(self) -> int:
        """The global batch size."""
        return self.loader.batch_size

    @property
    def epoch(self) -> int:
        return self.loader.epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch``."""
        self.loader.set_epoch(epoch)

    def state_dict(self) -> dict:
        return self.loader.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.loader.load_state_dict(state)

    def __len__(self) -> int:
        return len(self.loader)

    # ----------------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        if _has_transform(self.loader):
            return self._shares_of_global_batches()
        epoch = self.loader.epoch
        self.loader.set_epoch(epoch + 1)
        return self._local_batches(epoch)

    def _shares_of_global_batches(self) -> Iterator[tuple[Tensor, ...]]:
        for batch in self.loader:  # advances the loader's epoch as one process would
            start, stop = shard_bounds(len(batch[0]), self.num_replicas, self.rank)
            yield tuple(Tensor._wrap(t._data[start:stop]) for t in batch)

    def _local_batches(self, epoch: int) -> Iterator[tuple[Tensor, ...]]:
        loader, dataset = self.loader, self.loader.dataset
        n, size = len(dataset), loader.batch_size
        order = loader.permutation(epoch) if loader.shuffle else None
        get_batch = getattr(dataset, "get_batch", None)
        if get_batch is None:
            get_batch = lambda index: Dataset.get_batch(dataset, index)  # noqa: E731
        stop_at = n - n % size if loader.drop_last else n
        for first in range(0, stop_at, size):
            count = min(size, n - first)
            start, stop = shard_bounds(count, self.num_replicas, self.rank)
            empty = start == stop
            if empty:  # an empty share with the right trailing shapes and dtypes
                stop = start + 1
            index = (order[first + start:first + stop] if order is not None
                     else slice(first + start, first + stop))
            batch = get_batch(index)
            yield tuple(Tensor._wrap(np.asarray(a)[:0] if empty else np.asarray(a)) for a in batch)

    def __repr__(self) -> str:
        return f"ShardedLoader({self.loader!r}, num_replicas={self.num_replicas}, rank={self.rank})"

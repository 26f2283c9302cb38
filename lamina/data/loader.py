"""DataLoader: minibatches of a data set as lamina Tensors, with PyTorch's interface.

Minibatch SGD (Schwing & Telgarsky, Deep Neural Networks) visits the training set in a fresh random order each epoch and
updates on batches of ``batch_size`` samples. The loader takes every argument of
``torch.utils.data.DataLoader`` (sampler, batch_sampler, collate_fn, generator, worker
options, ...) and adds lamina's reproducibility and speed:

- **Order.** With ``shuffle=True`` the order is a pure function of ``(seed, epoch)``: epoch
  e's permutation and augmentation draws come from NumPy generators seeded with
  ``[seed, e]``, so ``set_epoch(e)`` (or ``load_state_dict``) replays epoch e exactly after
  a restart, and successive epochs differ. ``loader.sampler`` is then a
  :class:`~lamina.data.samplers.RandomSampler` driven by that per-epoch generator.
- **Speed.** For array-backed data sets (:class:`~lamina.data.TensorDataset`, the image
  sets, a :class:`~lamina.data.combine.Subset` of one) with the default ``collate_fn``, a
  batch is made by indexing the arrays with one slice of the order (no per-sample Python
  work). Any other map-style data set (anything with ``__getitem__`` and ``__len__``) is
  read sample by sample (``dataset.__getitems__(indices)`` where it exists) and collated
  with ``collate_fn`` (default :func:`~lamina.data.collate.default_collate`); both paths
  give the same batches.
- **Worker processes.** ``num_workers > 0`` is accepted but batches are still made in the
  main process, with one ``UserWarning`` per loader: NumPy batch indexing takes
  microseconds per batch, far less than shipping batches between processes would, and it
  keeps the order reproducible. ``worker_init_fn(worker_id)`` is still called, in the main
  process, once per worker id at the start of each iteration (only the first with
  ``persistent_workers``), with :func:`get_worker_info` describing that simulated worker
  during the call; during loading :func:`get_worker_info` is None, as in PyTorch's main
  process, so an :class:`~lamina.data.IterableDataset` is read once (not once per worker).
  ``pin_memory``, ``timeout``, ``prefetch_factor``, ``multiprocessing_context`` and
  ``in_order`` change nothing in-process.

Batches are what ``collate_fn`` makes: for ``(x, y)`` samples a list ``[x_batch, y_batch]``
(PyTorch's default collate returns a list for tuple samples), so ``for x, y in loader``.

Differences from PyTorch: the shuffling seed is drawn once, at construction (from
``generator``, or from the global generator, so :func:`lamina.manual_seed` before
constructing makes the run reproducible), where PyTorch draws from the generator at every
epoch; orders therefore differ from PyTorch's, but equal seeds give equal orders.

>>> loader = DataLoader(MNIST(train=True), batch_size=64, shuffle=True, seed=0)
>>> for x, y in loader: ...           # x: (64, 1, 28, 28) float32, y: (64,) int64
>>> loader.set_epoch(3)               # replay epoch 3 exactly (e.g. after resuming)
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from ..errors import LaminaTypeError, LaminaValueError
from .collate import default_collate, default_convert
from .datasets import IterableDataset, batch_fetcher
from .samplers import BatchSampler, RandomSampler, SequentialSampler
from .transforms import apply_transform

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]

_AUGMENT_STREAM = 1  # separates augmentation draws from the permutation's stream
_WORKER_STREAM = 2   # the base seed reported to worker_init_fn


@dataclass(frozen=True)
class WorkerInfo:
    """What :func:`get_worker_info` reports inside ``worker_init_fn``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The simulated worker during a ``worker_init_fn`` call, else None (lamina loads in the
    main process; see :class:`DataLoader`)."""
    return _worker_info


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise LaminaValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in batches (see the module's docstring for the behaviour).

    PyTorch's arguments, with its checks: ``shuffle`` excludes ``sampler``; ``batch_sampler``
    excludes ``batch_size`` (other than 1), ``shuffle``, ``sampler`` and ``drop_last``;
    ``batch_size=None`` turns batching off (each sample passes through ``collate_fn``,
    default :func:`~lamina.data.collate.default_convert`); an IterableDataset takes no
    sampler and no shuffle. ``generator`` is a :class:`lamina.Generator` or a NumPy
    ``Generator``.

    lamina's additions: ``seed`` fixes the shuffling seed (else one is drawn from
    ``generator`` or the global generator); ``transform`` / ``target_transform`` are batch
    transforms (:mod:`lamina.data.transforms`) applied to the first and second field of
    every batch; :meth:`set_epoch`, :meth:`state_dict`, :meth:`permutation`.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and not hasattr(dataset, "__getitem__"):
            raise LaminaTypeError(f"DataLoader needs a map-style data set (with __getitem__) or "
                                  f"an IterableDataset, got {type(dataset).__name__}")
        if batch_size is not None and not _is_positive_int(batch_size):
            raise LaminaValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.num_workers = _non_negative_int(num_workers, "num_workers")
        if timeout < 0:
            raise LaminaValueError(f"timeout option should be non-negative, got {timeout!r}")
        if self.num_workers == 0 and prefetch_factor is not None:
            raise LaminaValueError("prefetch_factor option could only be specified in "
                                   "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                                   "otherwise set prefetch_factor to None.")
        if self.num_workers == 0 and persistent_workers:
            raise LaminaValueError("persistent_workers option needs num_workers > 0")
        if self.num_workers == 0 and multiprocessing_context is not None:
            raise LaminaValueError("multiprocessing_context can only be used with multi-process "
                                   "loading (num_workers > 0), but got num_workers=0")
        if iterable:
            if shuffle not in (None, False):
                raise LaminaValueError(f"DataLoader with IterableDataset: expected unspecified "
                                       f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise LaminaValueError(f"DataLoader with IterableDataset: expected unspecified "
                                       f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise LaminaValueError(f"DataLoader with IterableDataset: expected unspecified "
                                       f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise LaminaValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise LaminaValueError("batch_sampler option is mutually exclusive with "
                                       "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise LaminaValueError("batch_size=None option disables auto-batching and is "
                                   "mutually exclusive with drop_last")
        if (not iterable and sampler is None and batch_sampler is None
                and not hasattr(dataset, "__len__")):
            raise LaminaTypeError(f"DataLoader needs len(dataset) to order a map-style data set "
                                  f"without a sampler; {type(dataset).__name__} has no __len__")
        if seed is None:
            seed = int(_random.numpy_generator_of(generator).integers(0, 2**63 - 1))
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise LaminaValueError(f"seed must be a non-negative integer, got {seed!r}")

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.shuffle = shuffle
        self.generator = generator
        self.seed = int(seed)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.transform = transform
        self.target_transform = target_transform
        self._epoch = 0
        self._workers_started = False
        self._order_generator = _random.Generator()  # reseeded with (seed, epoch) per epoch
        self._own_sampler = sampler is None and batch_sampler is None
        if iterable:
            self.sampler = None
        elif sampler is None:
            sampler = (RandomSampler(dataset, generator=self._order_generator) if shuffle
                       else SequentialSampler(dataset))
            self.sampler = sampler
        else:
            self.sampler = sampler
        self._own_batch_sampler = batch_sampler is None and self.batch_size is not None
        if self._own_batch_sampler and not iterable:
            batch_sampler = BatchSampler(self.sampler, self.batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self._auto_collation = self.batch_sampler is not None or (iterable and self.batch_size is not None)
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        if self.num_workers > 0:
            warnings.warn(f"DataLoader(num_workers={self.num_workers}): lamina loads batches in "
                          "the main process (NumPy batch indexing is faster than sending batches "
                          "between processes, and keeps the order reproducible); worker_init_fn, "
                          "if given, is called in the main process once per worker id",
                          UserWarning, stacklevel=2)

    # ----------------------------------------------------------------- the RNG state
    @property
    def epoch(self) -> int:
        """The epoch the next ``iter(loader)`` will produce."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce epoch ``epoch`` (its order and augmentation)."""
        self._epoch = _non_negative_int(epoch, "epoch")

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
        """The sample order of ``epoch`` (default: the next one) under ``shuffle``; the
        identity without it. (A user-given sampler's order is its own.)"""
        epoch = self._epoch if epoch is None else epoch
        if not self.shuffle:
            return np.arange(len(self.dataset))
        self._order_generator._seed_sequence([self.seed, int(epoch)])
        return self.sampler.order()

    # ----------------------------------------------------------------- iteration
    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def __iter__(self) -> Iterator:
        epoch = self._epoch
        self._epoch += 1
        self._start_workers(epoch)
        if isinstance(self.dataset, IterableDataset):
            return self._stream_batches(epoch)
        return self._map_batches(epoch)

    def _start_workers(self, epoch: int) -> None:
        global _worker_info
        if self.num_workers == 0 or self.worker_init_fn is None:
            return
        if self.persistent_workers and self._workers_started:
            return
        self._workers_started = True
        base_seed = int(np.random.default_rng([self.seed, epoch, _WORKER_STREAM]).integers(2**62))
        for worker_id in range(self.num_workers):
            _worker_info = WorkerInfo(worker_id, self.num_workers, base_seed + worker_id,
                                      self.dataset)
            try:
                self.worker_init_fn(worker_id)
            finally:
                _worker_info = None

    def _order(self, epoch: int) -> np.ndarray | None:
        """This epoch's order as an array (None: the identity, batches are slices)."""
        if self.sampler is None or type(self.sampler) is SequentialSampler:
            return None
        if self._own_sampler:
            self._order_generator._seed_sequence([self.seed, epoch])
        if isinstance(self.sampler, RandomSampler):
            return self.sampler.order()
        return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)

    def _index_batches(self, epoch: int) -> Iterator[slice | np.ndarray | list]:
        if not self._own_batch_sampler:
            yield from self.batch_sampler
            return
        order = self._order(epoch)
        n = len(self.dataset) if order is None else len(order)
        stop_at = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop_at, self.batch_size):
            stop = min(start + self.batch_size, n)
            # In order: a slice lets array data sets gather with a view instead of a copy.
            yield slice(start, stop) if order is None else order[start:stop]

    def _map_batches(self, epoch: int) -> Iterator:
        rng = np.random.default_rng([self.seed, epoch, _AUGMENT_STREAM])
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            for index in self.sampler:
                yield self._transformed(self.collate_fn(self.dataset[index]), rng)
            return
        fetch = batch_fetcher(self.dataset) if self._default_collate else None
        getitems = getattr(self.dataset, "__getitems__", None)
        for index in self._index_batches(epoch):
            if fetch is not None:
                if not isinstance(index, slice):
                    index = np.asarray(index, dtype=np.int64)
                arrays = list(fetch(index, rng))
                arrays[0] = apply_transform(self.transform, arrays[0], rng)
                if len(arrays) > 1:
                    arrays[1] = apply_transform(self.target_transform, arrays[1], rng)
                yield [Tensor._wrap(a) for a in arrays]
                continue
            if isinstance(index, slice):
                indices = list(range(index.start, index.stop))
            else:
                indices = index.tolist() if isinstance(index, np.ndarray) else list(index)
            samples = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
            yield self._transformed(self.collate_fn(samples), rng)

    def _stream_batches(self, epoch: int) -> Iterator:
        rng = np.random.default_rng([self.seed, epoch, _AUGMENT_STREAM])
        stream = iter(self.dataset)
        if self.batch_size is None:
            for sample in stream:
                yield self._transformed(self.collate_fn(sample), rng)
            return
        while True:
            samples = list(itertools.islice(stream, self.batch_size))
            if not samples or (self.drop_last and len(samples) < self.batch_size):
                return
            yield self._transformed(self.collate_fn(samples), rng)

    def _transformed(self, batch: Any, rng: np.random.Generator) -> Any:
        """Apply lamina's batch ``transform`` / ``target_transform`` to fields 0 and 1."""
        if self.transform is None and self.target_transform is None:
            return batch
        if isinstance(batch, Tensor):
            return Tensor._wrap(apply_transform(self.transform, batch._data, rng))
        if isinstance(batch, (list, tuple)):
            fields = list(batch)
            for k, fn in ((0, self.transform), (1, self.target_transform)):
                if k < len(fields) and fn is not None:
                    value = fields[k]
                    array = value._data if isinstance(value, Tensor) else np.asarray(value)
                    fields[k] = Tensor._wrap(apply_transform(fn, array, rng))
            return fields if isinstance(batch, list) else tuple(fields)
        return batch

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
                f"epoch={self._epoch})")

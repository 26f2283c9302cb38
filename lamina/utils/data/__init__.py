"""PyTorch's ``torch.utils.data`` at its path: one implementation, living in :mod:`lamina.data`.

>>> from lamina.utils.data import DataLoader, TensorDataset, random_split
>>> train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
>>> for xb, yb in DataLoader(train, batch_size=32, shuffle=True): ...

Everything here is re-exported from :mod:`lamina.data.datasets`, :mod:`lamina.data.combine`,
:mod:`lamina.data.samplers`, :mod:`lamina.data.collate` and :mod:`lamina.data.loader`; see
:class:`~lamina.data.loader.DataLoader` for how lamina loads (in the main process, with a
vectorised path for array-backed data sets) and where it differs from PyTorch.
"""
from ...data.collate import default_collate, default_convert
from ...data.combine import ChainDataset, ConcatDataset, StackDataset, Subset, random_split
from ...data.datasets import Dataset, IterableDataset, TensorDataset
from ...data.loader import DataLoader, WorkerInfo, get_worker_info
from ...data.samplers import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                              SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "StackDataset", "random_split", "DataLoader", "default_collate",
           "default_convert", "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]

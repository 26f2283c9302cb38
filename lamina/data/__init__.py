"""Data for training: data sets, the batch loader, transforms, and verified downloads.

>>> from lamina.data import DataLoader, Digits, transforms as T
>>> loader = DataLoader(Digits(train=True), batch_size=32, shuffle=True, seed=0,
...                     transform=T.Flatten())
>>> x, y = next(iter(loader))         # x: float32 (32, 64) in [0, 1], y: int64 (32,)

``Digits`` ships with lamina and works offline; ``MNIST``, ``FashionMNIST`` and ``CIFAR10``
read the official files from ``root`` or the cache and download them (checksum-verified)
only when asked with ``download=True``. ``IDXDataset`` reads any image set in MNIST's IDX
format (EMNIST, Kuzushiji-MNIST, your own) and ``ImageFolder`` a tree of images with one
subfolder per class, as torchvision's does.
"""
from . import transforms
from .collate import default_collate, default_convert
from .combine import ChainDataset, ConcatDataset, StackDataset, Subset, random_split
from .datasets import ArrayDataset, Dataset, Digits, IterableDataset, TensorDataset
from .download import Resource, cache_dir, data_home, download_file, sha256_file, verify_file
from .folder import ImageFolder
from .idx import parse_idx, read_idx, write_idx
from .idx_dataset import IDXDataset
from .loader import DataLoader, get_worker_info
from .samplers import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                       SubsetRandomSampler, WeightedRandomSampler)
from .vision import CIFAR10, MNIST, FashionMNIST

__all__ = ["Dataset", "TensorDataset", "ArrayDataset", "Digits", "MNIST", "FashionMNIST",
           "CIFAR10", "IDXDataset", "ImageFolder", "DataLoader", "transforms", "read_idx",
           "parse_idx", "write_idx",
           "Resource", "download_file", "verify_file", "sha256_file", "cache_dir", "data_home",
           "default_collate", "default_convert", "ChainDataset", "ConcatDataset", "StackDataset",
           "Subset", "random_split", "IterableDataset", "get_worker_info", "BatchSampler",
           "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

"""Any image classification set in MNIST's IDX format: EMNIST, Kuzushiji-MNIST, your own.

MNIST's four files are the model: ``train-images-idx3-ubyte`` (uint8, N x H x W),
``train-labels-idx1-ubyte`` (N integer labels) and the same two for the test split, named
``t10k-...`` or ``test-...``, each gzip-compressed (``.gz``) or raw. Other sets put a prefix
before those names (EMNIST: ``emnist-balanced-train-images-idx3-ubyte.gz``), so
:class:`IDXDataset` takes a directory that holds one such set, or a directory and a prefix
(``emnist/emnist-balanced``) to pick one of several. On the command line:
``lamina train --dataset idx:DIR``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .datasets import ArrayDataset, Transform
from .idx import read_idx

__all__ = ["IDXDataset", "find_idx_files"]

# <prefix><split>-<kind>-idx<d>-ubyte[.gz]; the prefix names the set (EMNIST has six).
_NAME = re.compile(r"(?P<prefix>.*?)(?P<split>train|t10k|test)[-_.](?P<kind>images|labels)"
                   r"[-_.]idx(?P<ndim>\d)[-_.]ubyte(?P<gz>\.gz)?")
_SPLITS = {"train": ("train",), "test": ("t10k", "test")}


def _candidates(path: Path) -> tuple[Path, dict]:
    """The directory looked in and {(prefix, split, kind): file} for the IDX files there."""
    directory, prefix = (path, "") if path.is_dir() else (path.parent, path.name)
    if not directory.is_dir():
        raise FileNotFoundError(f"idx:{path}: no such directory")
    found: dict = {}
    for entry in sorted(directory.iterdir()):
        match = _NAME.fullmatch(entry.name)
        if not match or not entry.is_file() or not match["prefix"].startswith(prefix):
            continue
        split = "train" if match["split"] == "train" else "test"
        key = (match["prefix"], split, match["kind"])
        if key not in found or match["gz"]:  # a .gz copy is preferred, as MNIST's loader does
            found[key] = entry
    return directory, found


def find_idx_files(path: str | os.PathLike, train: bool = True) -> tuple[Path, Path]:
    """The (images, labels) files of one split of the IDX set at ``path``: a directory
    holding one set, or ``directory/prefix`` (e.g. ``emnist/emnist-letters``).

    Raises FileNotFoundError (no directory, or no IDX files in it) or :class:`DataError`
    (several sets there: the message lists their prefixes; one split or kind missing)."""
    path = Path(path).expanduser()
    directory, found = _candidates(path)
    if not found:
        raise FileNotFoundError(f"idx:{path}: no IDX files there; expected train-images-"
                                "idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and the same "
                                "for t10k- (or test-), possibly after a prefix")
    prefixes = sorted({key[0] for key in found})
    if len(prefixes) > 1:
        shown = ", ".join(p.rstrip("-_.") or "(none)" for p in prefixes)
        raise DataError(f"idx:{path} holds {len(prefixes)} IDX sets ({shown}); pick one with "
                        f"idx:{directory / prefixes[-1].rstrip('-_.')}")
    split = "train" if train else "test"
    files = [found.get((prefixes[0], split, kind)) for kind in ("images", "labels")]
    if None in files:
        kinds = [k for k, f in zip(("images", "labels"), files) if f is None]
        names = " or ".join(f"{prefixes[0]}{word}-{kinds[0]}-idx{3 if kinds[0] == 'images' else 1}"
                            f"-ubyte[.gz]" for word in _SPLITS[split])
        raise DataError(f"idx:{path}: the {split} split's {' and '.join(kinds)} file is "
                        f"missing from {directory}; expected {names}")
    return files[0], files[1]


class IDXDataset(ArrayDataset):
    """One split of an image set stored as MNIST's IDX files, any size and any classes.

    ``IDXDataset(path, train=True, transform=None, target_transform=None)``: ``path`` as
    :func:`find_idx_files` takes it. Images must be uint8 (N, H, W) (any H and W); samples
    are float32 (1, H, W) in [0, 1]. Labels are non-negative integers, and the classes are
    ``"0" .. "K-1"`` for the largest label K - 1 of the split (EMNIST's letters, labelled
    1..26, thus have an unused class 0, as in torchvision). EMNIST stores its images
    transposed; that does not matter for training, but its pictures look mirrored.

    >>> train = IDXDataset("kmnist", train=True)     # doctest: +SKIP
    >>> train.data.shape, train.classes[:3]
    ((60000, 1, 28, 28), ('0', '1', '2'))
    """

    def __init__(self, path: str | os.PathLike, train: bool = True,
                 transform: Transform | None = None,
                 target_transform: Transform | None = None) -> None:
        image_file, label_file = find_idx_files(path, train)
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataError(f"{image_file} holds {images.dtype} data of shape {images.shape}; "
                            "expected uint8 images (N, H, W), as MNIST's")
        if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(images):
            raise DataError(f"{label_file} holds {labels.dtype} data of shape {labels.shape}; "
                            f"expected {len(images)} integer labels to match {image_file}")
        labels = labels.astype(np.int64)
        if labels.size and labels.min() < 0:
            raise DataError(f"{label_file} has label {int(labels.min())}; expected labels >= 0")
        super().__init__(images[:, None], labels, scale=1.0 / 255.0, transform=transform,
                         target_transform=target_transform)
        self.classes = tuple(str(k) for k in range(int(labels.max(initial=-1)) + 1))
        self.root, self.train = Path(path), train
        self.files = (image_file, label_file)

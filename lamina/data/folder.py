"""A folder of images, one subfolder per class, as torchvision's ``ImageFolder`` reads it.

::

    root/cat/001.png          classes = ['cat', 'dog']   (the subfolders, sorted)
    root/cat/more/002.png     class_to_idx = {'cat': 0, 'dog': 1}
    root/dog/003.png          samples = [(root/cat/001.png, 0), (root/cat/more/002.png, 0),
                                         (root/dog/003.png, 1)]

Every file below a class folder (followed recursively, names sorted) whose extension is one
of :data:`IMG_EXTENSIONS` is a sample of that class. Images are decoded with Pillow (which
comes with matplotlib, ``pip install 'lamina[train]'``). On the command line ``lamina train
--dataset folder:DIR`` trains on such a tree (:func:`image_folder_splits`).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import DataError, LaminaError, LaminaValueError, ShapeError
from .datasets import ArrayDataset, Dataset, Index, Transform
from .transforms import apply_transform

__all__ = ["ImageFolder", "IMG_EXTENSIONS", "find_classes", "make_dataset", "default_loader",
           "has_file_allowed_extension", "image_folder_splits"]

#: The extensions torchvision's ImageFolder accepts (compared case-insensitively).
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions) -> bool:
    """True when ``filename`` ends with one of ``extensions`` (a string or a tuple)."""
    extensions = (extensions,) if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(tuple(e.lower() for e in extensions))


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The class names (the subfolders of ``directory``, sorted) and their indices."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such directory (expected a folder with one "
                                "subfolder of images per class)")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"{directory}: no class folders in it; expected one subfolder "
                                "of images per class, e.g. DIR/cat/1.png, DIR/dog/2.png")
    return classes, {name: index for index, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions=None, is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """The (path, class index) pairs below ``directory``, class by class in index order.

    Give exactly one of ``extensions`` and ``is_valid_file`` (as torchvision requires); a
    class folder without a valid file raises FileNotFoundError unless ``allow_empty``; a
    class of ``class_to_idx`` with no folder counts as empty."""
    directory = Path(directory)
    if class_to_idx is None:
        class_to_idx = find_classes(directory)[1]
    if (extensions is None) == (is_valid_file is None):
        raise LaminaValueError("give exactly one of extensions and is_valid_file")
    if is_valid_file is None:
        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)
    samples, empty = [], []
    for name, index in sorted(class_to_idx.items(), key=lambda item: item[1]):
        found = 0
        for folder, subfolders, files in os.walk(directory / name, followlinks=True):
            subfolders.sort()
            for file in sorted(files):
                path = os.path.join(folder, file)
                if is_valid_file(path):
                    samples.append((path, index))
                    found += 1
        if not found:
            empty.append(name)
    if empty and not allow_empty:
        wanted = f"extensions {', '.join(extensions)}" if extensions else "a valid file"
        raise FileNotFoundError(f"{directory}: no image in the class folder(s) "
                                f"{', '.join(empty)}; expected files with {wanted}")
    return samples


def _read_uint8(path: str) -> np.ndarray:
    """An image file as uint8 (C, H, W): C = 1 for grey images, 3 for colour (alpha and
    palettes are resolved the way Pillow converts them)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise LaminaError(f"reading {path} needs Pillow (pip install 'lamina[train]', which "
                          "brings it with matplotlib)") from None
    try:
        with Image.open(path) as image:
            grey = image.mode in ("1", "L", "LA", "I", "I;16", "F")
            pixels = np.asarray(image.convert("L" if grey else "RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return pixels[None] if grey else pixels.transpose(2, 0, 1)


def default_loader(path: str) -> np.ndarray:
    """An image file as float32 (C, H, W) in [0, 1] (C = 1 grey, 3 colour).

    torchvision's loader returns a PIL image converted to RGB; lamina keeps grey images one
    channel, so that a folder of MNIST-like PNGs fits an MNIST model."""
    # scaled as ArrayDataset scales bytes, so to_array_dataset() gives the same floats
    return np.multiply(_read_uint8(path), np.float32(1.0 / 255.0), dtype=np.float32)


class ImageFolder(Dataset):
    """Images in ``root/<class>/...``: torchvision's ``ImageFolder`` interface.

    ``ImageFolder(root, transform=None, target_transform=None, loader=default_loader,
    is_valid_file=None, allow_empty=False)``; attributes ``classes``, ``class_to_idx``,
    ``samples`` (and its alias ``imgs``), ``targets``, ``extensions``. ``ds[i]`` is
    ``(image, class index)`` with the image a float32 tensor (C, H, W) in [0, 1]. As for
    every lamina data set, ``transform`` acts on batches (N, C, H, W) (see
    :mod:`lamina.data.transforms`); ``ds[i]`` passes it a batch of one. Files are read when
    a sample is asked for; :meth:`to_array_dataset` reads them all at once.

    >>> ds = ImageFolder("shapes/train")          # doctest: +SKIP
    >>> ds.classes, ds.class_to_idx
    (['circle', 'square'], {'circle': 0, 'square': 1})
    """

    def __init__(self, root: str | os.PathLike, transform: Transform | None = None,
                 target_transform: Transform | None = None,
                 loader: Callable[[str], np.ndarray] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        self.root = str(root)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.extensions = IMG_EXTENSIONS if is_valid_file is None else None
        self.samples = self.make_dataset(self.root, self.class_to_idx, self.extensions,
                                         is_valid_file, allow_empty)
        self.imgs = self.samples
        self.targets = [target for _, target in self.samples]
        self.loader = loader
        self.transform, self.target_transform = transform, target_transform

    @staticmethod
    def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        """See :func:`find_classes`; override to choose the classes otherwise."""
        return find_classes(directory)

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        """See :func:`make_dataset`."""
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a data set of {n} samples")
        x, y = self.get_batch(np.array([index % n]))
        return Tensor._wrap(x[0]), int(y[0]) if y.ndim == 1 else Tensor._wrap(y[0])

    def _image(self, path: str) -> np.ndarray:
        return np.asarray(self.loader(path), dtype=np.float32)

    def get_batch(self, index: Index, rng: np.random.Generator | None = None):
        """Images float32 (B, C, H, W) and labels int64 (B,) at ``index``, transforms applied;
        the images of one batch must share their shape."""
        positions = range(len(self))[index] if isinstance(index, slice) else index
        paths = [self.samples[int(i)][0] for i in positions]
        images = [self._image(p) for p in paths]
        _check_same_shape(images, paths)
        x = apply_transform(self.transform, np.stack(images), rng)
        y = np.array([self.samples[int(i)][1] for i in positions], dtype=np.int64)
        return x, apply_transform(self.target_transform, y, rng)

    def to_array_dataset(self) -> ArrayDataset:
        """Every image read once into memory: an :class:`ArrayDataset` of uint8 pixels
        (float32 with a custom loader), with these ``classes`` and the same transforms. The
        images must all have one size; grey ones are repeated over three channels when
        others are in colour."""
        paths = [path for path, _ in self.samples]
        if self.loader is default_loader:
            images, scale = [_read_uint8(p) for p in paths], 1.0 / 255.0
        else:
            images, scale = [self._image(p) for p in paths], 1.0
        if len({image.shape[0] for image in images}) > 1:
            images = [np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
                      for image in images]
        _check_same_shape(images, paths)
        data = np.stack(images) if images else np.zeros((0, 1, 1, 1), np.uint8)
        result = ArrayDataset(data, np.array(self.targets, dtype=np.int64), scale=scale,
                              transform=self.transform, target_transform=self.target_transform)
        result.classes = tuple(self.classes)
        return result

    def __repr__(self) -> str:
        return f"ImageFolder(root={self.root!r}, samples={len(self)}, classes={len(self.classes)})"


def _check_same_shape(images: list, paths: list) -> None:
    if not images:
        return
    first = images[0].shape
    for image, path in zip(images, paths):
        if image.shape != first:
            raise ShapeError(f"{path} is an image of shape {image.shape} (C, H, W) but "
                             f"{paths[0]} is {first}; every image must have one size (resize "
                             "them, e.g. with Pillow, before training)")


def image_folder_splits(root: str | os.PathLike, test_fraction: float = 0.2,
                        split_seed: int = 0) -> tuple[ArrayDataset, ArrayDataset, str]:
    """The training and test sets of the image folder ``root``, in memory, and a sentence
    saying how they were made.

    With subfolders ``root/train`` and ``root/test`` (or ``root/val``) those are the splits,
    the test images' class folders named as the training ones (classes only the training
    split has are allowed; a class only the test split has is refused). Otherwise ``root``
    itself is the tree and a permutation drawn from ``split_seed`` puts
    ``ceil(test_fraction * N)`` of its N images in the test set, the rest in training.
    """
    root = Path(root).expanduser()
    test_dir = next((root / name for name in ("test", "val") if (root / name).is_dir()), None)
    if (root / "train").is_dir() and test_dir is not None:
        train = ImageFolder(root / "train")
        extra = sorted(set(find_classes(test_dir)[0]) - set(train.classes))
        if extra:
            raise DataError(f"{test_dir} has class folder(s) {', '.join(extra)} that "
                            f"{root / 'train'} lacks; expected the training classes "
                            f"({', '.join(train.classes)})")
        test = ImageFolder(test_dir, allow_empty=True)
        if not test.samples:
            raise FileNotFoundError(f"{test_dir}: no images in its class folders")
        tested = test.to_array_dataset()  # renumbered to the training split's classes
        tested.targets = np.array([train.class_to_idx[c] for c in test.classes],
                                  dtype=np.int64)[tested.targets]
        tested.classes = tuple(train.classes)
        return (train.to_array_dataset(), tested,
                f"training on {root / 'train'}, testing on {test_dir}")
    if not 0.0 < test_fraction < 1.0:
        raise LaminaValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    every = ImageFolder(root).to_array_dataset()
    n = len(every)
    if n < 2:
        raise DataError(f"{root} holds {n} image; expected at least 2 to split into "
                        "training and test images")
    n_test = min(n - 1, math.ceil(test_fraction * n))
    order = np.random.default_rng(split_seed).permutation(n)
    splits = []
    for chosen in (np.sort(order[n_test:]), np.sort(order[:n_test])):
        part = ArrayDataset(every.data[chosen], every.targets[chosen], scale=float(every.scale))
        part.classes = every.classes
        splits.append(part)
    note = (f"{root} has no train/ and test/ subfolders: its {n} images are split at random "
            f"(seed {split_seed}) into {n - n_test} training and {n_test} test images")
    return splits[0], splits[1], note

"""MNIST, Fashion-MNIST and CIFAR-10 with torchvision's constructors.

Files are looked for in ``root`` (and torchvision's ``root/<Name>/raw``) when it is given,
else in the cache ``$LAMINA_DATA/<name>`` (``~/.cache/lamina/<name>``) and any system copy;
when missing, ``download=True`` fetches them from the official sources with the SHA-256
values recorded below (see :mod:`lamina.data.download`); otherwise a :class:`DataError`
says which files to put where. ``Class.missing_files(root)`` lists what is missing and
``Class.fetch(root)`` downloads it (``lamina data fetch NAME``). Any number of images is
read: a count other than the published one (a subset, say) gives a ``UserWarning``. The
URL and checksum tables are class attributes, so a subclass can point at another mirror
without editing them.

Checksums: MNIST and CIFAR-10 (binary) as recorded in TensorFlow Datasets' url_checksums;
Fashion-MNIST's ``.gz`` files likewise, and their payload SHA-256 computed from Debian's
``dataset-fashion-mnist`` package (whose ``.gz`` files are re-compressed copies).
"""
from __future__ import annotations

import os
import tarfile
import warnings
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError
from .datasets import ArrayDataset, Transform
from .download import Resource, cache_dir, download_file
from .idx import looks_like_html, read_idx

__all__ = ["MNIST", "FashionMNIST", "CIFAR10"]

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _search_dirs(cls: type, root: str | os.PathLike | None) -> list[Path]:
    if root is not None:
        root = Path(root).expanduser()
        return [root, root / cls.__name__ / "raw"]
    return [cache_dir(cls.dataset_name), *(Path(d) for d in cls.system_dirs)]


def _missing_message(cls: type, dirs: Sequence[Path], names: Sequence[str], hint: str) -> str:
    return (f"{cls.__name__}: files not found in {', '.join(str(d) for d in dirs)}.\n"
            f"Put {', '.join(names)} {hint}in {dirs[0]} (or pass root=<that directory>, "
            "or set LAMINA_DATA), or pass download=True to fetch them from "
            f"{cls.mirrors[0] if cls.mirrors else 'the official source'} "
            "with checksum verification (on the command line: --download, or "
            "`lamina data fetch`).")


def _warn_count(cls: type, path, count: int, published: int, train: bool,
                stacklevel: int) -> None:
    split = "training" if train else "test"
    warnings.warn(f"{path} has {count} images, not the {published} of the published "
                  f"{cls.__name__} {split} split (a subset, or another data set in its "
                  f"format?); using all {count}", UserWarning, stacklevel=stacklevel)


class _SearchedFiles:
    """A data set whose files are looked for in several places (see ``_search_dirs``)."""

    @classmethod
    def locations(cls, root: str | os.PathLike | None = None) -> list[Path]:
        """Where the files are looked for, in order; downloads go to the first."""
        return _search_dirs(cls, root)


class _IDXImages(_SearchedFiles, ArrayDataset):
    """MNIST-format images (N, 1, 28, 28) and labels from the four standard IDX files."""

    dataset_name = "mnist"
    mirrors: Sequence[str] = ()
    resources: dict[str, Resource] = {}
    system_dirs: Sequence[str] = ()
    #: Images per split (train=True/False); None accepts any count (e.g. a sample subset).
    sizes: dict[bool, int] | None = {True: 60000, False: 10000}

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, transform: Transform | None = None,
                 target_transform: Transform | None = None) -> None:
        split = "train" if train else "t10k"
        stems = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
        dirs = _search_dirs(type(self), root)
        paths = [self._find(dirs, stem) for stem in stems]
        if None in paths:
            if not download:
                raise DataError(_missing_message(type(self), dirs, [f + ".gz" for f in _IDX_FILES],
                                                 "(gzip-compressed or raw, without .gz) "))
            paths = [p or self._download(dirs[0], stem) for p, stem in zip(paths, stems)]
        self.root, self.train = root, train
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        self._check(images, labels, paths, self.sizes and self.sizes[bool(train)])
        super().__init__(images.reshape(-1, 1, 28, 28), labels, scale=1.0 / 255.0,
                         transform=transform, target_transform=target_transform)

    @classmethod
    def missing_files(cls, root: str | os.PathLike | None = None) -> list[str]:
        """The files of both splits found in none of the places looked in (see the class)."""
        dirs = _search_dirs(cls, root)
        return [stem + ".gz" for stem in _IDX_FILES if cls._find(dirs, stem) is None]

    @classmethod
    def fetch(cls, root: str | os.PathLike | None = None, report=None) -> list[Path]:
        """Download the missing files of both splits (verified) into ``root`` or the cache;
        returns the paths downloaded (none when every file is there). ``report``: see
        :func:`~lamina.data.download.download_file`."""
        directory = _search_dirs(cls, root)[0]
        return [cls._download(directory, name[:-3], report) for name in cls.missing_files(root)]

    @staticmethod
    def _find(dirs: Sequence[Path], stem: str) -> Path | None:
        for directory in dirs:
            for name in (stem + ".gz", stem):
                if (directory / name).is_file():
                    return directory / name
        return None

    @classmethod
    def _download(cls, directory: Path, stem: str, report=None) -> Path:
        resource = cls.resources[stem + ".gz"]
        urls = [base + resource.filename for base in cls.mirrors]
        return download_file(urls, directory / resource.filename, resource, report=report)

    def _check(self, images: np.ndarray, labels: np.ndarray, paths, expected: int | None) -> None:
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise DataError(f"{paths[0]} holds {images.dtype} images of shape {images.shape}, "
                            "expected uint8 (N, 28, 28)")
        if labels.ndim != 1 or labels.dtype != np.uint8 or labels.shape[0] != images.shape[0]:
            raise DataError(f"{paths[1]} holds {labels.dtype} labels of shape {labels.shape}, "
                            f"expected uint8 ({images.shape[0]},) to match {paths[0]}")
        if labels.size and labels.max() >= 10:
            raise DataError(f"{paths[1]} has label {int(labels.max())}, expected 0..9")
        if expected is not None and images.shape[0] != expected:
            _warn_count(type(self), paths[0], images.shape[0], expected, self.train, 4)


class MNIST(_IDXImages):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

    ``MNIST(root=None, train=True, download=False, transform=None)`` as in torchvision;
    samples are float32 tensors of shape (1, 28, 28) in [0, 1] with int labels 0-9, and
    batches through a :class:`~lamina.data.DataLoader` are (B, 1, 28, 28) and (B,).
    ``root`` holds the four standard IDX files, gzip-compressed or raw:
    train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],
    t10k-labels-idx1-ubyte[.gz].
    """

    dataset_name = "mnist"
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine")
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    resources = {r.filename: r for r in (
        Resource("train-images-idx3-ubyte.gz",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        Resource("train-labels-idx1-ubyte.gz",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        Resource("t10k-images-idx3-ubyte.gz",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        Resource("t10k-labels-idx1-ubyte.gz",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    )}


class FashionMNIST(_IDXImages):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, MNIST's format.

    Same constructor and layout as :class:`MNIST`. Besides ``root`` and the cache it looks
    in ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist`` package).
    """

    dataset_name = "fashion-mnist"
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")
    resources = {r.filename: r for r in (
        Resource("train-images-idx3-ubyte.gz",
                 "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880,
                 "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        Resource("train-labels-idx1-ubyte.gz",
                 "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515,
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        Resource("t10k-images-idx3-ubyte.gz",
                 "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102,
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        Resource("t10k-labels-idx1-ubyte.gz",
                 "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148,
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    )}


_CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then the red, green and blue 32x32 planes
_CIFAR_DIR = "cifar-10-batches-bin"
_CIFAR_TAR = "cifar-10-binary.tar.gz"


def parse_cifar_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch: records of 1 label byte + 3,072 pixel bytes.

    Returns uint8 images (N, 3, 32, 32) (channel planes R, G, B; rows top to bottom) and
    int64 labels (N,). The bytes are parsed directly; nothing is unpickled.
    """
    if looks_like_html(data[:512]):
        raise DataError(f"{name} is an HTML page, not a CIFAR-10 binary batch")
    if not data or len(data) % _CIFAR_RECORD:
        raise DataError(f"{name} has {len(data)} bytes, not a positive multiple of the "
                        f"{_CIFAR_RECORD}-byte CIFAR-10 record (truncated or not CIFAR-10)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= 10:
        raise DataError(f"{name} has label {int(labels.max())}, expected 0..9 "
                        "(is this the CIFAR-100 binary format?)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


class CIFAR10(_SearchedFiles, ArrayDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images (3, 32, 32) in 10 classes.

    Read from the BINARY distribution (``cifar-10-binary.tar.gz``): ``root`` may hold the
    tarball, its extracted ``cifar-10-batches-bin/`` folder, or the batch files
    ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin`` themselves.
    """

    dataset_name = "cifar-10"
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")
    system_dirs: Sequence[str] = ()
    mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    resources = {_CIFAR_TAR: Resource(
        _CIFAR_TAR, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170052171)}

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, transform: Transform | None = None,
                 target_transform: Transform | None = None) -> None:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        dirs = _search_dirs(type(self), root)
        blobs = self._read_loose(dirs, names) or self._read_tar(dirs, names, download)
        parts = [parse_cifar_batch(blobs[n], n) for n in names]
        count = sum(len(p[1]) for p in parts)
        if count != (50000 if train else 10000):
            _warn_count(type(self), ", ".join(names), count, 50000 if train else 10000, train, 3)
        super().__init__(np.concatenate([p[0] for p in parts]),
                         np.concatenate([p[1] for p in parts]), scale=1.0 / 255.0,
                         transform=transform, target_transform=target_transform)
        self.root, self.train = root, train

    @classmethod
    def missing_files(cls, root: str | os.PathLike | None = None) -> list[str]:
        """``[cifar-10-binary.tar.gz]`` when neither it nor the six batch files are found."""
        dirs = _search_dirs(cls, root)
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        loose = any(all((folder / n).is_file() for n in names)
                    for d in dirs for folder in (d / _CIFAR_DIR, d))
        return [] if loose or any((d / _CIFAR_TAR).is_file() for d in dirs) else [_CIFAR_TAR]

    @classmethod
    def fetch(cls, root: str | os.PathLike | None = None, report=None) -> list[Path]:
        """Download the tarball (verified) into ``root`` or the cache unless the data is
        there; returns the paths downloaded."""
        if not cls.missing_files(root):
            return []
        resource = cls.resources[_CIFAR_TAR]
        return [download_file([m + _CIFAR_TAR for m in cls.mirrors],
                               _search_dirs(cls, root)[0] / _CIFAR_TAR, resource, report=report)]

    @staticmethod
    def _read_loose(dirs: Sequence[Path], names: Sequence[str]) -> dict[str, bytes] | None:
        for directory in dirs:
            for folder in (directory / _CIFAR_DIR, directory):
                if all((folder / n).is_file() for n in names):
                    return {n: (folder / n).read_bytes() for n in names}
        return None

    def _read_tar(self, dirs: Sequence[Path], names: Sequence[str], download: bool) -> dict[str, bytes]:
        tar_path = next((d / _CIFAR_TAR for d in dirs if (d / _CIFAR_TAR).is_file()), None)
        if tar_path is None:
            if not download:
                raise DataError(_missing_message(type(self), dirs, [_CIFAR_TAR], "(or its extracted "
                                f"{_CIFAR_DIR}/ folder) "))
            resource = self.resources[_CIFAR_TAR]
            tar_path = download_file([m + _CIFAR_TAR for m in self.mirrors], dirs[0] / _CIFAR_TAR,
                                     resource)
        wanted = {f"{_CIFAR_DIR}/{n}": n for n in names}
        blobs: dict[str, bytes] = {}
        try:
            # Read the wanted members' bytes in one pass; nothing is extracted to disk.
            with tarfile.open(tar_path, "r:gz") as archive:
                for member in archive:
                    if member.isfile() and member.name in wanted:
                        blobs[wanted[member.name]] = archive.extractfile(member).read()
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise DataError(f"{tar_path} is not a readable cifar-10-binary tarball: {exc}") from None
        missing = [n for n in names if n not in blobs]
        if missing:
            raise DataError(f"{tar_path} lacks {', '.join(f'{_CIFAR_DIR}/{n}' for n in missing)}")
        return blobs

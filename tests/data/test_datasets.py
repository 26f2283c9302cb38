"""The data sets: embedded Digits, MNIST-format files, Debian's Fashion-MNIST, CIFAR-10 binary."""
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

import lamina as lm
from lamina.data import CIFAR10, MNIST, Digits, FashionMNIST, verify_file, write_idx
from lamina.errors import DataError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path, monkeypatch):
    # Keep a user's real cache out of these tests.
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path / "cache"))


# --------------------------------------------------------------------------- Digits
def test_digits_ship_with_lamina_and_load_offline():
    full = Digits(train=None)
    images, labels = full.arrays()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert labels.dtype == np.int64 and sorted(set(labels.tolist())) == list(range(10))
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.all(np.bincount(labels) > 170)  # about 180 of each digit


def test_digits_split_is_fixed_disjoint_and_complete():
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    rows = lambda ds: {r.tobytes() + bytes([t]) for r, t in zip(ds.data, ds.targets)}  # noqa: E731
    assert len(rows(train) & rows(test)) <= 1  # a duplicated image in the source is possible
    lm.manual_seed(123)  # the split must not depend on the global generator
    np.testing.assert_array_equal(Digits(train=False).targets, test.targets)
    assert len(Digits(train=False, test_fraction=0.5)) == 899


def test_digits_sample_is_a_tensor_and_an_int():
    x, y = Digits()[0]
    assert isinstance(x, lm.Tensor) and x.shape == (1, 8, 8) and x.dtype == lm.float32
    assert isinstance(y, int)
    with pytest.raises(IndexError):
        Digits()[1437]


def test_digits_are_learnable_by_nearest_centroid():
    # Real handwriting: class means separate the test set far above chance (10%).
    train, test = Digits(train=True), Digits(train=False)
    (xtr, ytr), (xte, yte) = train.arrays(), test.arrays()
    centroids = np.stack([xtr[ytr == k].reshape(-1, 64).mean(0) for k in range(10)])
    distances = ((xte.reshape(-1, 1, 64) - centroids[None]) ** 2).sum(-1)
    assert (distances.argmin(1) == yte).mean() > 0.85


# --------------------------------------------------------------------------- MNIST format
def _write_mnist(directory: Path, rng, n_train=7, n_test=3, compress=True):
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        arrays[split] = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                         rng.integers(0, 10, n, dtype=np.uint8))
        write_idx(directory / f"{split}-images-idx3-ubyte{suffix}", arrays[split][0])
        write_idx(directory / f"{split}-labels-idx1-ubyte{suffix}", arrays[split][1])
    return arrays


class SmallMNIST(MNIST):
    sizes = None  # accept the tiny synthetic files


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_mnist_reads_the_four_standard_files(tmp_path, rng, compress, layout):
    folder = tmp_path / "root" if layout == "flat" else tmp_path / "root" / "SmallMNIST" / "raw"
    arrays = _write_mnist(folder, rng, compress=compress)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = SmallMNIST(root=tmp_path / "root", train=train)
        images, labels = ds.arrays()
        assert images.shape == (len(arrays[split][1]), 1, 28, 28) and images.dtype == np.float32
        np.testing.assert_allclose(images[:, 0] * 255, arrays[split][0], atol=1e-3)
        np.testing.assert_array_equal(labels, arrays[split][1])


def test_mnist_accepts_another_image_count_with_a_warning(tmp_path, rng):
    # A subset, or another data set in MNIST's format: used as it is, with a warning.
    _write_mnist(tmp_path, rng)
    with pytest.warns(UserWarning, match="7 images, not the 60000"):
        ds = MNIST(root=tmp_path)
    assert len(ds) == 7


def test_mnist_refuses_mismatched_or_foreign_files(tmp_path, rng):
    _write_mnist(tmp_path, rng)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="labels of shape"):
        SmallMNIST(root=tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(7, 12, np.uint8))
    with pytest.raises(DataError, match="label 12"):
        SmallMNIST(root=tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((7, 32, 32), np.uint8))
    with pytest.raises(DataError, match="images of shape"):
        SmallMNIST(root=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"<html><body>Forbidden</body></html>")
    with pytest.raises(DataError, match="HTML"):
        SmallMNIST(root=tmp_path)


def test_missing_root_files_name_the_directory(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path)):
        FashionMNIST(root=tmp_path)


# --------------------------------------------------------------------------- Fashion-MNIST
@needs_fashion
def test_fashion_mnist_loads_from_the_debian_package():
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.data.shape == (60000, 1, 28, 28) and train.data.dtype == np.uint8
    assert np.array_equal(np.bincount(train.targets), np.full(10, 6000))
    assert np.array_equal(np.bincount(test.targets), np.full(10, 1000))
    x, y = train[0]
    assert x.shape == (1, 28, 28) and 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 1.0
    assert train.classes[y] in FashionMNIST.classes


@needs_fashion
@pytest.mark.parametrize("name", sorted(FashionMNIST.resources))
def test_recorded_fashion_payload_checksums_match_the_debian_files(name):
    verify_file(FASHION_DIR / name, FashionMNIST.resources[name])


# --------------------------------------------------------------------------- CIFAR-10
def _cifar_batch(rng, n):
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    # The official record: label byte, then the R, G and B planes, each row-major 32x32.
    records = np.concatenate([labels[:, None], images.reshape(n, 3072)], axis=1)
    return images, labels, records.tobytes()


def _cifar_files(rng):
    return {name: _cifar_batch(rng, n) for name, n in
            [(f"data_batch_{i}.bin", 2 + i) for i in range(1, 6)] + [("test_batch.bin", 4)]}


@pytest.mark.parametrize("layout", ["extracted", "loose", "tarball"])
def test_cifar10_parses_the_binary_format(tmp_path, rng, layout):
    files = _cifar_files(rng)
    if layout == "tarball":
        with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as tar:
            for name, (_, _, data) in files.items():
                info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        folder = tmp_path / "cifar-10-batches-bin" if layout == "extracted" else tmp_path
        folder.mkdir(exist_ok=True)
        for name, (_, _, data) in files.items():
            (folder / name).write_bytes(data)
    train, test = CIFAR10(root=tmp_path, train=True), CIFAR10(root=tmp_path, train=False)
    assert len(train) == sum(2 + i for i in range(1, 6)) and len(test) == 4
    expected = np.concatenate([files[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(train.data, expected)
    np.testing.assert_array_equal(test.targets, files["test_batch.bin"][1])
    x, y = test[1]
    assert x.shape == (3, 32, 32) and x.dtype == lm.float32
    np.testing.assert_allclose(x.numpy(), files["test_batch.bin"][0][1] / 255, rtol=1e-6)


@pytest.mark.parametrize("damage,words", [(lambda d: d[:-5], "multiple"),
                                          (lambda d: b"<!DOCTYPE html><html>" + d, "HTML"),
                                          (lambda d: b"\x0c" + d[1:], "label 12")])
def test_cifar10_refuses_damaged_batches(tmp_path, rng, damage, words):
    _, _, data = _cifar_batch(rng, 3)
    (tmp_path / "test_batch.bin").write_bytes(damage(data))
    with pytest.raises(DataError, match=words):
        CIFAR10(root=tmp_path, train=False)


def test_cifar10_refuses_a_broken_tarball_and_reports_missing_files(tmp_path):
    with pytest.raises(DataError, match="cifar-10-binary.tar.gz"):
        CIFAR10(root=tmp_path)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"<html>error</html>")
    with pytest.raises(DataError, match="not a readable"):
        CIFAR10(root=tmp_path)

"""The autoencoder lab: reconstruction MSE against the mean image and PCA, the code space."""
import os

import numpy as np
import pytest

from lamina.data import Digits
from lamina.labs.autoencoder import CODE_SIZES, mean_squared_error, pca_reconstruct, run


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(quick=True, out=str(tmp_path_factory.mktemp("autoencoder")))


@pytest.fixture(scope="module")
def digits():
    return Digits(train=True).arrays()[0], Digits(train=False).arrays()


def test_quick_mode_uses_the_digits_and_says_so(report):
    assert report.data["dataset"] == "digits" and report.data["input_size"] == 64
    assert any(note.startswith("data:") and "digits" in note for note in report.notes)
    assert any("Grohs" in note and "PCA" in note for note in report.notes)


def test_mean_image_baseline_is_computed_from_the_data(report, digits):
    train_x, (test_x, _) = digits
    mean = train_x.reshape(len(train_x), -1).mean(axis=0)
    expected = np.mean((test_x.reshape(len(test_x), -1) - mean) ** 2)
    assert report.data["mean_image_mse"] == pytest.approx(expected, rel=1e-6)


def test_autoencoders_beat_the_mean_image_and_more_code_helps(report):
    rows = report.data["rows"]
    assert [r["code_size"] for r in rows] == list(CODE_SIZES["digits"])
    assert [r["model"] for r in rows] == ["autoencoder:64,32,2", "autoencoder:64,32,16"]
    for r in rows:
        assert r["autoencoder_mse"] < 0.9 * r["mean_image_mse"]
        assert r["pca_mse"] < r["mean_image_mse"]
        assert r["train_losses"][-1] < r["train_losses"][0]
        # the table's figure is the training run's own test loss (float32 against float64)
        assert r["autoencoder_mse"] == pytest.approx(r["test_losses"][-1], rel=1e-4)
    small, large = rows
    assert large["autoencoder_mse"] < small["autoencoder_mse"]
    assert large["pca_mse"] < small["pca_mse"]
    table = report.tables[0]
    assert len(table.rows) == 2 and any("PCA" in c for c in table.columns)
    assert any("mean image" in c for c in table.columns)


def test_pca_matches_torch_svd(digits):
    torch = pytest.importorskip("torch")
    train_x, (test_x, _) = digits
    train, test = train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1)
    for k in (2, 16):
        codes, rebuilt = pca_reconstruct(train, test, k)
        t_train = torch.tensor(train, dtype=torch.float64)
        mean = t_train.mean(0)
        _, _, vh = torch.linalg.svd(t_train - mean, full_matrices=False)
        t_rebuilt = (torch.tensor(test, dtype=torch.float64) - mean) @ vh[:k].T @ vh[:k] + mean
        np.testing.assert_allclose(rebuilt, t_rebuilt.numpy(), atol=1e-9)
        assert codes.shape == (len(test), k)


def test_pca_training_error_is_the_discarded_variance(digits):
    train_x, _ = digits
    train = train_x.reshape(len(train_x), -1).astype(np.float64)
    singular = np.linalg.svd(train - train.mean(axis=0), compute_uv=False)
    for k in (2, 16):
        _, rebuilt = pca_reconstruct(train, train, k)
        expected = np.sum(singular[k:] ** 2) / train.size  # Eckart-Young
        assert mean_squared_error(rebuilt, train) == pytest.approx(expected, rel=1e-9)


def test_code_space_has_a_2d_code_per_test_image(report, digits):
    _, (test_x, test_y) = digits
    codes = np.asarray(report.data["codes_2d"])
    assert codes.shape == (len(test_x), 2) and np.isfinite(codes).all()
    assert report.data["labels"] == test_y.tolist()
    assert codes.std(axis=0).min() > 0  # the code is not collapsed to a point


def test_both_pictures_are_written(report):
    names = {os.path.basename(path): path for path in report.files}
    for name in ("reconstructions.png", "code_space.png"):
        assert name in names
        with open(names[name], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(names[name]) > 1000

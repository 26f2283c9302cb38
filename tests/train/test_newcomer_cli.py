"""The command line as a newcomer meets it (issue 15, items 1, 2, 3, 5 and 6): the default
model per data set, downloads, any counts and any IDX or folder data, help, messages.

Each test runs `lamina` in this process and checks the exit status, what it printed and the
files it wrote. Downloads go to the local HTTP server of tests/data/test_download.py.
"""
import argparse
import contextlib
import hashlib
import io
import json
import re

import numpy as np
import pytest

from lamina.cli import _parser, main
from lamina.data import MNIST, IDXDataset, ImageFolder, Resource, write_idx
from lamina.errors import DataError
from lamina.models.spec import build_model
from lamina.serialization import load
from lamina.train import resolve_config
from lamina.train.presets import DATASET_DEFAULTS
from tests.data.test_download import _Handler, server  # noqa: F401 (server is a fixture)

TINY = ["--epochs", "1", "--batch-size", "16"]
SMALL = [*TINY, "--train-size", "300"]  # on the digits
SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28),
          "cifar10": (3, 32, 32)}


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    """The plots are another test's subject; drawing them would take most of this file's time."""
    monkeypatch.setattr("lamina.train.plots.have_matplotlib", lambda: False)


def lamina(*args):
    """``lamina args`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit:  # argparse's own exits (--help, refusals)
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def write_mnist_format(directory, rng, n_train=120, n_test=40, side=28, classes=10, prefix=""):
    """Four IDX files of random images whose labels are learnable (the class sets a band)."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n, dtype=np.uint8) % classes
        images = rng.integers(0, 40, (n, side, side), dtype=np.uint8)
        for k in range(n):
            row = labels[k] * side // classes
            images[k, row:row + max(1, side // classes)] = 255
        write_idx(directory / f"{prefix}{split}-images-idx3-ubyte.gz", images)
        write_idx(directory / f"{prefix}{split}-labels-idx1-ubyte.gz", labels)
    return directory


def config_of(run):
    return json.loads((run / "config.json").read_text())


# ------------------------------------------------------------ 1. default model per data set
def test_fashion_mnist_without_a_model_trains_the_default_for_its_images(tmp_path, rng):
    data = write_mnist_format(tmp_path / "fashion", rng)
    run = tmp_path / "run"
    code, out, err = lamina("train", "--dataset", "fashion-mnist", "--data-dir", data, *TINY,
                            "--out", run)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("training mlp:784,100,10:relu (the default model for "
                            "fashion-mnist; --model to choose another) on fashion-mnist")
    config = config_of(run)
    assert (config["model"], config["lr"]) == ("mlp:784,100,10:relu",
                                               DATASET_DEFAULTS["fashion-mnist"]["lr"])
    assert "model_is_default" not in config and "download" not in config
    assert tuple(load(str(run / "model.safetensors"))["1.weight"].shape) == (100, 784)


@pytest.mark.parametrize("dataset", sorted(DATASET_DEFAULTS))
def test_every_default_model_fits_its_data_set(dataset):
    config = resolve_config({"dataset": dataset})
    assert build_model(config["model"], SHAPES[dataset], 10) is not None
    assert config["epochs"] == DATASET_DEFAULTS[dataset]["epochs"]


def test_a_chosen_model_or_preset_is_not_called_the_default(tmp_path):
    code, out, err = lamina("train", "--model", "mlp:64,16,10", *SMALL, "--out", tmp_path / "r")
    assert code == 0, err
    assert out.splitlines()[0].startswith("training mlp:64,16,10 on digits") and "default" not in out
    assert resolve_config({"preset": "nielsen-30", "dataset": "fashion-mnist"})["model"] == \
        "mlp:784,30,10:sigmoid:normal"


# ------------------------------------------------------------------------ 2. downloads
@pytest.fixture
def mnist_mirror(server, tmp_path_factory, rng, monkeypatch):  # noqa: F811 (the fixture)
    """MNIST's tables pointed at four small files on the local server (restored after)."""
    files = write_mnist_format(tmp_path_factory.mktemp("served"), rng, n_train=60, n_test=20)
    served = {p.name: p.read_bytes() for p in files.iterdir()}
    server.routes.update({f"/mnist/{name}": (body, 200, None) for name, body in served.items()})
    monkeypatch.setattr(MNIST, "mirrors", (f"{server}/missing/", f"{server}/mnist/"))
    monkeypatch.setattr(MNIST, "resources", {
        name: Resource(name, hashlib.sha256(body).hexdigest(), len(body))
        for name, body in served.items()})
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path_factory.mktemp("cache")))
    return served


def test_missing_files_name_the_download_flag_and_data_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    code, out, err = lamina("train", "--dataset", "mnist", *TINY)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "download=True" not in err
    assert "--download" in err and "lamina data fetch mnist" in err and str(tmp_path) in err


def test_data_fetch_downloads_verified_files_then_finds_them(mnist_mirror, tmp_path):
    target = tmp_path / "mnist-files"
    code, out, err = lamina("data", "fetch", "mnist", "--dir", target)
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir()) == sorted(mnist_mirror)
    for name, body in mnist_mirror.items():
        assert (target / name).read_bytes() == body
    assert f"downloaded 4 file(s) into {target}, checksums verified" in out
    assert f"lamina train --dataset mnist --data-dir {target}" in out
    code, out, err = lamina("data", "fetch", "mnist", "--dir", target)
    assert code == 0 and "already there" in out and "downloading" not in out
    code, out, _ = lamina("data", "list")
    assert code == 0 and re.search(r"^mnist +not on this machine", out, re.M)  # cache is empty


def test_train_download_fetches_into_the_cache_and_trains(mnist_mirror, tmp_path, monkeypatch):
    run = tmp_path / "run"
    code, out, err = lamina("train", "--dataset", "mnist", "--download", *TINY, "--out", run)
    assert code == 0, err
    assert out.count("downloading ") >= 4 and "test accuracy" in out
    assert (run / "model.safetensors").stat().st_size > 0
    code, out, err = lamina("data", "list")
    assert code == 0 and not re.search(r"^mnist +not on this machine", out, re.M)


def test_an_interrupted_download_resumes_from_its_part_file(mnist_mirror, server, tmp_path,  # noqa: F811
                                                            monkeypatch):
    ranges = []
    plain = _Handler.do_GET

    def do_get(handler):  # honour "Range: bytes=N-", as real servers do
        wanted = handler.headers.get("Range")
        body, status, _ = handler.routes.get(handler.path, (b"", 404, None))
        if not wanted or status != 200:
            return plain(handler)
        ranges.append(wanted)
        start = int(wanted.split("=")[1].rstrip("-"))
        handler.send_response(206)
        handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        handler.wfile.write(body[start:])

    monkeypatch.setattr(_Handler, "do_GET", do_get)
    target = tmp_path / "d"
    target.mkdir()
    name = "train-images-idx3-ubyte.gz"
    body = mnist_mirror[name]
    (target / (name + ".part")).write_bytes(body[: len(body) // 2])  # what Ctrl-C left
    code, out, err = lamina("data", "fetch", "mnist", "--dir", target)
    assert code == 0, err
    assert f"resuming {name} at" in out
    assert ranges == [f"bytes={len(body) // 2}-"]
    assert (target / name).read_bytes() == body and not (target / (name + ".part")).exists()


# --------------------------------------------------------- 3. any counts, idx:, folder:
def test_a_subset_of_a_standard_data_set_trains_with_a_warning(tmp_path, rng):
    data = write_mnist_format(tmp_path / "part", rng, n_train=400, n_test=100)
    code, out, err = lamina("train", "--dataset", "mnist", "--data-dir", data, *TINY, "--quiet",
                            "--out", tmp_path / "run")
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("lamina: warning: ")]
    assert len(warned) == 2
    assert "has 400 images, not the 60000" in warned[0] and "has 100 images, not the 10000" in warned[1]
    assert config_of(tmp_path / "run")["model"] == "mlp:784,100,10:relu"


def test_idx_data_of_any_size_and_classes_trains_with_a_model_sized_to_it(tmp_path, rng):
    data = write_mnist_format(tmp_path / "emnist", rng, side=12, classes=5,
                              prefix="emnist-letters-")
    write_mnist_format(tmp_path / "emnist", rng, side=12, classes=5, prefix="emnist-digits-")
    code, _, err = lamina("train", "--dataset", f"idx:{data}", *TINY)
    assert code == 2 and "holds 2 IDX sets (emnist-digits, emnist-letters)" in err
    run = tmp_path / "run"
    code, out, err = lamina("train", "--dataset", f"idx:{data / 'emnist-letters'}", *TINY,
                            "--out", run)
    assert code == 0, err
    assert out.startswith("training mlp:144,100,5:relu (the default model sized to this data")
    config = config_of(run)
    assert config["dataset"] == f"idx:{data / 'emnist-letters'}" and config["num_classes"] == 5
    code, out, err = lamina("eval", run)
    assert code == 0 and "(40 images)" in out, err
    train = IDXDataset(data / "emnist-letters", train=True)
    assert train.data.shape == (120, 1, 12, 12) and train.classes == ("0", "1", "2", "3", "4")


def _png_tree(root, rng, classes, per_class, side=8):
    from PIL import Image

    for k, name in enumerate(classes):
        (root / name / "more").mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 30, (side, side), dtype=np.uint8)
            pixels[:, k % side] = 255  # a stripe per class
            place = root / name / ("more" if i % 3 == 0 else "") / f"{i:03d}.png"
            Image.fromarray(pixels).save(place)
        (root / name / "notes.txt").write_text("not an image")


def test_image_folder_follows_torchvision(tmp_path, rng):
    pytest.importorskip("PIL")
    _png_tree(tmp_path, rng, ["zebra", "ant", "moth"], 4)
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["ant", "moth", "zebra"]
    assert ds.class_to_idx == {"ant": 0, "moth": 1, "zebra": 2}
    assert ds.targets == [0] * 4 + [1] * 4 + [2] * 4 and ds.imgs is ds.samples
    assert ds.samples[0][0] == str(tmp_path / "ant" / "001.png")  # files before subfolders
    assert ds.samples[3][0] == str(tmp_path / "ant" / "more" / "003.png")
    image, label = ds[5]
    assert tuple(image.shape) == (1, 8, 8) and label == 1
    assert float(image.numpy()[:, :, 2].min()) == 1.0  # moth's stripe (third made), 255 -> 1
    arrays = ds.to_array_dataset()
    assert arrays.data.dtype == np.uint8 and arrays.classes == ("ant", "moth", "zebra")
    np.testing.assert_array_equal(arrays.arrays()[0][5], image.numpy())


def test_folder_data_with_train_and_test_subfolders_trains(tmp_path, rng):
    pytest.importorskip("PIL")
    _png_tree(tmp_path / "shapes" / "train", rng, ["a", "b", "c"], 12)
    _png_tree(tmp_path / "shapes" / "test", rng, ["a", "c"], 3)  # no "b" to test on
    run = tmp_path / "run"
    code, out, err = lamina("train", "--dataset", f"folder:{tmp_path / 'shapes'}", *TINY,
                            "--out", run)
    assert code == 0, err
    assert "(36 train / 6 test images)" in out.splitlines()[0]
    config = config_of(run)
    assert config["class_names"] == ["a", "b", "c"] and config["model"] == "mlp:64,100,3:relu"
    from lamina.train.assembly import get_splits

    _, test, _ = get_splits(config["dataset"])
    assert sorted(set(test.targets.tolist())) == [0, 2]  # "c" keeps the training index 2
    _png_tree(tmp_path / "shapes" / "test", rng, ["d"], 1)
    code, _, err = lamina("train", "--dataset", f"folder:{tmp_path / 'shapes'}", *TINY)
    assert code == 2 and "class folder(s) d" in err


def test_a_single_folder_tree_is_split_and_says_so(tmp_path, rng):
    pytest.importorskip("PIL")
    _png_tree(tmp_path / "tree", rng, ["x", "y"], 10)
    code, out, err = lamina("train", "--dataset", f"folder:{tmp_path / 'tree'}", *TINY,
                            "--out", tmp_path / "run")
    assert code == 0, err
    assert "its 20 images are split at random (seed 0) into 16 training and 4 test" in out


# ------------------------------------------------------------- 5. help, models, momentum
def test_every_train_flag_has_help_that_shows_its_default():
    train = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    train = train.choices["train"]
    flags = [a for a in train._actions if a.option_strings and a.dest != "help"]
    assert len(flags) >= 22
    for action in flags:
        assert action.help and "(default: " in action.help, action.option_strings
    code, out, _ = lamina("train", "--help")
    assert code == 0 and "--momentum MU" in out and "0 for sgd" in out


def test_models_explains_the_grammar_and_aligns_its_columns():
    from lamina.models.spec import MODEL_SPECS

    code, out, _ = lamina("models")
    assert code == 0
    assert "mlp:<d_0>,<d_1>,...,<d_L>[:<activation>[:<init>]]" in out
    assert "e.g. mlp:784,30,10:sigmoid:normal  = 784 inputs, 30 sigmoid hidden units" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("EXAMPLE"))
    column = lines[header].index("WHAT")
    starts = [line for line in lines[header + 1:] if line[:1].strip()]
    assert [line.split()[0] for line in starts] == [spec for spec, _, _ in MODEL_SPECS]
    for line in starts:
        assert line[column - 2:column] == "  " and line[column] != " ", line


@pytest.mark.parametrize("optimizer,given,used", [("sgd", None, 0.0), ("sgd", 0.5, 0.5),
                                                   ("momentum", None, 0.9),
                                                   ("momentum", 0.0, 0.0)])
def test_momentum_is_what_the_run_uses_and_records(tmp_path, optimizer, given, used):
    run = tmp_path / "run"
    extra = [] if given is None else ["--momentum", given]
    code, _, err = lamina("train", "--optimizer", optimizer, *extra, *SMALL, "--quiet",
                          "--out", run)
    assert code == 0, err
    assert config_of(run)["momentum"] == used
    from lamina.train.checkpoint import load_checkpoint

    state = load_checkpoint(str(run / "checkpoint.safetensors"))["optimizer"]
    assert state["param_groups"][0]["momentum"] == used
    buffers = [entry for entry in state["state"].values() if "momentum_buffer" in entry]
    assert bool(buffers) == (used > 0)


@pytest.mark.parametrize("args,words", [
    (["--optimizer", "adam", "--momentum", "0.5"], "does not apply to --optimizer adam"),
    (["--optimizer", "nesterov", "--momentum", "0"], "nesterov needs a momentum > 0"),
    (["--momentum", "1"], "expected a number in [0, 1)"),
])
def test_momentum_that_cannot_apply_is_refused(args, words):
    code, out, err = lamina("train", *args)
    assert code == 2 and out == "" and words in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------------- 6. messages
def test_held_out_images_and_one_epoch_are_said(tmp_path):
    code, out, err = lamina("train", "--train-size", "1000", "--val-size", "200", *TINY,
                            "--out", tmp_path / "run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(f"(1000 train / 200 test images) for 1 epoch -> {tmp_path / 'run'}")
    assert lines[1] == ("using the first 1000 of the 1437 training images (--train-size 1000): "
                        "the other 437 are held out for validation and not trained on")
    assert lines[2] == "evaluating on the first 200 of the 360 test images (--val-size 200)"
    assert not re.search(r"\b1 epochs\b", out)


def test_resuming_a_finished_run_says_so_and_writes_nothing(tmp_path):
    run = tmp_path / "run"
    code, out, err = lamina("train", "--epochs", "2", "--train-size", "200", "--quiet",
                            "--out", run)
    assert code == 0, err
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()}
    code, out, err = lamina("train", "--resume", run)
    assert code == 0 and err == ""
    final = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["test_accuracy"]
    assert out == (f"{run} is finished: it has trained 2 epochs (final test accuracy "
                   f"{final:.4f}), and --epochs 2 asks for no more; nothing to do. To train "
                   f"longer: lamina train --resume {run} --epochs 12\n")
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()} == before
    code, out, err = lamina("train", "--resume", run, "--epochs", "3", "--quiet")
    assert code == 0 and len(load_metrics(run)) == 3, err


def load_metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_idx_dataset_refuses_what_is_not_an_image_set(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 4, 4), np.float32))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="expected uint8 images"):
        IDXDataset(tmp_path)
    with pytest.raises(DataError, match="test split's images and labels file is missing"):
        IDXDataset(tmp_path, train=False)

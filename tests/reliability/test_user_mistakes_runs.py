"""Every user mistake about a run's files: exit status 2 and one line naming the file and
the problem on stderr, never a traceback (issue 17, "Every user mistake"): a full disk or a
file-size limit while ``--resume`` writes its checkpoint, bad image files for ``lamina
predict``, and damaged ``config.json``, weights and checkpoints for ``eval`` and ``--resume``.

The command runs in this process (``lamina.cli.main``) except where a resource limit needs
a process of its own. Each case asserts the status, exactly one ``lamina: error:`` line that
names the bad value or file, and no traceback (``tests/reliability/cli_mistakes.py``); the
disk cases also that no temporary file is left and the last checkpoint still loads.
"""
import errno
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.cli import main
from lamina.serialization import load, save

from tests.reliability.cli_mistakes import TINY, fails

REPO = Path(lamina.__file__).resolve().parent.parent


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished one-epoch run of a 64-8-10 MLP on the digits."""
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def copy_of(run_dir, tmp_path):
    def copy(name="run"):
        return Path(shutil.copytree(run_dir, tmp_path / name))
    return copy


def edit_config(directory: Path, change) -> Path:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))
    return path


# ------------------------------------------------------------------ --resume on a full disk
def test_full_disk_keeps_the_last_checkpoint_and_no_temporary(copy_of, monkeypatch, capsys):
    run = copy_of()
    before = (run / "checkpoint.safetensors").read_bytes()
    real_fsync = os.fsync

    def full_disk_for_checkpoints(fd):
        # ext4 and NFS report a full disk when the data is flushed: the write went to cache
        if ".checkpoint.safetensors." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    monkeypatch.setattr(os, "fsync", full_disk_for_checkpoints)
    fails(capsys, ["train", "--resume", run, "--epochs", "2", "--quiet"], str(run),
          "No space left on device")
    assert temporaries(run) == []
    assert (run / "checkpoint.safetensors").read_bytes() == before
    assert load(run / "checkpoint.safetensors")["epoch"] == 1


def test_file_size_limit_keeps_the_last_checkpoint_and_no_temporary(copy_of):
    run = copy_of()
    before = (run / "checkpoint.safetensors").read_bytes()
    limit = 4096  # config.json, metrics and the 3 KB weights fit; the 7 KB checkpoint does not
    assert (run / "model.safetensors").stat().st_size < limit < len(before)

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([sys.executable, "-m", "lamina.cli", "train", "--resume", str(run),
                             "--epochs", "2", "--quiet"], capture_output=True, text=True,
                            timeout=120, preexec_fn=limit_file_size, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg"))
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("lamina: error: "), result.stderr
    assert str(run) in lines[0] and "File too large" in lines[0]
    assert temporaries(run) == []
    assert (run / "checkpoint.safetensors").read_bytes() == before
    assert load(run / "checkpoint.safetensors")["epoch"] == 1


# ------------------------------------------------------------------ lamina predict
def _png(path: Path, pixels: np.ndarray) -> Path:
    image = pytest.importorskip("PIL.Image")
    image.fromarray(pixels).save(path, format="PNG")
    return path


def _other_format(path: Path, kind: str) -> Path:
    image = pytest.importorskip("PIL.Image")
    image.fromarray(np.full((8, 8), 200, np.uint8)).save(path, format=kind)
    return path


def _bad_image(kind: str, folder: Path) -> tuple[Path, str]:
    """A file of the given kind and a word the error must show."""
    if kind == "text.png":
        (folder / "notes.png").write_text("not an image\n")
        return folder / "notes.png", "text"
    if kind == "text.npy":
        (folder / "notes.npy").write_text("1 2 3\n")
        return folder / "notes.npy", "text"
    if kind == "empty.png":
        (folder / "empty.png").write_bytes(b"")
        return folder / "empty.png", "0 bytes"
    if kind == "jpeg.png":
        return _other_format(folder / "photo.png", "JPEG"), "JPEG"
    if kind == "gif.png":
        return _other_format(folder / "anim.png", "GIF"), "GIF"
    if kind == "truncated.png":
        data = _png(folder / "full.png", np.arange(64, dtype=np.uint8).reshape(8, 8)).read_bytes()
        (folder / "cut.png").write_bytes(data[:len(data) // 2])
        return folder / "cut.png", "truncated"
    if kind == "empty.npy":
        np.save(folder / "none.npy", np.zeros(0, np.float32))
        return folder / "none.npy", "empty array"
    if kind == "zero-bytes.npy":
        (folder / "zero.npy").write_bytes(b"")
        return folder / "zero.npy", "0 bytes"
    if kind == "strings.npy":
        np.save(folder / "words.npy", np.array(["a"] * 64))
        return folder / "words.npy", "<U1"
    if kind == "complex.npy":
        np.save(folder / "waves.npy", np.ones(64, np.complex64))
        return folder / "waves.npy", "complex64"
    if kind == "nan.npy":
        image = np.zeros((8, 8), np.float32)
        image[3, 4] = np.nan
        np.save(folder / "nan.npy", image)
        return folder / "nan.npy", "NaN"
    if kind == "inf.npy":
        np.save(folder / "inf.npy", np.full((8, 8), np.inf, np.float32))
        return folder / "inf.npy", "infinite"
    if kind == "huge.npy":
        np.save(folder / "huge.npy", np.full((8, 8), 1e6, np.float32))
        return folder / "huge.npy", "1e+06"
    if kind == "directory":
        (folder / "pictures.png").mkdir()
        return folder / "pictures.png", "directory"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["text.png", "text.npy", "empty.png", "jpeg.png", "gif.png",
                                  "truncated.png", "empty.npy", "zero-bytes.npy", "strings.npy",
                                  "complex.npy", "nan.npy", "inf.npy", "huge.npy", "directory"])
def test_predict_refuses_a_bad_image_file(kind, run_dir, tmp_path, capsys):
    path, word = _bad_image(kind, tmp_path)
    fails(capsys, ["predict", run_dir, path], str(path), word)
    assert capsys.readouterr().out == ""


@pytest.fixture(scope="module")
def colour_run(run_dir, tmp_path_factory):
    """A run whose model takes 3-channel 8x8 images (config.json and weights as a finished
    run has them; no colour data set is needed)."""
    from lamina.models.spec import build_model

    out = Path(shutil.copytree(run_dir, tmp_path_factory.mktemp("colour") / "run"))
    edit_config(out, lambda c: c.update(in_shape=[3, 8, 8], model="mlp:192,8,10"))
    save(build_model("mlp:192,8,10", (3, 8, 8), 10).state_dict(), out / "model.safetensors")
    return out


def test_greyscale_image_for_a_colour_model_is_converted_and_said(colour_run, tmp_path, capsys):
    grey = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    _png(tmp_path / "grey.png", grey)
    _png(tmp_path / "rgb.png", np.stack([grey] * 3, axis=-1))
    images = [str(tmp_path / "grey.png"), str(tmp_path / "rgb.png")]
    assert main(["predict", str(colour_run), *images]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out.splitlines()
    assert out[0] == (f"note: {tmp_path / 'grey.png'}: a greyscale image; its grey values are "
                      "repeated over the model's 3 colour channels")
    assert len(out) == 3  # one note (the RGB copy needs none), two predictions
    # the grey image predicts exactly what its RGB copy does
    assert out[1].split(": ", 1)[1] == out[2].split(": ", 1)[1]


def test_colour_image_for_a_grey_model_is_converted_and_said(run_dir, tmp_path, capsys):
    colour = np.random.default_rng(1).integers(0, 100, (8, 8, 3), dtype=np.uint8)
    _png(tmp_path / "colour.png", colour)
    assert main(["predict", str(run_dir), str(tmp_path / "colour.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"note: {tmp_path / 'colour.png'}: a colour image; converted to grey (the "
                      "mean of red, green and blue) for the model's 1 channel")
    assert out[1].startswith(f"{tmp_path / 'colour.png'}: class ")


def test_weights_with_nan_give_no_nan_probability(copy_of, tmp_path, capsys):
    run = copy_of()
    weights = load(run / "model.safetensors")
    first = next(iter(weights))
    weights[first] = lamina.full_like(weights[first], float("nan"))
    save(weights, run / "model.safetensors")
    np.save(tmp_path / "digit.npy", np.zeros((8, 8), np.float32))
    fails(capsys, ["predict", run, tmp_path / "digit.npy"], str(run), "non-finite")


# ------------------------------------------------------------------ --resume and eval
CONFIG_DAMAGE = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:100]), "not valid JSON"),
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "not-utf8": (lambda p: p.write_bytes(b"\xff\xfe{\x00"), "not text"),
    "json-list": (lambda p: p.write_text("[1, 2]"), "JSON list"),
    "epochs-ten": (lambda p: edit_config(p.parent, lambda c: c.update(epochs="ten")), '"ten"'),
    "lr-inf": (lambda p: edit_config(p.parent, lambda c: c.update(lr=float("inf"))), "'lr'"),
    "missing-key": (lambda p: edit_config(p.parent, lambda c: c.pop("lr")), "'lr'"),
    "unknown-model": (lambda p: edit_config(p.parent, lambda c: c.update(model="perceptron9")),
                      "perceptron9"),
    "class-names": (lambda p: edit_config(p.parent, lambda c: c.update(class_names=["a"])),
                    "class_names"),
    "task-loss": (lambda p: edit_config(p.parent, lambda c: c.update(task="autoencode")),
                  "autoencode"),
}


@pytest.mark.parametrize("command", ["eval", "resume", "predict"])
@pytest.mark.parametrize("damage", list(CONFIG_DAMAGE))
def test_damaged_config_json(damage, command, copy_of, tmp_path, capsys):
    run = copy_of()
    spoil, word = CONFIG_DAMAGE[damage]
    spoil(run / "config.json")
    np.save(tmp_path / "digit.npy", np.zeros((8, 8), np.float32))
    argv = {"eval": ["eval", run], "resume": ["train", "--resume", run, "--quiet"],
            "predict": ["predict", run, tmp_path / "digit.npy"]}[command]
    fails(capsys, argv, str(run / "config.json"), word)


def test_weights_file_where_the_checkpoint_belongs(copy_of, capsys):
    run = copy_of()
    shutil.copy(run / "model.safetensors", run / "checkpoint.safetensors")
    fails(capsys, ["train", "--resume", run, "--epochs", "2", "--quiet"],
          str(run / "checkpoint.safetensors"), "model weights only")


def test_checkpoint_where_the_weights_belong(copy_of, capsys):
    run = copy_of()
    shutil.copy(run / "checkpoint.safetensors", run / "model.safetensors")
    fails(capsys, ["eval", run], str(run / "model.safetensors"), "training checkpoint")


@pytest.mark.parametrize("command", ["eval", "resume"])
def test_files_of_another_architecture_in_one_line(command, copy_of, capsys):
    run = copy_of()
    edit_config(run, lambda c: c.update(model="mlp:64,16,10"))
    argv = (["eval", run] if command == "eval"
            else ["train", "--resume", run, "--epochs", "2", "--quiet"])
    name = "model.safetensors" if command == "eval" else "checkpoint.safetensors"
    fails(capsys, argv, str(run / name), "mlp:64,16,10", "(8, 64)", "(16, 64)")


def test_checkpoint_of_another_optimizer(copy_of, capsys):
    run = copy_of()
    edit_config(run, lambda c: c.update(optimizer="adam"))
    fails(capsys, ["train", "--resume", run, "--epochs", "2", "--quiet"],
          str(run / "checkpoint.safetensors"), "'adam'")


def test_eval_on_an_unknown_dataset(run_dir, capsys):
    fails(capsys, ["eval", run_dir, "--dataset", "imagenet"], "imagenet")

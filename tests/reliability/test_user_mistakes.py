"""Every user mistake on the command line: exit status 2 and one line naming the problem on
stderr, never a traceback (issue 17, "Every user mistake"). Here: ``lamina train``'s flags, its
output directory, the data set, and the guard that only the user's errors become one line;
test_user_mistakes_runs.py has the mistakes about a run's files (a full disk, predict's images,
damaged configs, weights and checkpoints).

The command runs in this process (``lamina.cli.main``). Each case asserts the status, exactly
one ``lamina: error:`` line that names the bad value or file, and no traceback
(``tests/reliability/cli_mistakes.py``).
"""
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.cli import main
from lamina.serialization import load

from tests.reliability.cli_mistakes import TINY, fails


# ------------------------------------------------------------------ lamina train: flags
def test_negative_seed_is_accepted_as_lm_manual_seed_accepts_it(tmp_path, capsys):
    # torch.manual_seed(-1) seeds with -1 mod 2**64 (tests/test_random.py compares
    # lm.manual_seed with it); --seed does the same, data order included
    lamina.manual_seed(-1)
    assert lamina.initial_seed() == 2**64 - 1
    for name, seed in (("minus", -1), ("wrapped", 2**64 - 1)):
        assert main(["train", *TINY, "--seed", str(seed), "--out", str(tmp_path / name)]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "minus" / "metrics.jsonl").read_text().split('"seconds"')[0] == \
        (tmp_path / "wrapped" / "metrics.jsonl").read_text().split('"seconds"')[0]
    a = load(tmp_path / "minus" / "model.safetensors")
    b = load(tmp_path / "wrapped" / "model.safetensors")
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_seed_outside_what_manual_seed_accepts(tmp_path, capsys):
    fails(capsys, ["train", *TINY, "--seed", 2**64, "--out", tmp_path / "r"], "--seed", str(2**64))


@pytest.mark.parametrize("flag,value", [("--lr", "inf"), ("--lr", "1e400"),
                                        ("--weight-decay", "inf")])
def test_infinite_rate_is_refused_before_training(flag, value, tmp_path, capsys):
    # (NaN and negative values were refused already)
    out = tmp_path / "r"
    fails(capsys, ["train", *TINY, f"{flag}={value}", "--out", out], flag, value)
    assert not out.exists()


def test_out_naming_an_existing_file(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    fails(capsys, ["train", *TINY, "--out", target], "--out", str(target), "is a file")
    assert target.read_text() == "keep me"


def test_lab_out_naming_an_existing_file(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    fails(capsys, ["lab", "depth", "--quick", "--out", target], "--out", str(target))


def _refuse_writes_under(monkeypatch, directory: Path, code: int) -> None:
    """Make creating anything under ``directory`` fail with ``code`` (as a read-only mount
    does; chmod alone does not stop root)."""
    real_open, real_mkdir, real_builtin_open = os.open, os.mkdir, open
    inside = str(directory) + os.sep

    def check(path):
        if os.path.abspath(os.fspath(path)).startswith(inside):
            raise OSError(code, os.strerror(code), os.fspath(path))

    def fake_open(path, flags, *args, **kwargs):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            check(path)
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        check(path)
        return real_mkdir(path, *args, **kwargs)

    def fake_builtin_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and set(mode) & set("wax+"):
            check(file)
        return real_builtin_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr("builtins.open", fake_builtin_open)


def test_read_only_output_directory(tmp_path, monkeypatch, capsys):
    mount = tmp_path / "readonly"
    mount.mkdir()
    _refuse_writes_under(monkeypatch, mount, errno.EROFS)
    line = fails(capsys, ["train", *TINY, "--out", mount / "run"], str(mount / "run"),
                 "Read-only file system")
    assert "--out" in line
    assert list(mount.iterdir()) == []


def test_data_dir_for_the_embedded_digits_is_ignored_with_a_warning(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", *TINY, "--data-dir", "/nonexistent/mnist", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["lamina: warning: --data-dir /nonexistent/mnist is "
                                         "ignored: the digits data set is embedded in lamina"]
    assert "test accuracy" in captured.out
    assert json.loads((out / "config.json").read_text())["data_dir"] is None


def test_missing_data_set_files_in_one_line(tmp_path, monkeypatch, capsys):
    # the message says where to put which files; it used to take two lines
    monkeypatch.setenv("LAMINA_DATA", str(tmp_path / "cache"))
    from lamina.data import MNIST

    assert not MNIST.system_dirs  # (Fashion-MNIST may be installed system-wide)
    fails(capsys, ["train", *TINY, "--dataset", "mnist", "--model", "mlp:784,8,10",
                   "--out", tmp_path / "r"], "MNIST", str(tmp_path / "cache"), "--download")


# ------------------------------------------------------------------ only users' errors
def _raising(monkeypatch, error):
    import lamina.train.runner

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(lamina.train.runner, "run", broken)


def test_an_os_error_about_the_users_disk_is_one_line(monkeypatch, capsys):
    _raising(monkeypatch, OSError(errno.EDQUOT, os.strerror(errno.EDQUOT),
                                  "runs/x/model.safetensors"))
    fails(capsys, ["train"], "runs/x/model.safetensors", os.strerror(errno.EDQUOT))


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error", "somewhere"),
                                   KeyError("a bug"), TypeError("a bug")],
                         ids=["io-error", "key-error", "type-error"])
def test_a_bug_in_lamina_keeps_its_traceback(error, monkeypatch):
    # A guard on the catch in cli.main (it held before the change too): only lamina's own
    # errors and the OS's errors about the user's files become one line.
    _raising(monkeypatch, error)
    with pytest.raises(type(error)):
        main(["train"])

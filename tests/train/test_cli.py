"""The `lamina` command: the main job end to end, resume, errors, eval and predict."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lamina.cli import main
from tests.runs import assert_identical_runs

FAST = ["--epochs", "2", "--quiet"]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lamina.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()))


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    """`lamina train` with no arguments, as the README runs it (output directory chosen)."""
    out = tmp_path_factory.mktemp("main") / "run"
    result = run_cli("train", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_main_job_trains_the_digits_mlp_above_90_percent(main_job):
    out, result = main_job
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("test accuracy:")
    assert float(last.split(":")[1]) > 0.9
    for name in ("config.json", "metrics.jsonl", "model.safetensors", "checkpoint.safetensors",
                 "curves.png", "confusion.png"):
        assert (out / name).stat().st_size > 0, name
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    config = json.loads((out / "config.json").read_text())
    assert len(records) == config["epochs"]
    for key in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"):
        assert key in records[-1]
    assert records[-1]["test_accuracy"] == pytest.approx(float(result.stdout.split(":")[-1]))


def test_eval_reproduces_the_final_test_accuracy(main_job, capsys):
    out, _ = main_job
    assert main(["eval", str(out)]) == 0
    accuracy = float(capsys.readouterr().out.split("test accuracy")[1].split()[0])
    final = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["test_accuracy"]
    assert accuracy == pytest.approx(final, abs=1e-4)


def test_predict_classifies_a_digit_from_an_npy_file(main_job, tmp_path, capsys):
    from lamina.data import Digits

    out, _ = main_job
    test = Digits(train=False)
    images, labels = test.arrays()
    right = 0
    for k in range(10):
        path = tmp_path / f"digit{k}.npy"
        np.save(path, images[k].reshape(8, 8))
        assert main(["predict", str(out), str(path)]) == 0
        line = capsys.readouterr().out
        predicted = line.split("class ")[1].split()[0]
        right += predicted == str(labels[k])
        assert 0 < float(line.split("probability ")[1].split(")")[0]) <= 1
    assert right >= 8


def test_resume_after_epoch_2_of_4_matches_an_uninterrupted_run(tmp_path):
    common = ["train", "--model", "mlp:64,32,10:relu", "--dropout", "0.2", "--augment",
              "--seed", "3", "--quiet", "--lr", "0.05"]
    full = tmp_path / "full"
    assert main([*common, "--epochs", "4", "--out", str(full)]) == 0
    part = tmp_path / "part"
    assert main([*common, "--epochs", "2", "--out", str(part)]) == 0
    assert main(["train", "--resume", str(part), "--epochs", "4", "--quiet"]) == 0
    assert_identical_runs(full, part)


@pytest.mark.parametrize("args,needle", [
    (["train", "--model", "nonsense"], "nonsense"),
    (["train", "--dataset", "imagenet"], "imagenet"),
    (["train", "--optimizer", "lbfgs"], "lbfgs"),
    (["train", "--preset", "nielsen-99"], "nielsen-99"),
    (["train", "--loss", "hinge"], "hinge"),
    (["train", "--batch-size", "0"], "0"),
    (["train", "--batch-size", "-5"], "-5"),
    (["train", "--epochs", "zero"], "zero"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/lamina-data"], "/nonexistent/lamina-data"),
    (["eval", "/nonexistent/run"], "/nonexistent/run"),
    (["frobnicate"], "frobnicate"),
])
def test_cli_errors_are_one_line_with_status_2(args, needle, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr


def test_presets_and_models_are_listed(capsys):
    assert main(["presets"]) == 0
    listing = capsys.readouterr().out
    for name in ("nielsen-30", "nielsen-30-30", "nielsen-30-30-30", "lenet5", "tf-cnn"):
        assert name in listing
    assert "94.84" in listing
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    for spec in ("mlp:784,30,10", "lenet5", "tf-cnn", "resnet8"):
        assert spec in listing


def test_preset_with_fewer_images_than_asked_says_so(tmp_path, capsys):
    assert main(["train", "--preset", "nielsen-30", "--dataset", "digits", "--model",
                 "mlp:64,30,10:sigmoid:normal", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "50000" in out and "fewer" in out
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["lr"] == 3.0 and config["batch_size"] == 10 and config["loss"] == "quadratic"


def test_resume_refuses_changes_other_than_epochs(main_job, capsys):
    out, _ = main_job
    assert main(["train", "--resume", str(out), "--lr", "0.5", "--batch-size", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--batch-size" in err and "--lr" in err and len(err.splitlines()) == 1

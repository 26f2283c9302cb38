"""`lamina train --task autoencode`: the run's files, falling reconstruction loss, resume,
eval, the task/model mismatch errors, and the recorded step against the eager one."""
import contextlib
import io
import json

import numpy as np
import pytest

from lamina.cli import main
from lamina.errors import LaminaValueError
from lamina.serialization import load
from lamina.train import fit, resolve_config
from lamina.train.runner import build_run

SMALL = ["--train-size", "300", "--val-size", "100"]


def train(*args):
    """``lamina train`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("autoencode") / "run"
    code, stdout, stderr = train("--task", "autoencode", "--epochs", "2", *SMALL, "--out", str(out))
    assert code == 0, stderr
    return out, stdout


def records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_writes_every_file_with_reconstructions(run_dir):
    out, _ = run_dir
    for name in ("config.json", "metrics.jsonl", "model.safetensors", "checkpoint.safetensors",
                 "curves.png", "reconstructions.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "reconstructions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "confusion.png").exists()  # no classes to confuse


def test_config_records_the_task_defaults(run_dir):
    config = json.loads((run_dir[0] / "config.json").read_text())
    assert config["task"] == "autoencode"
    assert config["model"] == "autoencoder:64,32,16"  # sized to the 8x8 digits
    assert (config["loss"], config["optimizer"]) == ("mse", "adam")
    weights = load(str(run_dir[0] / "model.safetensors"))
    assert tuple(weights["encoder.1.weight"].shape) == (32, 64)
    assert tuple(weights["decoder.3.weight"].shape) == (64, 32)


def test_metrics_are_reconstruction_losses_that_fall(run_dir):
    out, stdout = run_dir
    history = records(out)
    assert [r["epoch"] for r in history] == [1, 2]
    for r in history:
        assert set(r) == {"epoch", "train_loss", "test_loss", "lr", "seconds"}
        assert 0 < r["test_loss"] < 0.25  # per-pixel MSE of [0, 1] images
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert history[1]["test_loss"] < history[0]["test_loss"]
    lines = stdout.strip().splitlines()
    assert sum("train reconstruction loss" in line and "test reconstruction loss" in line
               for line in lines) == 2
    assert "acc" not in stdout
    assert lines[-1].startswith("test reconstruction loss:")
    assert float(lines[-1].split(":")[1]) == pytest.approx(history[-1]["test_loss"], abs=1e-4)


def test_eval_prints_the_test_reconstruction_loss(run_dir, capsys):
    out, _ = run_dir
    assert main(["eval", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("test reconstruction loss (mse)") and "100 images" in text
    value = float(text.split(")")[1].split()[0])
    assert value == pytest.approx(records(out)[-1]["test_loss"], abs=1e-4)


def test_predict_refuses_an_autoencoder_run(run_dir, capsys):
    assert main(["predict", str(run_dir[0]), "nothing.npy"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "autoencoder run" in err


def test_resume_after_epoch_1_of_2_matches_an_uninterrupted_run(tmp_path):
    common = ["--task", "autoencode", "--model", "autoencoder:64,24,4", "--train-size", "200",
              "--val-size", "50", "--seed", "5", "--quiet"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert train(*common, "--epochs", "2", "--out", str(whole))[0] == 0
    assert train(*common, "--epochs", "1", "--out", str(part))[0] == 0
    code, stdout, stderr = train("--resume", str(part), "--epochs", "2")
    assert code == 0, stderr
    a = load(str(whole / "model.safetensors"))
    b = load(str(part / "model.safetensors"))
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    losses = lambda out: [(r["train_loss"], r["test_loss"]) for r in records(out)]  # noqa: E731
    assert losses(whole) == losses(part)
    assert "resuming" not in stdout  # --quiet
    assert (part / "reconstructions.png").stat().st_size > 0


@pytest.mark.parametrize("args, named", [
    (["--task", "autoencode", "--model", "mlp:64,32,10"], ("mlp:64,32,10", "autoencode")),
    (["--model", "autoencoder:64,8"], ("autoencoder:64,8", "classify")),
    (["--task", "classify", "--model", "conv-autoencoder"], ("conv-autoencoder", "classify")),
    (["--task", "autoencode", "--preset", "nielsen-30"], ("mlp:784,30,10", "autoencode")),
    (["--task", "autoencode", "--loss", "cross-entropy"], ("cross-entropy", "autoencode")),
    (["--loss", "bce"], ("bce", "classify")),
])
def test_a_model_or_loss_that_does_not_fit_the_task_is_refused_in_one_line(tmp_path, args, named):
    out = tmp_path / "never"
    code, stdout, stderr = train(*args, "--epochs", "1", "--out", str(out))
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("lamina: error:")
    for word in named:
        assert word in stderr
    assert not out.exists()


def test_bce_and_the_convolutional_autoencoder_train(tmp_path):
    out = tmp_path / "conv"
    code, stdout, stderr = train("--task", "autoencode", "--model", "conv-autoencoder:4,8",
                                 "--loss", "bce", "--epochs", "1", *SMALL, "--out", str(out),
                                 "--quiet")
    assert code == 0, stderr
    (record,) = records(out)
    assert 0 < record["test_loss"] < 0.8  # BCE of a sigmoid output, below log 2 after training
    assert (out / "reconstructions.png").stat().st_size > 0


def test_task_defaults_yield_to_explicit_choices():
    config = resolve_config({"task": "autoencode", "lr": 0.05, "optimizer": "sgd", "loss": "bce"})
    assert (config["lr"], config["optimizer"], config["loss"]) == (0.05, "sgd", "bce")
    assert config["model"] == "autoencoder"
    classify = resolve_config({})
    assert classify["task"] == "classify" and classify["model"] == "mlp:64,64,10:relu"
    assert (classify["loss"], classify["optimizer"], classify["lr"]) == ("cross-entropy",
                                                                        "momentum", 0.1)
    with pytest.raises(LaminaValueError, match="unknown task 'denoise'"):
        resolve_config({"task": "denoise"})


@pytest.mark.parametrize("model", ["autoencoder:64,16,3", "conv-autoencoder:4,8"])
def test_recorded_steps_give_bitwise_the_eager_result(model):
    weights, losses = [], []
    for compile in (True, False):
        config = resolve_config({"task": "autoencode", "model": model, "train_size": 96,
                                 "val_size": 32, "batch_size": 16, "quiet": True})
        data, net, loss_fn, optimizer = build_run(config)
        history = fit(net, data.train_loader, data.test_loader, loss_fn, optimizer, 2,
                      quiet=True, compile=compile, task="autoencode")
        weights.append([p.numpy().copy() for p in net.parameters()])
        losses.append([(r["train_loss"], r["test_loss"]) for r in history])
    assert losses[0] == losses[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_fit_refuses_an_unknown_task():
    config = resolve_config({"task": "autoencode", "train_size": 32, "val_size": 32})
    data, net, loss_fn, optimizer = build_run(config)
    with pytest.raises(LaminaValueError, match="unknown task 'regress'"):
        fit(net, data.train_loader, data.test_loader, loss_fn, optimizer, 1, quiet=True,
            task="regress")

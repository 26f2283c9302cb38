"""Reliability, files and faults: bad files are refused without running code, a killed run
resumes to the same weights, bad data and divergence stop training cleanly, and the
command line fails with one line and status 2.

Issue 8, lines 15-21. The servers, payloads and bad files are those of
tests/test_serialization.py and tests/data/test_download.py, imported rather than copied.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lamina
import lamina.data
import lamina.train.assembly
from lamina import nn
from lamina.cli import main
from lamina.data import DataLoader, Digits, download_file, read_idx
from lamina.errors import DataError, FileFormatError, LaminaValueError
from lamina.serialization import load
from tests.data.test_download import GOOD, RESOURCE, _LocalMNIST, server  # noqa: F401 (fixture)
from tests.test_serialization import _bad_files

REPO = Path(lamina.__file__).resolve().parent.parent
RUN = ["train", "--model", "mlp:64,32,10:relu", "--epochs", "4", "--seed", "1", "--quiet",
       "--batch-size", "4"]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lamina.cli", *args]


_ENV = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(_command(*args), capture_output=True, text=True, timeout=timeout,
                          env=_ENV, cwd=REPO)


# ---------------------------------------------------------------- line 15
@pytest.mark.parametrize("kind", ["truncated-data", "truncated-header", "bad-magic", "npy-pickle",
                                  "pickle"])
def test_bad_checkpoint_files_are_refused_and_run_no_code(kind, tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(_bad_files(tmp_path, marker)[kind])
    with pytest.raises(FileFormatError, match="checkpoint.safetensors"):
        load(path)
    assert not marker.exists()
    if kind == "npy-pickle":   # the payload is live: NumPy with allow_pickle runs it
        np.load(path, allow_pickle=True)
        assert marker.exists()


# ---------------------------------------------------------------- line 16
def test_load_state_dict_lists_missing_unexpected_and_misshapen_keys_in_one_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    state = model.state_dict()
    del state["2.bias"]
    state["2.scale"] = lamina.ones(2)
    state["0.weight"] = lamina.zeros(4, 5)
    with pytest.raises(LaminaValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert '"2.bias"' in message and "Missing" in message
    assert '"2.scale"' in message and "Unexpected" in message
    assert "0.weight" in message and "(4, 5)" in message and "(4, 3)" in message


# ---------------------------------------------------------------- lines 17 and 21
@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory):
    """The run of line 17, uninterrupted, twice. Each: (output directory, phases), where
    phases = (seconds until config.json exists (start-up done), seconds until the last
    checkpoint was written, seconds until the process ended)."""
    base = tmp_path_factory.mktemp("reference")
    runs = []
    for name in ("first", "second"):
        out = base / name
        started = time.time()
        process = subprocess.Popen(_command(*RUN, "--out", str(out)), env=_ENV, cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while process.poll() is None and not (out / "config.json").exists():
            time.sleep(0.002)
        configured = time.time() - started
        _, stderr = process.communicate(timeout=120)
        ended = time.time() - started
        assert process.returncode == 0, stderr
        trained = (out / "checkpoint.safetensors").stat().st_mtime - started
        runs.append((out, (configured, trained, ended)))
    return runs


def _metrics_without_seconds(run: Path) -> list[dict]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_same_seed_gives_bitwise_identical_metrics_and_weights(reference_runs):
    (a, _), (b, _) = reference_runs
    assert _metrics_without_seconds(a) == _metrics_without_seconds(b)
    assert len(_metrics_without_seconds(a)) == 4
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    wa, wb = load(a / "model.safetensors"), load(b / "model.safetensors")
    for key in wa:
        np.testing.assert_array_equal(wa[key].numpy(), wb[key].numpy(), err_msg=key)


def _kill_after(out: Path, delay: float, configured: float) -> None:
    """Start the run into ``out`` and SIGKILL it ``delay`` seconds into it (unless it ended).

    Start-up time varies most from one process to the next, so a moment after the start-up
    (``delay > configured``) is timed from the moment this run's config.json appears."""
    process = subprocess.Popen(_command(*RUN, "--out", str(out)), env=_ENV, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if delay > configured:
        while process.poll() is None and not (out / "config.json").exists():
            time.sleep(0.002)
        delay -= configured
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_loadable_checkpoint_and_resume_matches(
        reference_runs, tmp_path):
    reference, (configured, trained, ended) = reference_runs[0]
    expected = (reference / "model.safetensors").read_bytes()
    # Seeded moments covering the whole run: one in the start-up, four spread over the
    # epochs and their checkpoint writes (one in each quarter), one in the final plotting.
    rng = np.random.default_rng(17)
    quarters = configured + (np.arange(4) + rng.uniform(size=4)) * (trained - configured) / 4
    delays = [rng.uniform(0, configured), *quarters, rng.uniform(trained, ended)]
    finished_epochs = []
    for k, delay in enumerate(delays):
        out = tmp_path / f"killed-{k}"
        _kill_after(out, float(delay), configured)
        checkpoint = out / "checkpoint.safetensors"
        epoch = None
        if checkpoint.exists():
            state = load(checkpoint)                  # must load: never half-written
            epoch = state["epoch"]
            assert 1 <= epoch <= 4 and len(state["history"]) == epoch
        finished_epochs.append(epoch)
        if (out / "config.json").exists():
            result = _cli("train", "--resume", str(out))
        else:                                         # killed before the run had started
            result = _cli(*RUN, "--out", str(out))
        assert result.returncode == 0, (delay, result.stderr)
        assert (out / "model.safetensors").read_bytes() == expected, (delay, epoch)
        assert _metrics_without_seconds(out) == _metrics_without_seconds(reference)
    print(f"killed at {np.round(delays, 2)} s: finished epochs {finished_epochs}")


# ---------------------------------------------------------------- line 18
@pytest.mark.parametrize("route,words", [("corrupt", "checksum"), ("truncated", "bytes, expected"),
                                         ("html", "HTML page")],
                         ids=["wrong-hash", "truncated-gz", "html"])
def test_bad_dataset_download_is_refused_and_never_cached(server, tmp_path, route, words):  # noqa: F811
    with pytest.raises(DataError, match=words):
        download_file([f"{server}/{route}/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_leftover_part_file_is_never_used(server, tmp_path):  # noqa: F811
    part = tmp_path / "f.gz.part"
    part.write_bytes(GOOD)                            # complete, verified bytes: still unused
    with pytest.raises(DataError):
        download_file([f"{server}/truncated/f.gz"], tmp_path / "f.gz", RESOURCE, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_truncated_gz_in_the_cache_is_refused(tmp_path, monkeypatch, rng):
    from lamina.data import write_idx

    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    cache = tmp_path / "mnist"
    cache.mkdir()
    images = write_idx(cache / "t10k-images-idx3-ubyte.gz",
                       rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))
    write_idx(cache / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    images.write_bytes(images.read_bytes()[:-20])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*truncated"):
        _LocalMNIST(train=False)
    with pytest.raises(DataError, match="truncated"):
        read_idx(images)


# ---------------------------------------------------------------- line 19
def test_nan_image_stops_training_naming_epoch_and_step_and_keeps_the_checkpoint(
        tmp_path, monkeypatch, capsys):
    out, batch, seed, poisoned = tmp_path / "run", 16, 2, 123
    common = ["--model", "mlp:64,32,10:relu", "--seed", str(seed), "--batch-size", str(batch),
              "--quiet"]
    assert main(["train", *common, "--epochs", "2", "--out", str(out)]) == 0
    checkpoint, weights = out / "checkpoint.safetensors", out / "model.safetensors"
    saved = checkpoint.read_bytes(), weights.read_bytes()

    class NaNDigits(Digits):
        """The digits with training image ``poisoned`` made of NaN."""

        def __init__(self, train=True, **kwargs):
            super().__init__(train=train, **kwargs)
            if train:
                self.data = self.data.astype(np.float32)
                self.data[poisoned] = np.nan

    monkeypatch.setattr(lamina.train.assembly, "Digits", NaNDigits)  # where the trainer finds it
    capsys.readouterr()
    with np.errstate(all="ignore"):
        status = main(["train", "--resume", str(out), "--epochs", "4"])
    error = capsys.readouterr().err
    order = DataLoader(Digits(train=True), batch_size=batch, shuffle=True, seed=seed).permutation(3)
    step = int(np.flatnonzero(order == poisoned)[0]) // batch + 1
    assert status == 2
    assert f"epoch 3, step {step}" in error and "Traceback" not in error
    assert (checkpoint.read_bytes(), weights.read_bytes()) == saved
    assert load(checkpoint)["epoch"] == 2


def test_diverging_learning_rate_exits_2_naming_epoch_and_step(tmp_path):
    # cross-entropy: with --loss quadratic the sigmoid outputs keep the loss in [0, 1/2]
    # however large the step, so there is nothing to diverge
    out = tmp_path / "run"
    result = _cli("train", "--model", "mlp:64,32,10:relu", "--epochs", "2", "--quiet",
                  "--lr", "1e10", "--out", str(out))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("lamina: error: the loss became") and "epoch 1, step" in last
    assert "Traceback" not in result.stderr
    assert not (out / "checkpoint.safetensors").exists()
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]   # no temporaries left


# ---------------------------------------------------------------- line 20
@pytest.mark.parametrize("args,shown", [
    (["--model", "perceptron9"], "perceptron9"),
    (["--dataset", "imagenet"], "imagenet"),
    (["--optimizer", "lbfgs"], "lbfgs"),
    (["--preset", "nielsen-99"], "nielsen-99"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent/lamina-data"], "/nonexistent/lamina-data"),
    (["--batch-size", "0"], "0"),
    (["--batch-size", "-3"], "-3"),
], ids=["model", "dataset", "optimizer", "preset", "data-dir", "batch-0", "batch-negative"])
def test_cli_mistakes_exit_2_with_one_line(args, shown, tmp_path):
    result = _cli("train", "--epochs", "1", "--out", str(tmp_path / "run"), *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: error:"), result.stderr
    assert shown in lines[0]
    assert result.stdout == ""

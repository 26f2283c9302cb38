"""Reliability under real schedulers: SIGTERM stops a run at a safe point and --resume
continues it bitwise; temporary files of killed writes are cleaned up; two runs never share
an output directory; the BLAS thread count is recorded and a resume that changes it warns.

Issue 17, "Runs under real schedulers". The subprocess helpers are those of
test_files_and_faults.py (and, for MPI, tests/distributed/test_mpi.py), imported.
"""
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lamina.atomic import atomic_path, is_temporary_name
from lamina.cli import main
from lamina.serialization import load
from lamina.train.lock import LOCK_NAME, run_lock
from lamina.train.threads import blas_threads
from tests.reliability.test_files_and_faults import (_ENV, REPO, _cli, _command,
                                                     _metrics_without_seconds)

fit_module = importlib.import_module("lamina.train.fit")  # lamina.train.fit is also the function

# Dropout draws from the global generator and --augment from the loader's own: resuming
# within an epoch must bring both back to where they were.
RUN = ["train", "--model", "mlp:64,32,10:relu", "--epochs", "3", "--seed", "5", "--batch-size",
       "8", "--lr", "0.05", "--dropout", "0.2", "--augment", "--quiet"]
STEPS_PER_EPOCH = 180  # ceil(1437 training digits / 8)
QUICK = ["train", "--model", "mlp:64,10", "--epochs", "1", "--batch-size", "64", "--quiet"]


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    """The runs in this process draw no pictures (a third of their time; not tested here)."""
    monkeypatch.setattr(importlib.import_module("lamina.train.plots"), "have_matplotlib",
                        lambda: False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """RUN, uninterrupted (in this process: the same computation as the command's)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    return out


def _status(argv: list[str]) -> int:
    """``main(argv)``'s exit status, whether it returns it or raises SystemExit with it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _assert_same_run(run: Path, reference: Path) -> None:
    weights = "model.safetensors"
    assert (run / weights).read_bytes() == (reference / weights).read_bytes()
    assert _metrics_without_seconds(run) == _metrics_without_seconds(reference)


def _leftovers(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if p.name == LOCK_NAME or is_temporary_name(p.name))


# ---------------------------------------------------------------- SIGTERM
def test_sigterm_checkpoints_exits_143_with_one_line_and_resume_is_bitwise(reference, tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(_command(*RUN, "--out", str(out)), env=_ENV, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    checkpoint = out / "checkpoint.safetensors"
    while process.poll() is None and not checkpoint.exists():
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: stopped by SIGTERM "), stderr
    assert f"lamina train --resume {out}" in lines[0]
    assert _leftovers(out) == []                      # the lock is gone, no temporary files
    state = load(checkpoint)
    assert state["epoch"] in (1, 2) and len(state["history"]) == state["epoch"]
    assert main(["train", "--resume", str(out)]) == 0
    _assert_same_run(out, reference)
    print(f"stopped {lines[0].split('SIGTERM ')[1].split(';')[0]}")


def _sigterm_at_step(at: int):
    """fit's step maker, whose steps send this process SIGTERM during step number ``at``
    (counted over the whole run), as a scheduler might at any moment."""
    real, calls = fit_module._forward_backward, [0]

    def make(model, loss_fn):
        step = real(model, loss_fn)

        def sigterm_step(*args):
            calls[0] += 1
            if calls[0] == at:
                os.kill(os.getpid(), signal.SIGTERM)
            return step(*args)

        return sigterm_step

    return make


@pytest.mark.parametrize("at", [STEPS_PER_EPOCH + 57, STEPS_PER_EPOCH])
def test_sigterm_mid_step_stops_after_that_step_and_resume_continues_exactly(
        reference, tmp_path, monkeypatch, capsys, at):
    """Deterministic: SIGTERM inside step 57 of epoch 2 stops after that step (a checkpoint
    mid-epoch); inside the last step of epoch 1, after that step (the checkpoint holds all
    of the epoch's steps; resuming only evaluates it)."""
    out = tmp_path / "run"
    original = fit_module._forward_backward
    monkeypatch.setattr(fit_module, "_forward_backward", _sigterm_at_step(at))
    missed = []   # were lamina's handler missing, SIGTERM would end pytest itself

    def recorder(signum, frame):
        missed.append(signum)

    previous = signal.signal(signal.SIGTERM, recorder)
    try:
        capsys.readouterr()
        status = _status([*RUN, "--out", str(out)])
        assert signal.getsignal(signal.SIGTERM) is recorder  # the handler before is back
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert status == 143 and missed == []
    epoch, step = divmod(at - 1, STEPS_PER_EPOCH)
    assert capsys.readouterr().err.strip() == (
        f"lamina: stopped by SIGTERM at epoch {epoch + 1}, step {step + 1}; "
        f"continue with: lamina train --resume {out}")
    state = load(out / "checkpoint.safetensors")
    assert (state["epoch"], state["progress"]["epoch"], state["progress"]["steps"]) == (
        epoch, epoch + 1, step + 1)
    monkeypatch.setattr(fit_module, "_forward_backward", original)
    assert main(["train", "--resume", str(out)]) == 0
    _assert_same_run(out, reference)
    assert _leftovers(out) == []


def test_the_first_sigterm_asks_the_second_ends_at_once_and_threads_install_nothing():
    import threading

    from lamina.train.interrupt import TrainingTerminated, stop_on_signals

    missed = []

    def before(signum, frame):  # were no handler installed, SIGTERM would end pytest itself
        missed.append(signum)

    previous = signal.signal(signal.SIGTERM, before)
    try:
        with pytest.raises(TrainingTerminated) as ended:
            with stop_on_signals() as request:
                os.kill(os.getpid(), signal.SIGTERM)
                assert request.signum == signal.SIGTERM
                os.kill(os.getpid(), signal.SIGTERM)
        assert ended.value.code == 143 and signal.getsignal(signal.SIGTERM) is before
        seen = []

        def in_a_thread():
            with stop_on_signals():
                seen.append(signal.getsignal(signal.SIGTERM))

        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
        assert seen == [before] and missed == []
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------- temporary files
LEFTOVERS = [".checkpoint.safetensors.k3x_9q0a.tmp", ".model.safetensors.abcdefgh.tmp",
             ".config.json.0a1b2c3d.tmp"]
NOT_OURS = [".checkpoint.safetensors.abc.tmp", "notes.k3x_9q0a.tmp",
            ".model.safetensors.ABCDEFGH.tmp", ".curves.png.abcdefgh.tmp.bak"]


def test_atomic_writes_name_their_temporary_files_with_the_recognised_pattern(tmp_path):
    with atomic_path(tmp_path / "checkpoint.safetensors") as tmp:
        name = Path(tmp).name
        assert is_temporary_name(name) and name.startswith(".checkpoint.safetensors.")
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]


def test_temporary_files_of_killed_writes_are_removed_by_the_next_run_and_by_resume(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in LEFTOVERS + NOT_OURS:
        (out / name).write_bytes(b"half a checkpoint")
    assert main([*QUICK, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert not names & set(LEFTOVERS) and set(NOT_OURS) <= names
    for name in LEFTOVERS:
        (out / name).write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0
    names = {p.name for p in out.iterdir()}
    assert not names & set(LEFTOVERS) and set(NOT_OURS) <= names


# ---------------------------------------------------------------- two runs, one directory
def test_a_second_run_into_a_held_directory_refuses_naming_it_and_the_holder(tmp_path):
    out = tmp_path / "run"
    assert main([*QUICK, "--out", str(out)]) == 0
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    with run_lock(out):                               # this test process is the live holder
        (out / LEFTOVERS[0]).write_bytes(b"being written by the holder")
        for args in ([*QUICK, "--seed", "7", "--out", str(out)], ["train", "--resume", str(out)]):
            result = _cli(*args)
            assert result.returncode == 2, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("lamina: error:"), result.stderr
            assert str(out) in lines[0]
            assert f"process {os.getpid()} on host {socket.gethostname()}" in lines[0]
        assert (out / LEFTOVERS[0]).exists()          # the holder's write is left alone
        (out / LEFTOVERS[0]).unlink()
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != LOCK_NAME} == files
    assert not (out / LOCK_NAME).exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_stale_lock_is_taken_over_with_a_note_and_removed_at_the_end(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "started": "earlier"}
    (out / LOCK_NAME).write_text(json.dumps(stale))
    assert main([*QUICK, "--out", str(out)]) == 0
    notes = capsys.readouterr().err.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("lamina: note:"), notes
    assert f"process {stale['pid']} on host {stale['host']}" in notes[0]
    assert "no longer running" in notes[0]
    assert (out / "model.safetensors").exists() and not (out / LOCK_NAME).exists()


def test_a_lock_from_another_host_is_respected_and_says_how_to_remove_it(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
    assert main([*QUICK, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "process 1 on host elsewhere.example" in error and f"delete {out / LOCK_NAME}" in error
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]


# ---------------------------------------------------------------- BLAS threads
def test_config_records_the_blas_thread_count_and_a_resume_with_another_warns(tmp_path, capsys):
    out = tmp_path / "run"
    one_thread = dict(_ENV, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(_command(*QUICK, "--out", str(out)), env=one_thread, cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    config_path = out / "config.json"
    assert json.loads(config_path.read_text())["blas_threads"] == 1
    here = blas_threads()
    config = json.loads(config_path.read_text())
    config["blas_threads"] = here + 2
    config_path.write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--epochs", "2"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: warning:"), lines
    assert f"trained with {here + 2} BLAS threads and resumes with {here}" in lines[0]
    assert json.loads(config_path.read_text())["blas_threads"] == here + 2   # the run's own
    config["blas_threads"] = here
    config_path.write_text(json.dumps(config))
    assert main(["train", "--resume", str(out), "--epochs", "3"]) == 0
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- MPI
def _rank_pids(launcher_pid: int) -> dict[int, int]:
    """{rank: pid} of the lamina processes below ``launcher_pid`` (Linux /proc)."""
    found, pending = {}, [launcher_pid]
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        pending += map(int, children)
        for entry in environ:
            name, _, value = entry.partition(b"=")
            if name in (b"PMI_RANK", b"OMPI_COMM_WORLD_RANK") and pid != launcher_pid:
                found[int(value)] = pid
    return found


def test_sigterm_to_one_rank_stops_every_rank_at_the_same_step_and_resumes_in_one(tmp_path):
    """SIGTERM to rank 1 of 2 (not the rank that writes); the checkpoint resumes in one process
    to the run one process makes (within the tolerance of tests/distributed: the ranks' sums
    are taken in another order). No dropout: its masks depend on the number of processes."""
    from tests.distributed.test_mpi import _environment, _mpi_problem, assert_same_run

    problem = _mpi_problem()
    if problem is not None:
        pytest.skip(problem)
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("needs Linux's /proc/PID/task/PID/children to find the ranks")
    args = [a for a in RUN if a not in ("--dropout", "0.2")]
    single, out = tmp_path / "single", tmp_path / "run"
    assert main([*args, "--out", str(single)]) == 0
    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    process = subprocess.Popen([mpiexec, "-n", "2", *_command(*args, "--out", str(out))],
                               env=_environment(), cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    while process.poll() is None and not (out / "checkpoint.safetensors").exists():
        time.sleep(0.002)
    ranks = _rank_pids(process.pid)
    if 1 not in ranks:
        process.kill()
        pytest.fail(f"rank 1 not found below {mpiexec} (found {ranks}); ended: {process.poll()}")
    os.kill(ranks[1], signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert stderr.count("lamina: stopped by SIGTERM") == 1, stderr   # rank 0 says it once
    assert _leftovers(out) == []
    assert main(["train", "--resume", str(out)]) == 0
    assert_same_run(single, out)

"""Data-parallel training over MPI: the same model whatever the number of processes, faults
that end the job instead of hanging it, and no mpi4py in a single process.

The multi-process tests launch ``mpiexec -n 2`` (the one beside this Python, as the mpich
wheel installs it, else the one on PATH) and skip, saying why, when mpi4py or a working
mpiexec is missing. Every subprocess has a timeout.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lamina as lm
from lamina import distributed as dist
from lamina import nn
from lamina.data import DataLoader, Digits, TensorDataset, transforms
from lamina.distributed import mpi

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("mpi_worker.py")
TRAIN = ["train", "--model", "mlp:64,32,10:relu", "--batch-size", "50", "--quiet"]  # 1437 = 28 * 50 + 37
TOLERANCE = 1e-5


def _environment() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k != "LAMINA_DISTRIBUTED" and not k.startswith(("PMI_", "PMIX_", "OMPI_", "SLURM_"))}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1",
               # Open MPI refuses root and more ranks than cores unless told; MPICH ignores these.
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def _run(command, timeout=60):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=_environment())


@functools.lru_cache(maxsize=None)
def _mpi_problem() -> str | None:
    """Why the multi-process tests cannot run here, or None when they can."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'lamina[mpi]')"
    beside = Path(sys.executable).with_name("mpiexec")
    launcher = str(beside) if beside.exists() else shutil.which("mpiexec")
    if launcher is None:
        return "no mpiexec beside this Python nor on PATH (pip install mpich)"
    probe = _run([launcher, "-n", "2", sys.executable, "-c",
                  "from mpi4py import MPI; c = MPI.COMM_WORLD\n"
                  "if c.Get_rank() == 0: print('size', c.Get_size())"], timeout=30)
    if probe.stdout.split() != ["size", "2"]:
        return (f"{launcher} -n 2 does not start a 2-process mpi4py job (a launcher of another "
                f"MPI library?): {probe.stdout.strip()!r} {probe.stderr.strip()[-300:]!r}")
    return None


@pytest.fixture(scope="module")
def mpiexec():
    problem = _mpi_problem()
    if problem is not None:
        pytest.skip(problem)
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def lamina_cmd(*args) -> list:
    return [sys.executable, "-m", "lamina.cli", *map(str, args)]


def _metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _weights(run_dir):
    from lamina.serialization import load

    return {k: v.numpy() for k, v in load(run_dir / "model.safetensors").items()}


def assert_same_run(a, b):
    ma, mb = _metrics(a), _metrics(b)
    assert [r["epoch"] for r in ma] == [r["epoch"] for r in mb]
    for ra, rb in zip(ma, mb):
        for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
            assert abs(ra[key] - rb[key]) <= TOLERANCE, (ra["epoch"], key, ra[key], rb[key])
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_allclose(wa[key], wb[key], rtol=0, atol=TOLERANCE, err_msg=key)


@pytest.fixture(scope="module")
def two_epoch_runs(tmp_path_factory, mpiexec):
    """`lamina train` for 2 epochs in one process and under `mpiexec -n 2`."""
    root = tmp_path_factory.mktemp("ddp")
    one, two = root / "one", root / "two"
    single = _run(lamina_cmd(*TRAIN, "--epochs", 2, "--out", one))
    assert single.returncode == 0, single.stderr
    double = _run([mpiexec, "-n", "2", *lamina_cmd(*TRAIN, "--epochs", 2, "--out", two)])
    assert double.returncode == 0, double.stdout + double.stderr
    return one, two, double


# ---------------------------------------------------------------------- several processes
def test_two_processes_train_the_same_model_as_one(two_epoch_runs):
    one, two, result = two_epoch_runs
    assert_same_run(one, two)
    # Only rank 0 prints: one final line, not one per rank.
    assert result.stdout.count("test accuracy:") == 1, result.stdout


def test_a_checkpoint_of_two_processes_resumes_in_one(two_epoch_runs, mpiexec, tmp_path):
    one, _, _ = two_epoch_runs
    part = tmp_path / "part"
    first = _run([mpiexec, "-n", "2", *lamina_cmd(*TRAIN, "--epochs", 1, "--out", part)])
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(_metrics(part)) == 1
    resumed = _run(lamina_cmd("train", "--resume", part, "--epochs", 2, "--quiet"))
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(one, part)


def test_gradients_broadcasts_and_fit_across_ranks(mpiexec):
    result = _run([mpiexec, "-n", "2", sys.executable, WORKER, "checks"])
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("uneven shares", "empty share", "broadcast", "fit"):
        assert f"ok {name}" in result.stdout, result.stdout + result.stderr


def test_data_parallel_training_with_cuda_tensors_goes_through_the_host(mpiexec):
    """Replicas on 'cuda' (the checking array module: any stray NumPy call on a device array
    fails) reduce their gradients through host memory and stay identical."""
    result = _run([mpiexec, "-n", "2", sys.executable, WORKER, "device-checks"])
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("uneven shares on cuda", "fit on cuda"):
        assert f"ok {name}" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("mode,shown", [
    ("fail", ["injected failure on rank 1 at step 3", "Traceback", "rank 1 of 2"]),
    ("cli-fail", ["lamina: error: injected divergence on rank 1 at step 3"]),
])
def test_an_exception_on_one_rank_ends_the_job_promptly(mpiexec, mode, shown, tmp_path):
    started = time.monotonic()
    result = _run([mpiexec, "-n", "2", sys.executable, WORKER, mode, tmp_path / "run"], timeout=60)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert elapsed < 30, f"the job took {elapsed:.1f} s to end"
    for text in shown:
        assert text in output, output


def test_a_user_error_under_mpiexec_ends_the_job_with_the_message(mpiexec, tmp_path):
    started = time.monotonic()
    result = _run([mpiexec, "-n", "2", *lamina_cmd("train", "--model", "nonsense", "--out",
                                                   tmp_path / "bad")], timeout=60)
    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert "lamina: error: unknown model spec 'nonsense'" in result.stderr


# ---------------------------------------------------------------------- one process
def test_one_process_never_imports_mpi4py(tmp_path):
    argv = ["train", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    code = ("import sys, lamina, lamina.distributed as d\n"
            "assert (d.rank(), d.world_size(), d.is_main()) == (0, 1, True)\n"
            "assert d.communicator() is None and not d.is_initialized()\n"
            "from lamina.cli import main\n"
            f"assert main({argv!r}) == 0\n"
            "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'\n")
    result = _run([sys.executable, "-c", code])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("environ,size", [
    ({}, 1),
    ({"PMI_RANK": "1", "PMI_SIZE": "4"}, 4),                         # MPICH, Intel MPI
    ({"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "3"}, 3),  # Open MPI
    ({"MV2_COMM_WORLD_RANK": "0", "MV2_COMM_WORLD_SIZE": "2"}, 2),    # MVAPICH
    ({"SLURM_PROCID": "5", "SLURM_STEP_NUM_TASKS": "8"}, 8),         # srun
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "8"}, 1),                 # sbatch script, no srun
    ({"PMI_RANK": "0", "PMI_SIZE": "many"}, 1),
])
def test_launcher_variables_give_the_world_size(environ, size):
    assert mpi.launched_world_size(environ) == size


def test_lamina_distributed_0_keeps_a_launched_process_single(monkeypatch):
    monkeypatch.setenv("PMI_RANK", "1")
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("LAMINA_DISTRIBUTED", "0")
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)
    assert dist.DataParallelTraining.from_environment() is None


def test_a_missing_mpi4py_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` fail
    monkeypatch.setenv("LAMINA_DISTRIBUTED", "1")
    with pytest.raises(dist.DistributedError, match=r"pip install 'lamina\[mpi\]'"):
        dist.world_size()
    assert not dist.is_initialized()


@pytest.mark.parametrize("count", [1, 2, 3, 37, 50, 64])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
def test_shard_bounds_partition_a_batch_evenly(count, replicas):
    bounds = [dist.shard_bounds(count, replicas, r) for r in range(replicas)]
    assert bounds[0][0] == 0 and bounds[-1][1] == count
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1


def _shards_rebuild_the_batches(make_loader, replicas, epoch=2):
    whole = make_loader()
    whole.set_epoch(epoch)
    shards = []
    for r in range(replicas):
        sharded = dist.ShardedLoader(make_loader(), num_replicas=replicas, rank=r)
        sharded.set_epoch(epoch)
        shards.append(list(sharded))
        assert sharded.epoch == epoch + 1
    assert all(len(s) == len(whole) for s in shards)
    for k, batch in enumerate(whole):
        for field, array in enumerate(batch):
            parts = [s[k][field].numpy() for s in shards]
            assert all(p.dtype == array.dtype and p.shape[1:] == array.shape[1:] for p in parts)
            np.testing.assert_array_equal(np.concatenate(parts), array.numpy())


@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (False, False), (True, True)])
def test_sharded_loader_shares_are_the_one_process_batches(replicas, shuffle, drop_last):
    data = Digits(train=True)
    _shards_rebuild_the_batches(
        lambda: DataLoader(data, batch_size=50, shuffle=shuffle, drop_last=drop_last, seed=4),
        replicas)


def test_sharded_loader_draws_augmentation_as_one_process_does():
    data = Digits(train=False)
    augment = transforms.Compose([transforms.RandomShift(1), transforms.RandomRotation(10)])
    _shards_rebuild_the_batches(
        lambda: DataLoader(data, batch_size=64, shuffle=True, seed=2, transform=augment), 2)


def test_sharded_loader_gives_empty_shares_of_a_batch_smaller_than_the_world():
    data = TensorDataset(lm.arange(5.0).reshape(5, 1), lm.arange(5))
    _shards_rebuild_the_batches(lambda: DataLoader(data, batch_size=2), 3)
    shares = [len(list(dist.ShardedLoader(DataLoader(data, batch_size=2), 3, r))[-1][1])
              for r in range(3)]
    assert sorted(shares) == [0, 0, 1]


def test_sharded_loader_rejects_a_rank_outside_the_world():
    with pytest.raises(dist.DistributedError, match="rank=2"):
        dist.ShardedLoader(DataLoader(Digits(train=False)), num_replicas=2, rank=2)


def test_ddp_in_one_process_changes_nothing():
    from lamina.nn import functional as F

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    ddp = dist.DistributedDataParallel(model)
    assert ddp.world_size == 1 and ddp.rank == 0
    x, y = lm.randn(6, 4), lm.tensor([0, 1, 1, 0, 1, 0])
    F.cross_entropy(ddp(x), y).backward()
    grads = [p.grad for p in model.parameters()]
    assert ddp.sync_gradients(6) == 6
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    np.testing.assert_array_equal(ddp.all_reduce_sum([1, 2]), [1.0, 2.0])

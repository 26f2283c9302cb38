"""Run under ``mpiexec -n 2`` by test_mpi.py: ``python mpi_worker.py checks|fail|cli-fail DIR``.

``checks`` asserts, on every rank, what DistributedDataParallel and ShardedLoader promise and
prints ``ok <name>`` on rank 0 for each; a failed assertion reaches the abort handler, so the
job exits non-zero. ``fail`` trains and raises on rank 1 at step 3 while rank 0 waits in the
gradient Allreduce: the job must end at once with the error shown, not hang. ``cli-fail``
does the same through ``lamina train``, whose one-line error handling catches the exception.
``device-checks`` runs the gradient and fit checks with the model on 'cuda', the checking
array module standing in for a GPU (gradients go through host memory to MPI and back).
"""
import sys
from pathlib import Path

import numpy as np

import lamina as lm
from lamina import distributed as dist
from lamina import nn, optim
from lamina.data import DataLoader, TensorDataset
from lamina.nn import functional as F
from lamina.train import fit


class WithUnused(nn.Module):
    """A small MLP with a layer that forward never uses (its gradient must stay None)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        return self.body(x)


def gathered(comm, array):
    return comm.allgather(np.asarray(array))


def same_on_every_rank(comm, arrays):
    for a in arrays:
        copies = gathered(comm, a)
        assert all(np.array_equal(copies[0], c) for c in copies[1:]), "replicas differ"


def say(comm, text):
    if comm.Get_rank() == 0:
        print(text, flush=True)


def check_gradients(comm, batch_rows: int, name: str, device: str = "cpu"):
    """The synced gradient of shares of a batch equals the one-process gradient of the batch
    (with the replicas on ``device``: there, the synced gradients stay on it)."""
    rank, size = comm.Get_rank(), comm.Get_size()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch_rows, 5)).astype(np.float32)
    y = rng.integers(0, 3, batch_rows)
    lm.manual_seed(0)
    reference = WithUnused()
    F.cross_entropy(reference(lm.tensor(x)), lm.tensor(y)).backward()
    lm.manual_seed(0)
    model = WithUnused().to(device)
    ddp = dist.DistributedDataParallel(model)
    start, stop = dist.shard_bounds(batch_rows, size, rank)
    if stop > start:
        F.cross_entropy(ddp(lm.tensor(x[start:stop], device=device)),
                        lm.tensor(y[start:stop], device=device)).backward()
    assert ddp.sync_gradients(stop - start) == batch_rows
    for (key, p), q in zip(model.named_parameters(), reference.parameters()):
        if q.grad is None:
            assert p.grad is None, f"{key}: unused parameter got a gradient"
        else:
            assert p.grad.device == lm.device(device if device != "cuda" else "cuda:0"), key
            np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=key)
            assert p.grad.dtype == np.float32
    say(comm, f"ok {name}")


def check_broadcasts(comm):
    rank = comm.Get_rank()
    lm.manual_seed(rank)  # different initial weights on each rank
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ddp = dist.DistributedDataParallel(model)
    same_on_every_rank(comm, [p.numpy() for p in model.parameters()])
    model[1].running_mean.numpy()[...] = rank + 1.0
    ddp.eval()
    ddp(lm.randn(2, 3))
    assert np.all(model[1].running_mean.numpy() == 1.0), "rank 0's buffers were not broadcast"
    say(comm, "ok broadcast")


def check_fit(comm, device: str = "cpu"):
    """fit with ShardedLoader keeps the replicas bitwise identical and agrees on the record."""
    lm.manual_seed(3)
    data = TensorDataset(lm.randn(53, 6), lm.randint(0, 4, (53,)))
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)).to(device)
    ddp = dist.DistributedDataParallel(model)
    loader = dist.ShardedLoader(DataLoader(data, batch_size=10, shuffle=True, seed=1))
    test = dist.ShardedLoader(DataLoader(data, batch_size=25))
    opt = optim.Adam(model.parameters(), lr=0.01)
    history = fit(ddp, loader, test, F.cross_entropy, opt, epochs=2, quiet=True)
    assert all(p.device.type == lm.device(device).type for p in model.parameters())
    same_on_every_rank(comm, [p.cpu().numpy() for p in model.parameters()])
    record = {k: v for k, v in history[-1].items() if k != "seconds"}
    assert all(r == record for r in comm.allgather(record)), "ranks disagree on the record"
    assert dist.all_reduce_sum([1.0, 2.0]).tolist() == [comm.Get_size(), 2.0 * comm.Get_size()]
    say(comm, f"ok fit on {device}")


def fail():
    lm.manual_seed(0)
    data = TensorDataset(lm.randn(200, 6), lm.randint(0, 4, (200,)))
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    ddp = dist.DistributedDataParallel(model)
    steps = [0]

    def loss_fn(out, y):
        steps[0] += 1
        if dist.rank() == 1 and steps[0] == 3:
            raise RuntimeError("injected failure on rank 1 at step 3")
        return F.cross_entropy(out, y)

    loader = dist.ShardedLoader(DataLoader(data, batch_size=10, shuffle=True, seed=0))
    fit(ddp, loader, loader, loss_fn, optim.SGD(model.parameters(), lr=0.1), epochs=50,
        quiet=True, compile=False)


def cli_fail(out: str) -> int:
    """`lamina train` whose loss raises a LaminaError on rank 1 at step 3: the command catches
    it to print its one-line error, and must still end the other rank."""
    from lamina.cli import main
    from lamina.train import TrainingDiverged, runner

    make_loss = runner.make_loss

    def failing_make_loss(config, num_classes):
        loss, steps = make_loss(config, num_classes), [0]

        def failing(out, y):
            steps[0] += 1
            if dist.rank() == 1 and steps[0] == 3:
                raise TrainingDiverged("injected divergence on rank 1 at step 3")
            return loss(out, y)
        return failing

    runner.make_loss = failing_make_loss  # the name the training command calls
    return main(["train", "--epochs", "50", "--quiet", "--out", out])


if __name__ == "__main__":
    assert dist.init() >= 2, "run me under mpiexec -n 2 (or more)"
    comm = dist.communicator()
    if sys.argv[1] == "fail":
        fail()
    elif sys.argv[1] == "cli-fail":
        sys.exit(cli_fail(sys.argv[2]))
    elif sys.argv[1] == "device-checks":
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from lamina.backend import use_cuda_backend
        from tests.checking_array import CheckingBackend

        with use_cuda_backend(CheckingBackend()):
            check_gradients(comm, 7, "uneven shares on cuda", device="cuda")
            check_fit(comm, device="cuda")
    else:
        check_gradients(comm, 7, "uneven shares")
        check_gradients(comm, 1, "empty share")
        check_broadcasts(comm)
        check_fit(comm)

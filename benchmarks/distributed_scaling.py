"""Data-parallel scaling: LeNet-5 training throughput with 1, 2, ... MPI processes.

Not a test: run it by hand (it needs mpi4py and mpiexec: pip install 'lamina[mpi]').

    python benchmarks/distributed_scaling.py                       # 1 and 2 processes, synthetic
    python benchmarks/distributed_scaling.py --procs 1,2,4 --data fashion-mnist

Each configuration trains LeNet-5 (28x28 inputs, 10 classes, SGD with momentum) with a global
batch of 64 through ``lamina.train.fit``, exactly as ``mpiexec -n N lamina train`` does: a
DistributedDataParallel model, ShardedLoader loaders, one gradient Allreduce per step. Every
process is limited to one BLAS thread (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS =
MKL_NUM_THREADS = 1), so N processes use N cores. The first epoch is a warm-up (it records
the replayed step); the table reports images per second over the following epochs (best and
median: on a shared machine the best epoch is the one least disturbed by other work), the
scaling efficiency throughput(N) / (N throughput(1)), and the CPU time all ranks spend per
image with its ratio to one process's (the work added by splitting the batch and
communicating; MPI's busy-waiting while a rank waits for another counts in it too).

The 1-process row runs without mpiexec (the single-process baseline users have); the others
under ``mpiexec -n N`` (the one beside this Python, else the one on PATH).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description="lamina data-parallel scaling (LeNet-5)")
    parser.add_argument("--procs", default="1,2", help="process counts, comma-separated")
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--data", choices=("synthetic", "fashion-mnist"), default="synthetic")
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST directory")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------- one configuration
class CPUClock:
    """A fit callback noting this process's CPU time at the start and after every epoch."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def on_train_begin(self, history) -> None:
        self.marks.append(time.process_time())

    def on_epoch_end(self, record, history) -> None:
        self.marks.append(time.process_time())

    def on_train_end(self, history) -> None:
        pass


def worker(args) -> None:
    import numpy as np

    import lamina as lm
    from lamina import distributed as dist
    from lamina import optim
    from lamina.data import ArrayDataset, DataLoader
    from lamina.models import LeNet5
    from lamina.nn import functional as F
    from lamina.train import fit

    lm.manual_seed(0)
    count = args.steps * args.batch_size
    if args.data == "fashion-mnist":
        from lamina.data import FashionMNIST

        full = FashionMNIST(root=args.data_dir, train=True)
        train = ArrayDataset(full.data[:count], full.targets[:count], scale=float(full.scale))
    else:
        rng = np.random.default_rng(0)
        train = ArrayDataset(rng.integers(0, 256, (count, 1, 28, 28), dtype=np.uint8),
                             rng.integers(0, 10, count), scale=1 / 255)
    val = ArrayDataset(train.data[:args.batch_size], train.targets[:args.batch_size],
                       scale=float(train.scale))
    model = LeNet5()
    ddp = dist.DistributedDataParallel(model)
    loader = dist.ShardedLoader(DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=0))
    val_loader = dist.ShardedLoader(DataLoader(val, batch_size=args.batch_size))
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    clock = CPUClock()
    history = fit(ddp, loader, val_loader, F.cross_entropy, optimizer, args.epochs + 1,
                  callbacks=[clock], quiet=True)
    rates = [count / record["seconds"] for record in history[1:]]
    # CPU seconds of every rank per image, over the timed epochs: the work the job does,
    # which other processes on a shared machine disturb less than the wall-clock rate.
    cpu = float(dist.all_reduce_sum([clock.marks[-1] - clock.marks[1]])[0])
    if dist.is_main():
        print(json.dumps({"procs": dist.world_size(), "best": max(rates),
                          "median": statistics.median(rates), "epochs": len(rates),
                          "images": count,
                          "cpu_ms_per_image": 1000 * cpu / (count * len(rates))}), flush=True)


# ---------------------------------------------------------------------- the driver
def _mpiexec() -> str:
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("no mpiexec beside this Python nor on PATH: pip install 'lamina[mpi]'")
    return found


def measure(procs: int, args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.update({name: "1" for name in THREAD_VARIABLES})
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--steps", str(args.steps), "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--data", args.data]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if procs > 1:
        command = [_mpiexec(), "-n", str(procs), *command]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    args = _parse_args(argv)
    if args.worker:
        worker(args)
        return
    counts = [int(p) for p in args.procs.split(",")]
    rows = [measure(n, args) for n in counts]
    base = next((r for r in rows if r["procs"] == 1), None)
    print(f"LeNet-5, global batch {args.batch_size}, {args.data} data, {args.steps} steps per "
          f"epoch, {args.epochs} timed epochs, 1 BLAS thread per process, {os.cpu_count()} cores")
    print("| processes | images/s (best) | images/s (median) | speed-up | efficiency | "
          "CPU ms per image (all ranks) | CPU efficiency |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        relative = "| - | - |"
        if base is not None:  # ratios need the 1-process row
            speedup = row["best"] / base["best"]
            relative = f"| {speedup:.2f}x | {speedup / row['procs']:.0%} |"
        cpu = f"{base['cpu_ms_per_image'] / row['cpu_ms_per_image']:.0%}" if base else "-"
        print(f"| {row['procs']} | {row['best']:.0f} | {row['median']:.0f} {relative} "
              f"{row['cpu_ms_per_image']:.3f} | {cpu} |")


if __name__ == "__main__":
    main()

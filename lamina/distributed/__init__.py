"""Data-parallel training over MPI: one model, N processes, each on its share of every batch.

    mpiexec -n 4 lamina train --model lenet5 --dataset fashion-mnist --batch-size 256

trains the same model that ``lamina train`` trains in one process with the same seed (the
batch size is the global one), about N times faster when there are N cores or nodes to
spare. See docs/distributed.md.

Importing this package does not import mpi4py: in a single process :func:`rank`,
:func:`world_size` and :func:`is_main` answer 0, 1 and True from the environment alone.
"""
from .mpi import (DistributedError, abort, all_reduce_sum, barrier, communicator, init,
                  is_initialized, is_main, launched_world_size, rank, world_size)
from .parallel import DistributedDataParallel
from .sharding import ShardedLoader, shard_bounds
from .training import DataParallelTraining

__all__ = ["init", "is_initialized", "rank", "world_size", "is_main", "launched_world_size",
           "communicator", "barrier", "all_reduce_sum", "abort", "DistributedError",
           "DistributedDataParallel", "ShardedLoader", "shard_bounds", "DataParallelTraining"]

"""What ``mpiexec -n N lamina train ...`` needs: one object handed to the training run.

The training run (:func:`lamina.train.runner.run`) sits below this package and never imports
it; the command line builds a :class:`DataParallelTraining` when it was launched as several
processes and passes it in. The run then wraps its model and loaders with it, and lets only
the main rank (rank 0) print and write files.
"""
from __future__ import annotations

from . import mpi
from .parallel import DistributedDataParallel
from .sharding import ShardedLoader

__all__ = ["DataParallelTraining"]


class DataParallelTraining:
    """Data-parallel training over the ranks of ``comm`` (default: MPI's COMM_WORLD).

    ``wrap_model`` broadcasts rank 0's weights and returns the
    :class:`~lamina.distributed.DistributedDataParallel` wrapper; ``shard_loader`` returns
    this rank's :class:`~lamina.distributed.ShardedLoader` view of a loader whose batch size
    is the global one.
    """

    def __init__(self, comm=None) -> None:
        if comm is None:
            mpi.init()
            comm = mpi.communicator()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()

    @classmethod
    def from_environment(cls) -> "DataParallelTraining | None":
        """An instance when this process is one of several started by a launcher (MPI is
        then initialised), None in a single process (mpi4py is then not imported)."""
        comm = mpi.communicator()
        if comm is None or comm.Get_size() == 1:
            return None
        return cls(comm)

    @property
    def is_main(self) -> bool:
        """True on rank 0, which prints progress and writes the run's files."""
        return self.rank == 0

    def wrap_model(self, model) -> DistributedDataParallel:
        return DistributedDataParallel(model, comm=self.comm)

    def shard_loader(self, loader) -> ShardedLoader:
        return ShardedLoader(loader, num_replicas=self.world_size, rank=self.rank)

    def __repr__(self) -> str:
        return f"DataParallelTraining(rank={self.rank}, world_size={self.world_size})"

"""The MPI seam: which process this is, how many there are, and the few collectives lamina uses.

Data-parallel training runs the same program in N processes ("ranks" 0 .. N-1), started by
a launcher: ``mpiexec -n N``, ``mpirun``, or Slurm's ``srun``. This module is the only place
that talks to MPI (through mpi4py), and it imports mpi4py only when there is more than one
process to talk to:

* :func:`rank`, :func:`world_size` and :func:`is_main` answer 0, 1 and True in an ordinary
  single process, reading nothing but the environment (mpi4py is not imported);
* launched by a launcher that starts several processes (detected from the variables it sets:
  ``PMI_SIZE`` for MPICH and Intel MPI, ``OMPI_COMM_WORLD_SIZE`` for Open MPI,
  ``MV2_COMM_WORLD_SIZE`` for MVAPICH, ``SLURM_STEP_NUM_TASKS`` for ``srun``, or
  ``PMIX_RANK`` for PMIx launchers), the first call initialises MPI by itself and MPI's
  answer is the truth; :func:`init` does so explicitly;
* ``LAMINA_DISTRIBUTED=0`` keeps a process single whatever the environment says, and
  ``LAMINA_DISTRIBUTED=1`` initialises MPI even when no launcher variable is recognised.

Initialising MPI for more than one process also installs the fault handler: an exception
that nobody catches, on any rank, prints its traceback on that rank and then calls
``MPI_Abort``, which ends every rank of the job at once. Without it the failed rank would
exit while the others wait forever in their next collective (a hang, not an error).
"""
from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np

from ..errors import LaminaError

__all__ = ["DistributedError", "init", "is_initialized", "launched_world_size", "rank",
           "world_size", "is_main", "communicator", "barrier", "all_reduce_sum", "abort",
           "abort_job"]

# (rank variable, size variable) of each launcher, most specific first. srun's step
# variables are used, not SLURM_NTASKS: a batch script running plain `python` sees the
# allocation's task count but is one process.
_LAUNCHER_VARIABLES = (
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),   # Open MPI's mpirun / mpiexec
    ("PMI_RANK", "PMI_SIZE"),                           # MPICH / Intel MPI hydra, srun --mpi=pmi2
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"),     # MVAPICH
    ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS"),           # srun
)
_SWITCH = "LAMINA_DISTRIBUTED"

_comm = None          # mpi4py's COMM_WORLD once init() has run
_hook_installed = False


class DistributedError(LaminaError, RuntimeError):
    """Distributed training cannot start (mpi4py missing, a rank out of range, ...)."""


def launched_world_size(environ: dict | None = None) -> int:
    """The number of processes the launcher says it started, from the environment alone
    (1 outside a launcher). MPI is neither imported nor initialised.

    >>> launched_world_size({"PMI_RANK": "0", "PMI_SIZE": "4"})
    4
    """
    env = os.environ if environ is None else environ
    for rank_name, size_name in _LAUNCHER_VARIABLES:
        size = env.get(size_name)
        if size is not None and rank_name in env:
            try:
                return max(int(size), 1)
            except ValueError:
                continue
    return 1


def _wants_mpi() -> bool:
    switch = os.environ.get(_SWITCH, "").strip().lower()
    if switch in ("0", "false", "no", "off"):
        return False
    if switch in ("1", "true", "yes", "on"):
        return True
    # A PMIx launcher (Open MPI 5's prterun, srun --mpi=pmix) may export no size: ask MPI.
    return launched_world_size() > 1 or "PMIX_RANK" in os.environ


def init() -> int:
    """Initialise MPI (importing mpi4py) if it is not yet, and return the number of processes.

    With more than one process this installs the abort-on-exception handler described in
    the module's docstring. Calling it again does nothing more.
    """
    global _comm
    if _comm is None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise DistributedError(
                f"this process was started by an MPI launcher ({launched_world_size()} "
                "processes) or with LAMINA_DISTRIBUTED=1, but mpi4py cannot be imported "
                f"({exc}); install it with: pip install 'lamina[mpi]'") from None
        _comm = MPI.COMM_WORLD
        if _comm.Get_size() > 1:
            _install_abort_hook(_comm)
    return _comm.Get_size()


def is_initialized() -> bool:
    """True once :func:`init` has run (explicitly or on first use under a launcher)."""
    return _comm is not None


def communicator():
    """mpi4py's ``COMM_WORLD`` when MPI is (or, under a launcher, now gets) initialised;
    None in a single process, where nothing needs communicating."""
    if _comm is None and _wants_mpi():
        init()
    return _comm


def rank() -> int:
    """This process's index among the ranks, 0 .. world_size() - 1 (0 in a single process)."""
    comm = communicator()
    return 0 if comm is None else comm.Get_rank()


def world_size() -> int:
    """The number of processes training together (1 in a single process)."""
    comm = communicator()
    return 1 if comm is None else comm.Get_size()


def is_main() -> bool:
    """True on rank 0, the rank that prints and writes files (and in a single process)."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank has arrived here (nothing to wait for in a single process)."""
    comm = communicator()
    if comm is not None and comm.Get_size() > 1:
        comm.Barrier()


def all_reduce_sum(values, comm=None) -> np.ndarray:
    """sum over ranks r of ``values``_r, returned to every rank as a new float64 array.

    For statistics (loss sums, counts of correct answers, confusion matrices): float64
    keeps counts exact up to 2**53. One MPI call, in place on a private copy.
    """
    total = np.array(values, dtype=np.float64)  # a copy: the caller's array is not touched
    comm = communicator() if comm is None else comm
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI

        comm.Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    return total


_OUTPUT_GRACE_SECONDS = 0.5


def _abort_now(comm, code: int) -> None:
    """Flush this rank's output, give the launcher a moment to forward it (MPI_Abort kills
    the processes at once, and bytes still in flight would be lost), then abort the job."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(_OUTPUT_GRACE_SECONDS)
    comm.Abort(code)


def abort(code: int = 1) -> None:
    """End every rank of the job now with exit status ``code`` (``MPI_Abort``); in a single
    process, exit with ``code``."""
    comm = communicator()
    if comm is not None and comm.Get_size() > 1:
        _abort_now(comm, code)
    sys.stdout.flush()
    sys.stderr.flush()
    raise SystemExit(code)


def abort_job(code: int) -> None:
    """If this process is one rank of several, end the whole job with ``code``; otherwise
    return. For error paths that handle an exception instead of letting it reach the
    uncaught-exception handler (the ``lamina`` command's one-line errors): the other ranks
    may be waiting for this one in a collective and would wait forever."""
    if _comm is not None and _comm.Get_size() > 1:
        _abort_now(_comm, code)


def _install_abort_hook(comm) -> None:
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.excepthook

    def abort_on_uncaught_exception(exc_type, exc, tb):
        try:
            sys.stderr.write(f"lamina.distributed: uncaught {exc_type.__name__}: {exc} on rank "
                             f"{comm.Get_rank()} of {comm.Get_size()}; aborting every rank\n")
            try:
                previous(exc_type, exc, tb)
            except Exception:  # a broken hook must not stop the abort
                traceback.print_exception(exc_type, exc, tb)
        finally:
            _abort_now(comm, 1)

    sys.excepthook = abort_on_uncaught_exception
    _hook_installed = True

"""How many threads NumPy's BLAS uses: a run records it, and a resume compares.

A matrix product's sums are split between BLAS threads, and how they are split (and so how
the float32 sums round) can depend on the number of threads. A run resumed with another
thread count therefore may not continue bitwise as the uninterrupted run would. Making every
reduction independent of the thread count would mean single-threaded (or lamina's own,
much slower) matrix products; instead ``lamina train`` records the count in ``config.json``
(``blas_threads``) and ``--resume`` warns when it differs.
"""
from __future__ import annotations

import os

__all__ = ["blas_threads", "THREAD_VARIABLES"]

# The variables the common BLAS libraries read, in the order OpenBLAS and MKL honour them
# (their own variable first, then OpenMP's).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses now: as threadpoolctl reports it when that is
    installed (the truth, also after ``threadpool_limits``), else from the first of
    ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OMP_NUM_THREADS`` that is set, else the
    number of CPUs this process may use (the libraries' default)."""
    try:
        from threadpoolctl import threadpool_info  # optional dependency
    except ImportError:
        pass
    else:
        counts = [int(info["num_threads"]) for info in threadpool_info()
                  if info.get("user_api") == "blas" and info.get("num_threads")]
        if counts:
            return max(counts)
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "").split(",")[0].strip()  # OpenMP allows "4,2"
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _cpu_count()

"""Shared test configuration: one BLAS thread, a fixed seed for every test.

OpenBLAS's worker threads spin while they wait; when the cores are shared (subprocess tests,
two MPI ranks, a busy CI machine) a small matrix product can take 100x longer. The tests
measure correctness, not speed, so they run BLAS on one thread, in this process (threadpoolctl)
and in every subprocess they start (the environment variables, read when NumPy loads).
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lamina as lm  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with the test extras
    threadpool_limits = None
else:
    threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(autouse=True)
def _seed():
    lm.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

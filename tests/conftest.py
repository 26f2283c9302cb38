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


@pytest.fixture(params=["checking", "cupy"])
def cuda(request):
    """The name 'cuda', backed by the checking array module (every machine) or by CuPy on a
    real GPU (skipped, with the reason, where there is none). Within the test,
    ``device="cuda"`` tensors live on that backend."""
    from lamina.backend import cuda_backend, use_cuda_backend
    from tests.checking_array import CheckingBackend

    if request.param == "checking":
        with use_cuda_backend(CheckingBackend()):
            yield "cuda"
    else:
        if cuda_backend() is None:
            pytest.skip("CuPy with a CUDA device is not available on this machine")
        yield "cuda"


@pytest.fixture
def checking_cuda():
    """'cuda' backed by the checking array module only (tests of the seam itself)."""
    from lamina.backend import use_cuda_backend
    from tests.checking_array import CheckingBackend

    with use_cuda_backend(CheckingBackend()) as backend:
        yield backend

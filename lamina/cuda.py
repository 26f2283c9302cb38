"""``lamina.cuda``: PyTorch's ``torch.cuda`` queries and controls, answered by the CUDA backend.

Where CuPy and an NVIDIA GPU exist (``pip install 'lamina[cuda]'``), these report and control
the devices through :mod:`lamina.backend`. Elsewhere they behave exactly as PyTorch's CPU
build does: ``is_available()`` is False and ``device_count()`` is 0, seeding and cache calls do
nothing, and calls that need a GPU raise the AssertionError-compatible error that
``lm.zeros(3, device="cuda")`` raises. Scripts written as
``device = "cuda" if torch.cuda.is_available() else "cpu"`` therefore run on either.
"""
from __future__ import annotations

from .backend import DeviceUnavailableError, as_device, check_device, cuda_backend

__all__ = ["is_available", "device_count", "is_initialized", "current_device",
           "get_device_name", "synchronize", "manual_seed", "manual_seed_all", "empty_cache",
           "memory_allocated", "max_memory_allocated", "set_device"]

_current = 0


def is_available() -> bool:
    """Whether a CUDA device can be used (CuPy installed and at least one GPU)."""
    return cuda_backend() is not None


def device_count() -> int:
    backend = cuda_backend()
    return 0 if backend is None else backend.device_count()


def is_initialized() -> bool:
    return is_available()


def _index(device) -> int:
    """The CUDA index ``device`` names (None: the current device), checked to exist."""
    if device is None:
        check_device(f"cuda:{_current}")
        return _current
    if isinstance(device, int) and not isinstance(device, bool):
        return check_device(f"cuda:{device}").index
    d = as_device(device)
    if d.type != "cuda":
        raise DeviceUnavailableError(f"expected a CUDA device, got {str(d)!r}")
    return check_device(d).index


def current_device() -> int:
    return _index(None)


def set_device(device) -> None:
    """Make ``device`` the current CUDA device (what 'cuda' without an index means here)."""
    global _current
    _current = _index(device)


def get_device_name(device=None) -> str:
    return cuda_backend_or_raise().device_name(_index(device))


def synchronize(device=None) -> None:
    """Wait for every computation queued on the device (timing GPU code needs this)."""
    cuda_backend_or_raise().synchronize(_index(device))


def manual_seed(seed: int) -> None:
    """Seed the GPUs' generators (dropout masks drawn on a device); nothing to seed without one.
    ``lm.manual_seed`` seeds them too."""
    backend = cuda_backend()
    if backend is not None:
        backend.manual_seed(int(seed))


manual_seed_all = manual_seed


def empty_cache() -> None:
    """Release cached, unused GPU memory to the driver (nothing to release without a GPU)."""
    backend = cuda_backend()
    if backend is not None:
        backend.empty_cache()


def memory_allocated(device=None) -> int:
    """Bytes of device memory held by tensors (0 without a GPU)."""
    backend = cuda_backend()
    return 0 if backend is None else backend.memory_allocated(_index(device))


def max_memory_allocated(device=None) -> int:
    """The peak of :func:`memory_allocated` seen so far (0 without a GPU)."""
    backend = cuda_backend()
    return 0 if backend is None else backend.max_memory_allocated(_index(device))


def cuda_backend_or_raise():
    """The CUDA backend, or the CPU build's error when there is none."""
    _index(None)
    return cuda_backend()

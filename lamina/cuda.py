"""``lamina.cuda``: PyTorch's ``torch.cuda`` queries, answered for this build.

lamina computes on the CPU in this build, so these behave exactly as PyTorch's CPU build
does: ``is_available()`` is False and ``device_count()`` is 0, seeding and cache calls do
nothing, and calls that need a GPU raise the same AssertionError-compatible error that
``lm.zeros(3, device="cuda")`` raises. Scripts written as
``device = "cuda" if torch.cuda.is_available() else "cpu"`` therefore run on the CPU.
"""
from __future__ import annotations

from .backend import DeviceUnavailableError, check_device

__all__ = ["is_available", "device_count", "is_initialized", "current_device",
           "get_device_name", "synchronize", "manual_seed", "manual_seed_all", "empty_cache",
           "memory_allocated", "max_memory_allocated", "set_device"]


def is_available() -> bool:
    """Whether a CUDA device can be used (never in this build)."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def _unavailable():
    check_device("cuda")
    raise DeviceUnavailableError("no CUDA device")  # pragma: no cover (check_device raised)


def current_device() -> int:
    return _unavailable()


def get_device_name(device=None) -> str:
    return _unavailable()


def set_device(device) -> None:
    _unavailable()


def synchronize(device=None) -> None:
    _unavailable()


def manual_seed(seed: int) -> None:
    """Seed the GPU generators: nothing to seed without a GPU (as in PyTorch's CPU build)."""


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: nothing to seed without a GPU."""


def empty_cache() -> None:
    """Release cached GPU memory: there is none."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0

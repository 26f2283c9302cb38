"""``lamina.accelerator``: PyTorch's device-agnostic accelerator queries.

The accelerator is CUDA where :mod:`lamina.cuda` finds a GPU; elsewhere there is none,
``current_accelerator()`` is None and scripts fall back to the CPU.
"""
from __future__ import annotations

from . import cuda
from .backend import device

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    return cuda.is_available()


def device_count() -> int:
    return cuda.device_count()


def current_accelerator(check_available: bool = False):
    """The accelerator's device (``device(type='cuda')``), or None when there is none."""
    return device("cuda") if cuda.is_available() else None

"""``lamina.accelerator``: PyTorch's device-agnostic accelerator queries.

No accelerator is available in this build (see :mod:`lamina.cuda`), so
``current_accelerator()`` is None and scripts fall back to the CPU.
"""
from __future__ import annotations

from . import cuda

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    return cuda.is_available()


def device_count() -> int:
    return cuda.device_count()


def current_accelerator(check_available: bool = False):
    """The accelerator's device, or None when there is none (always None in this build)."""
    return None

"""The array-module seam and devices.

Every operation asks this module which array library holds its inputs (NumPy for the CPU;
CuPy arrays would answer ``cupy``) instead of branching on a device inside the operation. The
rest of lamina therefore writes ``xp = get_array_module(x)`` and uses ``xp.exp``,
``xp.matmul`` and so on.

A :class:`device` names where a tensor's array lives, with PyTorch's spelling
(``lm.device("cpu")``, ``lm.device("cuda", 0)``, ``"cuda:1"``). This build computes on the
CPU; a CUDA device is refused with the error PyTorch's CPU build gives, so the idiom
``device = "cuda" if lm.cuda.is_available() else "cpu"`` picks the CPU.
"""
from __future__ import annotations

import types

import numpy as np

from .errors import LaminaValueError

__all__ = ["get_array_module", "device_of", "as_array", "device", "as_device", "check_device",
           "get_default_device", "set_default_device", "DeviceUnavailableError"]

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class DeviceUnavailableError(LaminaValueError, AssertionError):
    """A device this build cannot compute on was asked for (PyTorch's CPU build raises an
    AssertionError, "Torch not compiled with CUDA enabled"; this error is both that and a
    LaminaValueError)."""


class device:
    """Where a tensor lives: ``device(type, index=None)`` or ``device("cuda:0")``.

    ``str(device("cuda", 0)) == "cuda:0"``; ``device("cpu").index is None``. Comparisons are
    between devices (``device("cpu") == "cpu"`` is False, as in PyTorch).
    """

    __slots__ = ("type", "index", "_previous")

    def __init__(self, type, index: int | None = None) -> None:  # noqa: A002 (PyTorch's name)
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise LaminaValueError(f"device expects a string such as 'cpu' or 'cuda:0', got {type!r}")
        elif ":" in type:
            kind, _, number = type.partition(":")
            if index is not None or not number.isdigit():
                raise LaminaValueError(f"invalid device string {type!r} (expected e.g. 'cuda:0')")
            type, index = kind, int(number)
        if type not in _DEVICE_TYPES:
            raise LaminaValueError(
                f"unknown device type {type!r} (expected one of {', '.join(_DEVICE_TYPES)})")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise LaminaValueError(f"device index must be a non-negative integer, got {index!r}")
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self):
        global _default_device
        self._previous = _default_device
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        set_default_device(self._previous)


CPU = device("cpu")
_default_device = CPU


def as_device(value) -> device:
    """``value`` (a device, a string such as 'cuda:0', or an int meaning a CUDA index) as a
    device; None means the default device."""
    if value is None:
        return _default_device
    if isinstance(value, device):
        return value
    return device(value)


def check_device(value) -> device:
    """The device named by ``value`` if this build can compute on it, else the error PyTorch's
    CPU build gives (``DeviceUnavailableError``, an AssertionError)."""
    d = as_device(value)
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        raise LaminaValueError("the 'meta' device (shapes without data) is not supported by lamina")
    raise DeviceUnavailableError(
        f"device {str(d)!r} is not available: lamina computes on the CPU in this build "
        f"(lamina.cuda.is_available() is False); use 'cpu'")


def get_default_device() -> device:
    """The device creation functions use when none is given ('cpu')."""
    return _default_device


def set_default_device(device) -> None:
    """Make ``device`` the device of new tensors (only devices this build has are accepted)."""
    global _default_device
    _default_device = CPU if device is None else check_device(device)


def get_array_module(*arrays) -> types.ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that owns ``arrays``.

    NumPy is the answer unless one of the arrays is a CuPy array; CuPy is imported only
    then, so NumPy-only installs never touch it.
    """
    for a in arrays:
        module = type(a).__module__
        if module.startswith("cupy"):
            import cupy  # optional dependency, imported only when a CuPy array appears

            return cupy
    return np


def device_of(array) -> device:
    """The device holding ``array``: the CPU for NumPy arrays, 'cuda:N' for CuPy arrays."""
    if type(array).__module__.startswith("cupy"):
        return device("cuda", array.device.id)
    return CPU


def as_array(value, dtype=None):
    """Convert ``value`` to an array of the module that already holds it (NumPy by default)."""
    xp = get_array_module(value)
    return xp.asarray(value, dtype=dtype)

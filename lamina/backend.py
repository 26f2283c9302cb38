"""The array-module seam and devices.

Every operation asks this module which array library holds its inputs instead of branching
on a device inside the operation: ``xp = get_array_module(x)`` is NumPy for arrays on the
CPU and CuPy for arrays on a CUDA device, and the operation writes ``xp.exp``,
``xp.matmul`` and so on. This module and :mod:`lamina.array_backends` (where the backends
themselves live) are the only places that know CuPy exists; CuPy is imported lazily, the
first time a CUDA device is asked about, so NumPy-only installs never touch it.

A :class:`device` names where a tensor's array lives, with PyTorch's spelling
(``lm.device("cpu")``, ``lm.device("cuda", 0)``, ``"cuda:1"``). What a CUDA device needs of
its array library is an :class:`ArrayBackend`: the module, its array type, and moving arrays
between host and device. :class:`CupyBackend` is the real one (``pip install 'lamina[cuda]'``);
:func:`use_cuda_backend` stands another in for it (lamina's tests run the operation tables
through a checking module that refuses every silent conversion to NumPy, as CuPy does). Where
neither exists, a CUDA device is refused with the error PyTorch's CPU build gives, so the
idiom ``device = "cuda" if lm.cuda.is_available() else "cpu"`` picks the CPU.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np

from .array_backends import ArrayBackend, CupyBackend
from .errors import LaminaValueError

__all__ = ["get_array_module", "device_of", "as_array", "device", "as_device", "check_device",
           "get_default_device", "set_default_device", "DeviceUnavailableError", "to_device",
           "to_host", "ArrayBackend", "CupyBackend", "cuda_backend", "use_cuda_backend",
           "same_device", "unify_devices", "uniform", "on_device_of", "seed_devices"]

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")
_ndarray = np.ndarray


class DeviceUnavailableError(LaminaValueError, AssertionError):
    """A device this installation cannot compute on was asked for (PyTorch's CPU build raises
    an AssertionError, "Torch not compiled with CUDA enabled"; this error is both that and a
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
        self._previous = _default_device
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        set_default_device(self._previous)


CPU = device("cpu")
_default_device = CPU


# ------------------------------------------------------------------- the CUDA backend in use
_override: ArrayBackend | None = None   # a backend standing in for CuPy (use_cuda_backend)
_probed: ArrayBackend | None = None     # CuPy, once found with at least one device
_probe_done = False
_by_type: dict = {}                     # array type -> backend, for get_array_module
_device_seed: int | None = None         # the last lm.manual_seed, for a backend found later


def _register(backend: ArrayBackend | None) -> ArrayBackend | None:
    if backend is not None:
        _by_type[backend.array_type] = backend
    return backend


def cuda_backend() -> ArrayBackend | None:
    """The backend that computes on CUDA devices, or None where there is none (CuPy is not
    installed, or it finds no device). CuPy is looked for once, the first time."""
    global _probed, _probe_done
    if _override is not None:
        return _override
    if not _probe_done:
        _probe_done = True
        try:
            candidate = CupyBackend()
        except ImportError:
            candidate = None
        if candidate is not None and candidate.device_count() > 0:
            _probed = _register(candidate)
            if _device_seed is not None:
                _probed.manual_seed(_device_seed)
    return _probed


def seed_devices(seed: int) -> None:
    """Seed the CUDA devices' generators (``lm.manual_seed`` calls this): now if the backend
    is already in use, else when it is first found (so seeding never imports CuPy)."""
    global _device_seed
    _device_seed = seed
    backend = _override if _override is not None else _probed
    if backend is not None:
        backend.manual_seed(seed)


@contextlib.contextmanager
def use_cuda_backend(backend: ArrayBackend):
    """Within the block, ``backend`` is the CUDA backend (lamina's tests stand a checking
    module in for CuPy this way, so ``device="cuda"`` runs end to end on any machine)."""
    global _override
    previous = _override
    _override = _register(backend)
    if _device_seed is not None:
        backend.manual_seed(_device_seed)
    try:
        yield backend
    finally:
        _override = previous
        if previous is None and _by_type.get(backend.array_type) is backend and backend is not _probed:
            del _by_type[backend.array_type]


def _require_cuda(d: device) -> ArrayBackend:
    backend = cuda_backend()
    if backend is None:
        raise DeviceUnavailableError(
            f"device {str(d)!r} is not available: lamina.cuda.is_available() is False (no CuPy "
            f"with a CUDA device; install with pip install 'lamina[cuda]' on a machine with an "
            f"NVIDIA GPU); use 'cpu'")
    count = backend.device_count()
    if d.index is not None and d.index >= count:
        raise DeviceUnavailableError(
            f"device {str(d)!r} is not available: there {'is' if count == 1 else 'are'} "
            f"{count} CUDA device{'' if count == 1 else 's'} (indices 0 to {count - 1})")
    return backend


def as_device(value) -> device:
    """``value`` (a device, a string such as 'cuda:0', or an int meaning a CUDA index) as a
    device; None means the default device."""
    if value is None:
        return _default_device
    if isinstance(value, device):
        return value
    return device(value)


def check_device(value) -> device:
    """The device named by ``value`` if lamina can compute on it here ('cuda' means 'cuda:0'),
    else the error PyTorch's CPU build gives (``DeviceUnavailableError``, an AssertionError)."""
    d = as_device(value)
    if d.type == "cpu":
        return CPU
    if d.type == "cuda":
        _require_cuda(d)
        return d if d.index is not None else device("cuda", 0)
    if d.type == "meta":
        raise LaminaValueError("the 'meta' device (shapes without data) is not supported by lamina")
    raise DeviceUnavailableError(
        f"device {str(d)!r} is not available: lamina computes on the CPU and on CUDA devices")


def get_default_device() -> device:
    """The device creation functions use when none is given ('cpu' unless set)."""
    return _default_device


def set_default_device(device) -> None:
    """Make ``device`` the device of new tensors (only devices lamina can use here)."""
    global _default_device
    _default_device = CPU if device is None else check_device(device)


# ------------------------------------------------------------------- arrays and devices
def _backend_of(array) -> ArrayBackend | None:
    t = type(array)
    if t is _ndarray:
        return None
    backend = _by_type.get(t)
    if backend is None and t.__module__.startswith("cupy"):
        backend = cuda_backend()   # a CuPy array made outside lamina: find CuPy now
    return backend


def get_array_module(*arrays) -> types.ModuleType:
    """Return the array module (``numpy``, or the CUDA backend's: ``cupy``) that owns ``arrays``.

    NumPy is the answer unless one of the arrays is a device array; Python numbers and NumPy
    scalars do not decide.
    """
    for a in arrays:
        if type(a) is _ndarray:
            continue
        backend = _backend_of(a)
        if backend is not None:
            return backend.module
    return np


def device_of(array) -> device:
    """The device holding ``array``: the CPU for NumPy arrays, 'cuda:N' for device arrays."""
    backend = _backend_of(array)
    if backend is None:
        return CPU
    return device("cuda", backend.index_of(array))


def same_device(arrays, what: str) -> None:
    """Raise unless every array of ``arrays`` is on one device (PyTorch's message names both)."""
    first = device_of(arrays[0])
    for a in arrays[1:]:
        d = device_of(a)
        if d != first:
            raise LaminaValueError(
                f"{what}: expected all tensors to be on the same device, but found at least "
                f"two devices, {first} and {d}")


def unify_devices(arrays: tuple, what: str) -> tuple:
    """``arrays`` on one device: a 0-d CPU array next to device arrays is copied to their device
    (PyTorch treats 0-d CPU tensors as scalars); any other mix raises, naming both devices."""
    devices = [device_of(a) for a in arrays]
    target = next((d for d in devices if d.type != "cpu"), CPU)
    moved = []
    for a, d in zip(arrays, devices):
        if d != target:
            if d.type != "cpu" or a.ndim != 0:
                raise LaminaValueError(
                    f"{what}: expected all tensors to be on the same device, but found at least "
                    f"two devices, {target} and {d}")
            a = to_device(a, target)
        moved.append(a)
    return tuple(moved)


def to_host(array) -> np.ndarray:
    """``array`` as a NumPy array (copied from a device; returned as is when on the CPU)."""
    backend = _backend_of(array)
    if backend is None:
        return array if isinstance(array, (np.ndarray, np.generic)) else np.asarray(array)
    return backend.to_host(array)


def to_device(array, target) -> object:
    """``array`` on device ``target`` (a device or its name): returned as is when already
    there, else copied."""
    d = check_device(target)
    if d.type == "cpu":
        return to_host(array)
    backend = _require_cuda(d)
    if type(array) is backend.array_type and backend.index_of(array) == d.index:
        return array
    source = _backend_of(array)
    if source is not None and source is not backend:
        array = source.to_host(array)
    return backend.to_device(array, d.index)


def uniform(shape: tuple, dtype, like, generator):
    """Uniform [0, 1) numbers of ``shape`` on the device of ``like``, determined by
    ``generator`` (a NumPy Generator, e.g. lamina's global one): drawn from it on the CPU; on a
    CUDA device, drawn there by a generator seeded with one number drawn from it. Either way
    the draws follow lamina's seed, and a checkpoint (which stores the host generator's
    state) resumes them exactly; the CPU and a GPU draw different numbers."""
    backend = _backend_of(like)
    if backend is None:
        return generator.random(shape, dtype=dtype)
    seed = int(generator.integers(0, 2**63))
    return backend.uniform(shape, dtype, backend.index_of(like), seed)


def as_array(value, dtype=None):
    """Convert ``value`` to an array of the module that already holds it (NumPy by default)."""
    xp = get_array_module(value)
    return xp.asarray(value, dtype=dtype)


def on_device_of(value, reference):
    """``value`` (an array, or a Python or NumPy number) on the device of array ``reference``:
    numbers are returned unchanged, arrays already of ``reference``'s kind too."""
    if type(value) is type(reference) or not hasattr(value, "shape"):
        return value
    return to_device(value, device_of(reference))

"""What lamina needs of a CUDA device's array library, and the real one: CuPy.

:class:`ArrayBackend` is the interface: the NumPy-compatible module (``cupy``), the class of
its arrays, and moving arrays between the host and a device, reporting devices and memory,
synchronising, and drawing uniform random numbers on a device. :class:`CupyBackend`
implements it with CuPy (``pip install 'lamina[cuda]'``), imported only when it is built.
Which backend is in use, and the device bookkeeping around it, is :mod:`lamina.backend`'s.
"""
from __future__ import annotations

import abc
import types

import numpy as np

__all__ = ["ArrayBackend", "CupyBackend"]


class ArrayBackend(abc.ABC):
    """What lamina needs of a CUDA device's array library.

    ``module`` is the NumPy-compatible module (``cupy``); ``array_type`` the class of its
    arrays. The methods move arrays between the host (NumPy) and device ``index``, report
    devices and memory, and draw uniform random numbers on a device.
    """

    name = "cuda"
    module: types.ModuleType
    array_type: type

    @abc.abstractmethod
    def device_count(self) -> int:
        """How many devices this backend sees."""

    @abc.abstractmethod
    def index_of(self, array) -> int:
        """The device index holding ``array``."""

    @abc.abstractmethod
    def to_device(self, array, index: int):
        """``array`` (a NumPy array, or one of this backend's arrays) on device ``index``."""

    @abc.abstractmethod
    def to_host(self, array) -> np.ndarray:
        """A NumPy copy of one of this backend's arrays."""

    def synchronize(self, index: int) -> None:
        """Wait until every queued computation on device ``index`` has finished."""

    def manual_seed(self, seed: int) -> None:
        """Seed every device's random generator."""

    @abc.abstractmethod
    def uniform(self, shape: tuple, dtype, index: int, seed: int):
        """Uniform [0, 1) numbers of ``shape`` and ``dtype`` drawn on device ``index`` by a
        generator that ``seed`` alone determines."""

    def device_name(self, index: int) -> str:
        return f"cuda:{index}"

    def memory_allocated(self, index: int) -> int:
        return 0

    def max_memory_allocated(self, index: int) -> int:
        return 0

    def empty_cache(self) -> None:
        """Return cached, unused device memory to the driver."""


class CupyBackend(ArrayBackend):
    """The CUDA backend: CuPy (``pip install 'lamina[cuda]'``, which brings ``cupy-cuda12x``)."""

    def __init__(self) -> None:
        import cupy  # optional dependency: imported only when a CUDA device is asked about

        self.module = cupy
        self.array_type = cupy.ndarray
        self._peak: dict[int, int] = {}
        self._philox: dict = {}

    def device_count(self) -> int:
        try:
            return int(self.module.cuda.runtime.getDeviceCount())
        except Exception:  # no driver, or no device: CuPy raises its CUDARuntimeError
            return 0

    def index_of(self, array) -> int:
        return int(array.device.id)

    def to_device(self, array, index: int):
        with self.module.cuda.Device(index):
            return self.module.asarray(array)

    def to_host(self, array) -> np.ndarray:
        return self.module.asnumpy(array)

    def synchronize(self, index: int) -> None:
        with self.module.cuda.Device(index):
            self.module.cuda.runtime.deviceSynchronize()

    def manual_seed(self, seed: int) -> None:
        for index in range(self.device_count()):
            with self.module.cuda.Device(index):
                self.module.random.seed(seed % 2**32)

    def uniform(self, shape: tuple, dtype, index: int, seed: int):
        # Philox is counter-based: reseeding it costs nothing, so every draw has its own seed
        with self.module.cuda.Device(index):
            generator = self._philox.get(index)
            if generator is None:
                from cupy.cuda import curand

                generator = self._philox[index] = self.module.random.RandomState(
                    seed, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
            else:
                generator.seed(seed)
            return generator.random_sample(shape, dtype=dtype)

    def device_name(self, index: int) -> str:
        name = self.module.cuda.runtime.getDeviceProperties(index)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def memory_allocated(self, index: int) -> int:
        used = int(self.module.get_default_memory_pool().used_bytes())
        self._peak[index] = max(self._peak.get(index, 0), used)
        return used

    def max_memory_allocated(self, index: int) -> int:
        self.memory_allocated(index)
        return self._peak.get(index, 0)

    def empty_cache(self) -> None:
        self.module.get_default_memory_pool().free_all_blocks()

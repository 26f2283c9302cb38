"""Random-number generators: :class:`Generator` objects and the global one behind every
random function in lamina, with PyTorch's seeding semantics.

A :class:`Generator` (PyTorch's ``torch.Generator``) wraps a NumPy ``Generator`` on the
PCG64 bit generator; ``Generator().manual_seed(n)`` makes its stream a pure function of
``n``. The global generator, :data:`default_generator`, is what initialisation, dropout
masks, shuffling and augmentation draw from when no generator is given:

- a process that never calls :func:`manual_seed` starts from a fresh seed drawn from the
  operating system's entropy at import, as PyTorch does, so two runs differ;
  :func:`initial_seed` tells which seed is in force;
- ``manual_seed(n)`` reseeds it (same ``n``, same draws) and returns it;
- ``seed()`` reseeds it from fresh entropy and returns the new seed.

Reseeding happens in place: code that holds the global generator (or the NumPy generator
behind it, :func:`generator`) sees the new seed, never a stale object. There is one global
generator per process, shared by every thread, as PyTorch's CPU default generator is (grad
mode, by contrast, is per thread); threads that need their own streams pass their own
:class:`Generator`.

>>> g = lm.Generator().manual_seed(0)
>>> lm.rand(3, generator=g)            # the same three numbers every time
>>> lm.manual_seed(0) is lm.default_generator
True

Difference from PyTorch: :func:`get_rng_state` returns the NumPy bit generator's state as a
dict (JSON-friendly, stored in lamina's checkpoints), not a ByteTensor;
:meth:`Generator.get_state` does return a uint8 tensor, as PyTorch's does. Both setters
accept either form.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import numpy as np

from .autograd.tensor import Tensor
from .backend import check_device, seed_devices
from .errors import LaminaTypeError, LaminaValueError

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "generator"]

_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator(), before manual_seed
_SEED_LIMIT = 2**64             # seeds are unsigned 64-bit; negatives wrap modulo 2**64
_STATE_BYTES = 56               # state, inc (16 bytes each), has_uint32, uinteger, seed (8 each)


def _entropy_seed() -> int:
    """A fresh, non-deterministic 64-bit seed from the operating system."""
    return int.from_bytes(os.urandom(8), "little")


def _check_seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise LaminaTypeError(f"manual_seed expects an integer seed, got {value!r}")
    value = int(value)
    if not -(2**63) <= value < _SEED_LIMIT:
        raise LaminaValueError(f"a seed must lie in [-2**63, 2**64 - 1], got {value}")
    return value % _SEED_LIMIT


class Generator:
    """A random-number generator: PyTorch's ``torch.Generator(device='cpu')``.

    A new generator has PyTorch's default seed (67280421310721) until :meth:`manual_seed`
    or :meth:`seed` is called. Pass it as ``generator=`` to the random creation functions,
    samplers, :func:`~lamina.utils.data.random_split` and the
    :class:`~lamina.utils.data.DataLoader`; :meth:`numpy_generator` gives the NumPy
    ``Generator`` that does the drawing.

    >>> g = Generator().manual_seed(42)
    >>> g.initial_seed()
    42
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = check_device(device)
        self._initial_seed = _DEFAULT_SEED
        self._numpy = np.random.Generator(np.random.PCG64(_DEFAULT_SEED))

    def manual_seed(self, seed: int) -> "Generator":
        """Reseed: the stream becomes a pure function of ``seed`` (negatives wrap modulo
        2**64, as in PyTorch). Returns ``self``."""
        value = _check_seed(seed)
        # In place, so that a NumPy generator handed out earlier follows the new seed.
        self._numpy.bit_generator.state = np.random.PCG64(value).state
        self._initial_seed = value
        return self

    def seed(self) -> int:
        """Reseed from fresh operating-system entropy; returns the new seed."""
        value = _entropy_seed()
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with."""
        return self._initial_seed

    def numpy_generator(self) -> np.random.Generator:
        """The NumPy ``Generator`` this generator draws with (the same object for the
        generator's lifetime; reseeding changes its state in place)."""
        return self._numpy

    def get_state(self):
        """The full state as a uint8 tensor of 56 bytes (PyTorch returns a ByteTensor too):
        the PCG64 state and increment, the cached half-word, and the initial seed."""
        state = self._numpy.bit_generator.state
        raw = b"".join([state["state"]["state"].to_bytes(16, "little"),
                        state["state"]["inc"].to_bytes(16, "little"),
                        int(state["has_uint32"]).to_bytes(8, "little"),
                        int(state["uinteger"]).to_bytes(8, "little"),
                        self._initial_seed.to_bytes(8, "little")])
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Restore a state from :meth:`get_state` (a uint8 tensor) or :func:`get_rng_state`
        (a dict). Returns ``self``."""
        if isinstance(new_state, dict):
            _set_numpy_state(self._numpy, new_state)
            return self
        raw = np.asarray(getattr(new_state, "_data", new_state))
        if raw.dtype != np.uint8 or raw.shape != (_STATE_BYTES,):
            raise LaminaValueError(f"a Generator state is a uint8 tensor of {_STATE_BYTES} "
                                   f"bytes (from get_state()), got dtype {raw.dtype} and shape "
                                   f"{tuple(raw.shape)}")
        raw = raw.tobytes()
        fields = [int.from_bytes(raw[a:b], "little")
                  for a, b in ((0, 16), (16, 32), (32, 40), (40, 48), (48, 56))]
        _set_numpy_state(self._numpy, {"bit_generator": "PCG64",
                                       "state": {"state": fields[0], "inc": fields[1]},
                                       "has_uint32": fields[2], "uinteger": fields[3]})
        self._initial_seed = fields[4]
        return self

    def _seed_sequence(self, entropy: list[int]) -> "Generator":
        # Internal: seed from several integers at once (the DataLoader's (seed, epoch)).
        self._numpy.bit_generator.state = np.random.PCG64(entropy).state
        return self

    def __repr__(self) -> str:
        return f"<lamina.Generator device='{self.device}' initial_seed={self._initial_seed}>"


def _set_numpy_state(numpy_generator: np.random.Generator, state: dict) -> None:
    try:
        numpy_generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise LaminaValueError(f"not a PCG64 generator state ({exc}): {state!r}") from None


default_generator = Generator()
default_generator.seed()  # an unseeded process gets a fresh seed, as in PyTorch


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator (every random function of lamina draws from it) and
    return it: ``manual_seed(n)`` makes a run reproducible. The CUDA devices' generators (dropout
    masks drawn on a GPU) are seeded with ``n`` too, as in PyTorch."""
    generator = default_generator.manual_seed(seed)
    seed_devices(generator.initial_seed())
    return generator


def seed() -> int:
    """Reseed the global generator from fresh entropy; returns the new seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed of the global generator: the one drawn at import, or the last one set."""
    return default_generator.initial_seed()


def generator() -> np.random.Generator:
    """The NumPy generator behind the global generator (lamina's internal draws use it)."""
    return default_generator.numpy_generator()


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the global generator's state (a dict, where PyTorch
    returns a ByteTensor; checkpoints store it)."""
    return default_generator.numpy_generator().bit_generator.state


def set_rng_state(new_state) -> None:
    """Restore a state captured by :func:`get_rng_state` (or a :meth:`Generator.get_state`
    tensor)."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Within the block, random draws may change the global generator freely; on exit its
    state (and initial seed) are restored. ``devices`` and ``device_type`` concern GPU
    generators, which this build does not have."""
    if not enabled:
        yield
        return
    saved = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(saved)


def numpy_generator_of(source: Any) -> np.random.Generator:
    """The NumPy generator to draw with for a ``generator=`` argument: the global one for
    None, the one inside a :class:`Generator`, or a NumPy ``Generator`` itself."""
    if source is None:
        return generator()
    if isinstance(source, Generator):
        return source.numpy_generator()
    if isinstance(source, np.random.Generator):
        return source
    raise LaminaTypeError(f"generator must be a lamina.Generator, a numpy.random.Generator or "
                          f"None, got {type(source).__name__}")

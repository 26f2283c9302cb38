"""The global random-number generator behind every random function in lamina.

``manual_seed(n)`` resets it, so initialisation, dropout masks, shuffling and augmentation
are reproducible; ``get_rng_state``/``set_rng_state`` let checkpoints resume exactly.
"""
from __future__ import annotations

import numpy as np

from .errors import LaminaTypeError

__all__ = ["manual_seed", "generator", "get_rng_state", "set_rng_state", "seed"]

_generator = np.random.Generator(np.random.PCG64(0))


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator; every random function of lamina draws from it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise LaminaTypeError(f"manual_seed expects an integer seed, got {seed!r}")
    _generator = np.random.Generator(np.random.PCG64(int(seed)))
    return _generator


seed = manual_seed


def generator() -> np.random.Generator:
    """The current global generator."""
    return _generator


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the global generator's state."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state captured by :func:`get_rng_state`."""
    _generator.bit_generator.state = state

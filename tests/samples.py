"""Sample inputs for the tests: the same seed gives the same array on every run.

Each random builder draws from a fresh ``np.random.default_rng(seed)``, so a test's inputs
depend on its own seed only, not on what ran before it.
"""
from __future__ import annotations

import numpy as np


def randn(shape, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Standard normal draws of ``shape`` in ``dtype`` (drawn in float64, then cast)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def rand(shape, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Uniform draws in [0, 1) of ``shape``, drawn directly in ``dtype`` (float32 or float64)."""
    return np.random.default_rng(seed).random(shape, dtype=dtype)


def images(n: int, channels: int, side: int, seed: int = 0) -> np.ndarray:
    """A float32 batch of ``n`` square standard-normal images, shape (n, channels, side, side)."""
    return randn((n, channels, side, side), seed)


def ramp(shape, dtype=np.float32, low: float = 0.5, high: float = 1.5) -> np.ndarray:
    """``low`` ... ``high`` evenly spaced in row-major order over ``shape``: a weighting that
    gives every element a different, positive weight (a deterministic cotangent)."""
    size = int(np.prod(shape, dtype=np.int64))
    return np.linspace(low, high, size).reshape(shape).astype(dtype)

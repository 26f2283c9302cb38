"""``lamina.backends``: PyTorch's backend switches that scripts set or query.

``lamina.backends.mps.is_available()`` and ``lamina.backends.cudnn.is_available()`` are False
(lamina computes on the CPU in this build). ``cudnn.deterministic`` and ``cudnn.benchmark``
may be set, as scripts do for reproducibility; lamina's CPU arithmetic is deterministic
either way, so they change nothing.
"""
from __future__ import annotations

import types

__all__ = ["mps", "cudnn", "cuda"]


def _false() -> bool:
    return False


mps = types.SimpleNamespace(is_available=_false, is_built=_false)
cudnn = types.SimpleNamespace(is_available=_false, enabled=True, deterministic=False,
                              benchmark=False, allow_tf32=True)
cuda = types.SimpleNamespace(is_built=_false, matmul=types.SimpleNamespace(allow_tf32=False))

"""Neural-network building blocks with PyTorch's API: ``import lamina.nn as nn``.

``Module`` and ``Parameter``, the containers, the layers, the losses, and the sub-modules
``functional`` (``F``), ``init`` and ``utils``. A model written for PyTorch runs on lamina
with only its imports changed, and ``state_dict`` keys, shapes and layouts are PyTorch's,
so weights move both ways through ``load_state_dict``.
"""
from . import functional, init, layers, losses, utils
from .containers import ModuleDict, ModuleList, Sequential
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .module import Module, ModuleAttributeError, Parameter

__all__ = (["Module", "Parameter", "ModuleAttributeError", "Sequential", "ModuleList",
            "ModuleDict", "functional", "init", "utils"]
           + layers.__all__ + [n for n in losses.__all__ if n[:1].isupper()])

"""Where training computes: the run's device, and moving batches to the model.

A run names its device (``lamina train --device cuda``; by default 'cuda' where
:func:`lamina.cuda.is_available`, else 'cpu'). The model is built on the host, so one seed
gives the same initial weights on every device, and then moved; each batch the data loader
yields on the host is copied to the model's device as the step begins.
"""
from __future__ import annotations

from .. import cuda
from ..backend import CPU, check_device

__all__ = ["resolve_device", "model_device", "to_model_device"]


def resolve_device(name) -> str:
    """The device a run uses: ``name`` checked to exist here, or the default when None."""
    if name is None:
        return "cuda" if cuda.is_available() else "cpu"
    return str(check_device(name))


def model_device(model):
    """The device of ``model``'s first parameter (the CPU for a model without any)."""
    for p in model.parameters():
        return p.device
    return CPU


def to_model_device(batch, device):
    """``batch`` (a tensor, or a tuple/list of them) on ``device``."""
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_model_device(b, device) for b in batch)
    return batch.to(device) if hasattr(batch, "to") and batch.device != device else batch

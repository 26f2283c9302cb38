"""PyTorch's own files for :func:`lamina.save` and :func:`lamina.load`: ``.pth`` and ``.pt``.

When PyTorch is installed, a ``.pth``/``.pt`` path is written by ``torch.save`` (the object's
tensors as torch tensors), and a zip archive (what ``torch.save`` writes) is read by
``torch.load(weights_only=True)``, PyTorch's loader that refuses anything but tensors and
plain containers; its torch tensors become lamina Tensors. lamina itself never unpickles.
"""
from __future__ import annotations

import io
import sys

import numpy as np

from .autograd.tensor import Tensor
from .errors import FileFormatError, LaminaTypeError
from .serialization_tree import _decode, _Encoder

_TORCH_SUFFIXES = (".pth", ".pt")
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's archives are zip files


def _real_torch():
    """PyTorch's module when it is installed, else None; also None where ``import torch``
    gives lamina itself (a program run with lamina standing in for torch)."""
    try:
        import torch
    except ImportError:
        return None
    if torch is sys.modules.get(__package__) or not hasattr(torch, "_C"):
        return None
    return torch


def _torch_bytes(tree, arrays: dict, torch) -> bytes:
    """``torch.save``'s bytes for the object that ``tree`` describes, its arrays as torch
    tensors (copies: torch.save then owns what it writes)."""
    try:
        tensors = {name: torch.from_numpy(np.array(array, copy=True))
                   for name, array in arrays.items()}
    except TypeError as exc:
        raise LaminaTypeError(f"lm.save: PyTorch cannot hold one of the arrays: {exc}") from None
    buffer = io.BytesIO()
    torch.save(_decode(tree, tensors), buffer)
    return buffer.getvalue()


def _from_torch(obj, torch, label: str, path: tuple = ()):
    """What ``torch.load`` gave, with lamina Tensors in place of torch tensors (bfloat16
    widened exactly to float32, as NumPy has no bfloat16)."""
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        try:
            array = np.array(tensor.numpy(), copy=True)
        except (TypeError, RuntimeError) as exc:
            raise FileFormatError(f"{label}: the tensor at {_Encoder._where(path)} cannot be "
                                  f"read into NumPy ({exc})") from None
        if array.dtype.kind not in "biuf":
            raise FileFormatError(f"{label}: the tensor at {_Encoder._where(path)} has dtype "
                                  f"{array.dtype}, which lamina cannot represent")
        return Tensor._wrap(array)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {k: _from_torch(v, torch, label, path + (k,)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):  # torch.Size is a tuple
        items = [_from_torch(v, torch, label, path + (i,)) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise FileFormatError(f"{label} holds a {type(obj).__name__} at {_Encoder._where(path)}; "
                          "lamina loads tensors, numbers, strings, bools, None, and dicts, lists "
                          "and tuples of them")


def _load_torch_file(source, label: str, torch):
    """A zip archive (what ``torch.save`` writes), read by ``torch.load(weights_only=True)``;
    ``torch`` is PyTorch's module (:func:`_real_torch`), or None where it is not installed."""
    if torch is None:
        raise FileFormatError(f"{label} is a zip archive, as torch.save writes; reading it needs "
                              "PyTorch (pip install torch), which lamina then asks to load it with "
                              "weights_only=True; lamina itself never unpickles")
    try:
        obj = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's errors for a foreign zip or a refused object
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(f"{label}: torch.load(weights_only=True) cannot read it: "
                              f"{first}") from None
    return _from_torch(obj, torch, label)

